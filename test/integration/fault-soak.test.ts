import { describe, expect, it } from 'vitest';
import { judge } from '../../src/bench/soak/report.js';
import { runSoak } from '../../src/bench/soak/run.js';
import { ListeningWindows, slope, Tally, causeName } from '../../src/bench/soak/metrics.js';

/**
 * The soak benchmark in miniature: a few simulated minutes with faults far more often
 * than the benchmark's defaults (the cloud drops, stalls, mute presses), against the
 * real reference cloud. Whatever happened, the privacy checks must hold and the
 * measurements must be there. And the checks themselves must be able to say no.
 */
describe('soak under frequent faults', () => {
  it('keeps the ledger verifiable, every upload inside the listening LED, no descriptor leaked', async () => {
    const report = await runSoak({
      hours: 0.08,
      seed: 7,
      faultEveryMin: 0.4,
      muteEveryMin: 1.5,
      warmupHours: 0,
    });
    expect(report.wakes).toBeGreaterThan(5);
    expect(report.uploads).toBeGreaterThan(0);
    expect(
      report.chaos.dropAll + report.chaos.dropMidUtterance + report.chaos.stall,
    ).toBeGreaterThan(2);
    expect(report.chaos.mutePresses).toBeGreaterThan(0);
    expect(report.ledgerVerified).toBe(true);
    // Every sent upload and every acknowledgement has its ledger entry.
    expect(report.ledgerEntries).toBeGreaterThanOrEqual(report.uploads + report.acks);
    expect(report.uploadsOutsideListening).toBe(0);
    expect(report.cloudUtterancesUnrecorded).toBe(0);
    expect(report.cloudIntegrityErrors).toBe(0);
    expect(report.fdEnd).toBeLessThanOrEqual(report.fdStart);
    expect(report.memorySamples).toBeGreaterThan(2);
    expect(Number.isFinite(report.eventLoopLagP99Ms)).toBe(true);
    // The verdict ignores the memory slope here: minutes are too short to measure it.
    expect(judge({ ...report, rssSlopeMiBPerHour: 0 }).problems).toEqual([]);
  }, 120_000);
});

describe('soak measurements', () => {
  it('an upload outside a lit listening LED is caught', () => {
    const w = new ListeningWindows();
    w.led(true, 100);
    w.led(false, 900);
    expect(w.covers(100, 900)).toBe(true);
    expect(w.covers(90, 500)).toBe(false); // opened before the LED
    expect(w.covers(200, 901)).toBe(false); // closed after it went off
    w.led(true, 1000);
    expect(w.covers(1000, 1200)).toBe(true); // still lit
    expect(w.covers(950, 1200)).toBe(false);
  });

  it('the slope is a least-squares fit, and the verdict names what is wrong', () => {
    expect(
      slope([
        [0, 100],
        [1, 101],
        [2, 102],
      ]),
    ).toBeCloseTo(1);
    expect(
      slope([
        [0, 5],
        [1, 5],
      ]),
    ).toBe(0);
    const t = new Tally(2);
    t.add('a');
    t.add('b');
    t.add('c');
    expect(t.toJSON()).toEqual({ a: 1, b: 1, '(other)': 1 });
    expect(causeName('E_LINK_DOWN: connection lost: x')).toBe('E_LINK_DOWN');
    expect(causeName('link down')).toBe('link down');
  });
});
