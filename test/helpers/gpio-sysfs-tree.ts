import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface FakeChip {
  base: number;
  label: string;
  ngpio: number;
}

/** Chip layouts as the kernels report them. */
export const CHIPS = {
  /** Raspberry Pi OS before kernel 6.6, any Pi up to 3. */
  pi3Legacy: [
    { base: 0, label: 'pinctrl-bcm2835', ngpio: 54 },
    { base: 504, label: 'raspberrypi-exp-gpio', ngpio: 8 },
  ],
  /** Kernel 6.6+ on a Pi 4: dynamic bases from 512. */
  pi4: [
    { base: 512, label: 'pinctrl-bcm2711', ngpio: 58 },
    { base: 570, label: 'raspberrypi-exp-gpio', ngpio: 8 },
  ],
  /** Kernel 6.6+ on a Pi 5: the header is on the RP1, after the SoC's own chips. */
  pi5: [
    { base: 512, label: 'gpio-brcmstb@107d508500', ngpio: 32 },
    { base: 544, label: 'gpio-brcmstb@107d508520', ngpio: 4 },
    { base: 548, label: 'gpio-brcmstb@107d517c00', ngpio: 17 },
    { base: 565, label: 'gpio-brcmstb@107d517c20', ngpio: 6 },
    { base: 571, label: 'pinctrl-rp1', ngpio: 54 },
  ],
} satisfies Record<string, FakeChip[]>;

/** Writes `export`, `unexport` and `gpiochipN/{base,label,ngpio}` under `root`. */
export function writeSysfsTree(root: string, chips: readonly FakeChip[]): void {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, 'export'), '');
  writeFileSync(join(root, 'unexport'), '');
  for (const chip of chips) {
    const dir = join(root, `gpiochip${chip.base}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'base'), `${chip.base}\n`);
    writeFileSync(join(dir, 'label'), `${chip.label}\n`);
    writeFileSync(join(dir, 'ngpio'), `${chip.ngpio}\n`);
  }
}

/** A fresh temporary sysfs GPIO tree; the caller removes it. */
export function tempSysfsTree(chips: readonly FakeChip[]): string {
  const root = mkdtempSync(join(tmpdir(), 'earshot-sysfs-'));
  writeSysfsTree(root, chips);
  return root;
}
