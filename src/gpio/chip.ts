import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EarshotError } from '../shared/errors.js';
import { GPIO_ERRORS } from './errors.js';

/**
 * Maps BCM pin numbers to sysfs GPIO numbers. Older kernels numbered the Pi's main
 * chip from 0, so BCM 17 was gpio17. Since Linux 6.6 gpiolib hands out bases
 * dynamically from 512 down: the header chip sits at 512 on a Pi 4 and at 571 on a
 * Pi 5 (where the header is on the RP1). Profiles therefore name BCM pins, and the
 * base is found by the chip's label each time the daemon starts.
 */

export const DEFAULT_SYSFS_GPIO_ROOT = '/sys/class/gpio';

/** Labels of the chip that carries the 40-pin header, most specific first. */
export const HEADER_CHIP_LABELS = [
  'pinctrl-rp1', // Pi 5
  'pinctrl-bcm2711', // Pi 4, Pi 400, CM4
  'pinctrl-bcm2835', // Pi 1-3, Zero, Zero 2 W
] as const;

export interface GpioChip {
  /** `gpiochip512` */
  name: string;
  label: string;
  base: number;
  ngpio: number;
}

/** Every `gpiochipN` under the sysfs root; an unreadable entry is skipped. */
export function listGpioChips(root = DEFAULT_SYSFS_GPIO_ROOT): GpioChip[] {
  let entries: string[];
  try {
    entries = readdirSync(root).filter((e) => /^gpiochip\d+$/.test(e));
  } catch {
    return [];
  }
  const chips: GpioChip[] = [];
  for (const entry of entries) {
    try {
      const read = (f: string) => readFileSync(join(root, entry, f), 'utf8').trim();
      const base = Number.parseInt(read('base'), 10);
      const ngpio = Number.parseInt(read('ngpio'), 10);
      if (Number.isNaN(base) || Number.isNaN(ngpio)) continue;
      chips.push({ name: entry, label: read('label'), base, ngpio });
    } catch {
      continue;
    }
  }
  return chips.sort((a, b) => a.base - b.base);
}

export interface ChipChoice {
  /** Labels to look for, in order; defaults to HEADER_CHIP_LABELS. */
  labels?: readonly string[] | undefined;
  /** A fixed base, skipping the lookup (boards whose chip has no known label). */
  base?: number | undefined;
}

export interface ResolvedChip {
  base: number;
  /** Lines on the chip; pins at or above it do not exist. Unknown for a fixed base. */
  ngpio?: number;
  label?: string;
}

/** Finds the header chip by label; throws E_GPIO_CHIP_NOT_FOUND naming what was seen. */
export function resolveHeaderChip(
  root = DEFAULT_SYSFS_GPIO_ROOT,
  choice: ChipChoice = {},
): ResolvedChip {
  if (choice.base !== undefined) return { base: choice.base };
  const labels = choice.labels ?? HEADER_CHIP_LABELS;
  const chips = listGpioChips(root);
  for (const label of labels) {
    const chip = chips.find((c) => c.label === label);
    if (chip) return { base: chip.base, ngpio: chip.ngpio, label: chip.label };
  }
  const seen = chips.map((c) => `${c.name} "${c.label}" base ${c.base}`).join('; ');
  throw new EarshotError(
    GPIO_ERRORS.chipNotFound,
    `no GPIO chip labelled ${labels.join(' or ')} under ${root} (found: ${seen || 'none'})`,
    {
      hint: 'set chip.labels or chip.base in the board profile to the chip that carries the header pins',
    },
  );
}

/** BCM pin → sysfs number, checking that the chip has the line. */
export function sysfsNumber(chip: ResolvedChip, bcm: number, role: string): number {
  if (chip.ngpio !== undefined && bcm >= chip.ngpio) {
    throw new EarshotError(
      GPIO_ERRORS.invalidPin,
      `GPIO ${bcm} for ${role} does not exist on ${chip.label ?? 'the chip'} (${chip.ngpio} lines)`,
      { hint: 'check the pin numbers in the board profile (BCM numbers, not header positions)' },
    );
  }
  return chip.base + bcm;
}
