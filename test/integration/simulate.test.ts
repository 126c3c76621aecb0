import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyLedger } from '../../src/privacy/verify.js';
import { fixture, tempDir } from '../helpers/paths.js';
import {
  insideListening,
  listeningWindows,
  ofType,
  runSimulate,
  type SimLine,
} from '../helpers/simulate.js';

// `earshot simulate` is a contract other tools rely on: the real pipeline (real
// openWakeWord models, real state machine, simulated GPIO because this machine has no
// pins), one JSON object per line, times on the WAV's own time line.
const tmp = tempDir();
afterAll(() => tmp.cleanup());
const ledger = (name: string): string => join(tmp.dir, `${name}.jsonl`);

function states(lines: SimLine[]): string[] {
  return ofType(lines, 'state').map((l) => l.state as string);
}

describe('earshot simulate --json', () => {
  it('wakes on "Alexa", uploads pre-roll plus the request, and returns to idle', async () => {
    const { lines, code, stderr } = await runSimulate([
      '--wav',
      fixture('alexa-what-time.wav'),
      '--ledger',
      ledger('one'),
    ]);
    expect(code, stderr).toBe(0);
    const wakes = ofType(lines, 'wake');
    expect(wakes).toHaveLength(1);
    expect(wakes[0]).toMatchObject({ keyword: 'alexa', accepted: true });
    // "Alexa" is spoken from 2.0 s to about 2.6 s of the fixture.
    expect(wakes[0]!.t).toBeGreaterThan(2.2);
    expect(wakes[0]!.t).toBeLessThan(3.4);
    expect(states(lines)).toEqual(['idle', 'listening', 'thinking', 'idle']);

    const [upload] = ofType(lines, 'upload');
    expect(upload).toMatchObject({
      outcome: 'sent',
      preRollMs: 500,
      trigger: 'wake',
      dontSaveRecordings: true,
    });
    expect(upload!.audioStartT).toBeCloseTo(wakes[0]!.t - 0.5, 3);
    expect(upload!.bytes).toBe(
      Math.round(((upload!.audioEndT as number) - (upload!.audioStartT as number)) * 32000),
    );
    expect(upload!.reason).toBe('vad');
    // The request ("what time is it?") ends near 4.3 s; the endpointer then waits for
    // its hangover (utterance.trailingSilenceMs) of silence.
    expect(upload!.audioEndT).toBeGreaterThan(4.2);
    expect(upload!.audioEndT).toBeLessThan(5.8);
    expect(upload!.sha256).toMatch(/^[0-9a-f]{64}$/);

    const summary = lines[lines.length - 1]!;
    expect(summary).toMatchObject({
      event: 'summary',
      wakes: 1,
      uploads: 1,
      finalState: 'idle',
      droppedFrames: 0,
    });
    expect(summary.wakeEngine).toBe('openwakeword');

    const verified = await verifyLedger(ledger('one'));
    expect(verified.ok).toBe(true);
    expect(verified.entries).toHaveLength(2); // the utterance and its acknowledgement
    expect(verified.entries[0]).toMatchObject({
      type: 'utterance',
      sha256: upload!.sha256,
      bytes: upload!.bytes,
    });
  });

  it('stays idle on speech without the wake word', async () => {
    const { lines, code } = await runSimulate([
      '--wav',
      fixture('no-wake.wav'),
      '--ledger',
      ledger('none'),
    ]);
    expect(code).toBe(0);
    expect(ofType(lines, 'wake')).toEqual([]);
    expect(ofType(lines, 'upload')).toEqual([]);
    expect(states(lines)).toEqual(['idle']);
  });

  it('prints every LED change with the state, listening LED lit for exactly the upload (P2)', async () => {
    const { lines } = await runSimulate([
      '--wav',
      fixture('alexa-twice.wav'),
      '--ledger',
      ledger('twice'),
    ]);
    const uploads = ofType(lines, 'upload');
    expect(uploads).toHaveLength(2);
    const windows = listeningWindows(lines);
    for (const u of uploads) {
      expect(insideListening(windows, u.openT as number, u.t), `upload ${u.id as string}`).toBe(
        true,
      );
    }
  });

  it('mute closes the microphone: a wake word after a mute press is never heard (P1)', async () => {
    const { lines, code } = await runSimulate([
      '--wav',
      fixture('alexa-late.wav'),
      '--press',
      'mute@1',
      '--ledger',
      ledger('muted'),
    ]);
    expect(code).toBe(0);
    expect(ofType(lines, 'press')).toHaveLength(1);
    expect(states(lines)).toEqual(['idle', 'muted']);
    expect(ofType(lines, 'wake')).toEqual([]);
    expect(ofType(lines, 'upload')).toEqual([]);
    expect(
      ofType(lines, 'led')
        .filter((l) => l.name === 'mute')
        .map((l) => l.on),
    ).toEqual([true]);
    expect(lines[lines.length - 1]).toMatchObject({ event: 'summary', finalState: 'muted' });
  });

  it('unmuting opens the microphone again', async () => {
    const { lines } = await runSimulate([
      '--wav',
      fixture('alexa-late.wav'),
      '--press',
      'mute@0.5',
      '--press',
      'mute@1.5',
      '--ledger',
      ledger('unmuted'),
    ]);
    expect(states(lines)).toEqual(['idle', 'muted', 'idle', 'listening', 'thinking', 'idle']);
    expect(ofType(lines, 'upload')).toHaveLength(1);
  });

  it('Porcupine without a key: falls back to openWakeWord, says so, and the status LED shows the error pattern while idle', async () => {
    const { lines, code, stderr } = await runSimulate(
      [
        '--wav',
        fixture('alexa-what-time.wav'),
        '--ledger',
        ledger('fallback'),
        '--set',
        'wake.engine=porcupine',
      ],
      { PICOVOICE_ACCESS_KEY: '' },
    );
    expect(code, stderr).toBe(0);
    expect(stderr).toMatch(/E_WAKE_NO_KEY/);
    expect(stderr).toMatch(/falling back to openWakeWord/);
    // The fallback engine hears the wake word and the request is served.
    expect(ofType(lines, 'wake')).toMatchObject([{ keyword: 'alexa', accepted: true }]);
    expect(states(lines)).toEqual(['idle', 'listening', 'thinking', 'idle']);
    const listeningAt = ofType(lines, 'state').find((l) => l.state === 'listening')!.t;
    const status = ofType(lines, 'led').filter((l) => l.name === 'status');
    // Idle before the wake: blinking (100 ms on every second), not the dark idle.
    const before = status.filter((l) => l.t < listeningAt && l.on);
    expect(before.length).toBeGreaterThanOrEqual(2);
    expect(before[1]!.t - before[0]!.t).toBeCloseTo(1, 1);
    // Listening: the status LED is dark; the listening LED alone is lit.
    const litDuring = status.filter((l) => l.t > listeningAt && l.t < listeningAt + 0.5 && l.on);
    expect(litDuring).toEqual([]);
  });

  it('without --realtime and --cloud, two runs print the same lines (ids and wallMs aside)', async () => {
    // Run side by side so that they compete for the CPU and the disk: the events must
    // not depend on how fast the ledger's fsync or the event loop happens to be.
    const args = (name: string) => [
      '--wav',
      fixture('alexa-twice.wav'),
      '--ledger',
      ledger(name),
      '--press',
      'action@9.5',
    ];
    const runs = await Promise.all([
      runSimulate(args('det-a')),
      runSimulate(args('det-b')),
      runSimulate(args('det-c')),
    ]);
    const normalise = (lines: SimLine[]): string[] =>
      lines.map((l) => {
        const { wallMs: _w, id: _id, ...rest } = l;
        return JSON.stringify(rest);
      });
    const [first, ...others] = runs.map((r) => normalise(r.lines));
    expect(ofType(runs[0]!.lines, 'upload').length).toBeGreaterThanOrEqual(2);
    expect(first!.length).toBeGreaterThan(10);
    for (const other of others) expect(other).toEqual(first);
  });

  it('refuses a bad --press with a clear message', async () => {
    const { code, stderr } = await runSimulate([
      '--wav',
      fixture('noise.wav'),
      '--press',
      'volume@1',
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/NAME@SECONDS/);
  });

  it('refuses a WAV in the wrong format, naming the fix', async () => {
    const { code, stderr } = await runSimulate(['--wav', join(tmp.dir, 'absent.wav')]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/cannot read/);
  });
});
