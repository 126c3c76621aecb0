import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { listGpioChips, resolveHeaderChip, sysfsNumber } from '../../src/gpio/chip.js';
import { CHIPS, tempSysfsTree, type FakeChip } from '../helpers/gpio-sysfs-tree.js';

const roots: string[] = [];
afterEach(() => {
  for (const r of roots.splice(0)) rmSync(r, { recursive: true, force: true });
});

function tree(chips: readonly FakeChip[]): string {
  const root = tempSysfsTree(chips);
  roots.push(root);
  return root;
}

describe('GPIO chip offset', () => {
  it('kernels before 6.6: BCM 17 is gpio17', () => {
    const chip = resolveHeaderChip(tree(CHIPS.pi3Legacy));
    expect(chip).toEqual({ base: 0, ngpio: 54, label: 'pinctrl-bcm2835' });
    expect(sysfsNumber(chip, 17, 'button mute')).toBe(17);
  });

  it('Pi 4 on a 6.6+ kernel: base 512', () => {
    const chip = resolveHeaderChip(tree(CHIPS.pi4));
    expect(chip.label).toBe('pinctrl-bcm2711');
    expect(sysfsNumber(chip, 17, 'button mute')).toBe(529);
  });

  it('Pi 5: the RP1 at 571, not the first chip', () => {
    const chip = resolveHeaderChip(tree(CHIPS.pi5));
    expect(chip.label).toBe('pinctrl-rp1');
    expect(sysfsNumber(chip, 17, 'button mute')).toBe(588);
  });

  it('names the chips it saw when none is known', () => {
    const root = tree([{ base: 0, label: 'sunxi-pinctrl', ngpio: 224 }]);
    expect(() => resolveHeaderChip(root)).toThrow(
      expect.objectContaining({
        code: 'E_GPIO_CHIP_NOT_FOUND',
        message: expect.stringContaining('gpiochip0 "sunxi-pinctrl" base 0'),
        hint: expect.stringContaining('chip.labels or chip.base'),
      }),
    );
  });

  it('a profile can name the chip label or fix the base', () => {
    const root = tree([{ base: 32, label: 'sunxi-pinctrl', ngpio: 224 }]);
    expect(resolveHeaderChip(root, { labels: ['sunxi-pinctrl'] }).base).toBe(32);
    expect(resolveHeaderChip(root, { base: 7 })).toEqual({ base: 7 });
  });

  it('skips entries it cannot read and ignores non-chip entries', () => {
    const root = tree(CHIPS.pi4);
    mkdirSync(join(root, 'gpiochip999')); // no files
    mkdirSync(join(root, 'gpio529'));
    writeFileSync(join(root, 'gpiochip998'), 'not a directory');
    expect(listGpioChips(root).map((c) => c.name)).toEqual(['gpiochip512', 'gpiochip570']);
  });

  it('no sysfs root at all is no chips, not a crash', () => {
    expect(listGpioChips('/nonexistent/sys/class/gpio')).toEqual([]);
  });

  it('a pin past the end of the chip is an invalid pin', () => {
    const chip = { base: 571, ngpio: 28, label: 'pinctrl-rp1' };
    expect(() => sysfsNumber(chip, 28, 'LED status')).toThrow(
      expect.objectContaining({ code: 'E_GPIO_PIN_INVALID' }),
    );
  });
});
