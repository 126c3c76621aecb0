import { beforeAll, describe, expect, it } from 'vitest';
import { distProblem, runScenario, sandboxUnavailable } from '../helpers/gpio-sandbox.js';
import { CHIPS } from '../helpers/gpio-sysfs-tree.js';

/*
 * The onoff backend for real: onoff exports, configures, writes and reads the sysfs
 * files itself, in a private mount namespace whose /sys/class/gpio is a tmpfs that
 * gpio-fake-kernel.ts keeps behaving like the kernel's. The scenarios run the
 * compiled code in dist/ (build first: npx tsc -p tsconfig.build.json).
 *
 * Not covered here: edge interrupts. onoff's `watch` uses epoll on the value file,
 * which needs a kernel GPIO driver; button edges are tested through the port with
 * the simulated backend (test/unit/gpio-buttons.test.ts).
 */

const PROFILE = {
  name: 'sandbox-board',
  leds: {
    listening: { pin: 23 },
    mute: { pin: 24, activeLow: true },
    status: { pin: 25 },
  },
  buttons: { mute: { pin: 5 }, action: { pin: 6 } },
  audio: { capture: 'default', playback: 'default' },
};

const unavailable = sandboxUnavailable();

type Snapshot = Record<string, string>;
type Journal = Array<{ file: string; data: string }>;

function exported(snapshot: Snapshot): string[] {
  return [
    ...new Set(
      Object.keys(snapshot)
        .filter((k) => k.includes('/'))
        .map((k) => k.split('/')[0]!),
    ),
  ];
}

beforeAll(() => {
  const problem = distProblem();
  if (problem) throw new Error(problem);
});

describe.skipIf(unavailable !== undefined)(
  `onoff on a sysfs tree${unavailable ? ` (skipped: ${unavailable})` : ''}`,
  () => {
    it('drives the whole part on a Pi 4 numbering (base 512), and cleans up', async () => {
      const { result } = await runScenario({
        scenario: 'part',
        chips: CHIPS.pi4,
        input: { profile: PROFILE, config: { backend: 'onoff', onUnavailable: 'fail' } },
      });
      expect(result['error']).toBeUndefined();
      expect(result['status']).toEqual({ backend: 'onoff' });
      const snaps = result['snapshots'] as Record<string, Snapshot>;
      const journal = result['journal'] as Journal;

      // BCM + 512: LEDs 23, 24, 25 → 535-537; buttons 5, 6 → 517, 518.
      expect(exported(snaps['started']!).sort()).toEqual([
        'gpio517',
        'gpio518',
        'gpio535',
        'gpio536',
        'gpio537',
      ]);
      // Outputs start at their off level, chosen with the direction (no glitch).
      const directionWrites = journal.filter((j) => /gpio53[5-7]\/direction/.test(j.file));
      expect(directionWrites).toEqual([
        { file: 'gpio535/direction', data: 'low' },
        { file: 'gpio536/direction', data: 'high' }, // active-low: raw high is off
        { file: 'gpio537/direction', data: 'low' },
      ]);
      expect(snaps['started']).toMatchObject({
        'gpio535/active_low': '0',
        'gpio536/active_low': '1',
        'gpio535/value': '0',
        'gpio536/value': '0',
        'gpio537/value': '1', // booting: status solid
        'gpio517/direction': 'in',
        'gpio517/edge': 'both',
        'gpio517/active_low': '1',
        'gpio518/edge': 'both',
      });
      const values = (s: string) => ['535', '536', '537'].map((n) => snaps[s]![`gpio${n}/value`]);
      expect(values('listening')).toEqual(['1', '0', '0']);
      expect(values('muted')).toEqual(['0', '1', '0']);
      expect(values('thinking@0')).toEqual(['0', '0', '1']);
      expect(values('thinking@250')).toEqual(['0', '0', '0']);

      // Stop: every line unexported once, each LED written off before its unexport.
      expect(exported(snaps['stopped']!)).toEqual([]);
      const unexports = journal.filter((j) => j.file === 'unexport').map((j) => j.data);
      expect(unexports.sort()).toEqual(['517', '518', '535', '536', '537']);
      for (const n of ['535', '536', '537']) {
        const last = journal.filter((j) => j.file === `gpio${n}/value`).at(-1);
        expect(last?.data, `gpio${n}`).toBe('0');
        const order = journal.findIndex((j) => j.file === 'unexport' && j.data === n);
        expect(journal.lastIndexOf(last!)).toBeLessThan(order);
      }
      // And the lines are left physically off: low, except the active-low LED, high.
      expect(result['raw']).toMatchObject({ 535: 0, 536: 1, 537: 0 });
    });

    it('configures and reads a button on a Pi 5 numbering (RP1 at 571)', async () => {
      const { result } = await runScenario({ scenario: 'button', chips: CHIPS.pi5 });
      expect(result['thrown']).toBeUndefined();
      expect(result['base']).toBe(571);
      expect(result['opened']).toMatchObject({
        'gpio588/direction': 'in',
        'gpio588/edge': 'both',
        'gpio588/active_low': '1',
      });
      expect(result['reads']).toEqual([true, false, true]);
      expect(exported(result['closed'] as Snapshot)).toEqual([]);
    });

    it('a line held by a kernel driver is E_GPIO_BUSY, and nothing stays exported', async () => {
      const { result } = await runScenario({
        scenario: 'part',
        chips: CHIPS.pi4,
        claimed: [537], // BCM 25
        input: { profile: PROFILE, config: { backend: 'onoff', onUnavailable: 'fail' } },
      });
      expect(result['error']).toMatchObject({
        code: 'E_GPIO_BUSY',
        message: expect.stringContaining('GPIO 25 (sysfs 537) for LED status'),
        hint: expect.stringContaining('pinctrl get 25'),
      });
      const snaps = result['snapshots'] as Record<string, Snapshot>;
      expect(exported(snaps['afterError']!)).toEqual([]);
      const unexports = (result['journal'] as Journal).filter((j) => j.file === 'unexport');
      expect(unexports.map((j) => j.data).sort()).toEqual(['535', '536']);
    });

    it('without permission (not in the gpio group) it runs simulated and says why', async () => {
      const { result } = await runScenario({
        scenario: 'part',
        chips: CHIPS.pi4,
        uid: 65534, // nobody: the tree belongs to root, mode 0644, as sysfs without udev rules
        input: { profile: PROFILE, config: { backend: 'onoff', onUnavailable: 'simulate' } },
      });
      expect(result['status']).toMatchObject({
        backend: 'simulated',
        degraded: {
          code: 'E_GPIO_PERMISSION',
          message: 'no permission to write /sys/class/gpio/export',
        },
      });
      const snaps = result['snapshots'] as Record<string, Snapshot>;
      expect(exported(snaps['started']!)).toEqual([]);
    });
  },
);

describe('loading onoff', () => {
  it('never happens on simulated pins or without GPIO', async () => {
    const { result } = await runScenario({ scenario: 'lazy', input: { profile: PROFILE } });
    expect(result['thrown']).toBeUndefined();
    expect(result['afterSimulated']).toEqual([]);
    expect(result['afterNoGpio']).toEqual([]);
    expect(result['status']).toMatchObject({
      backend: 'simulated',
      degraded: { code: 'E_GPIO_UNAVAILABLE' },
    });
    // The same check sees the native module once onoff is imported.
    expect(result['afterImport']).toEqual(
      expect.arrayContaining([expect.stringMatching(/epoll\.node$/)]),
    );
  });
});
