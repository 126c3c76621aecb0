import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { speechSpans } from '../helpers/speech-spans.js';
import { fixture, repoRoot, tempDir } from '../helpers/paths.js';
import { ofType, runSimulate } from '../helpers/simulate.js';

// `npm run bench:vad -- --recordings DIR` on a labelled recording (the project's own
// "Alexa … (pause) … question" fixture, as a person's recording would be given): the
// bench closes it where the device does (`earshot simulate`, the real pipeline), and a
// wrong label is an error that names it, not a stack.
const tmp = tempDir('earshot-bench-rec-');
afterAll(() => tmp.cleanup());
const wav = fixture('alexa-pause-question.wav');

function benchVad(dir: string): ReturnType<typeof spawnSync> & { stdout: string; stderr: string } {
  return spawnSync(
    process.execPath,
    [join(repoRoot, 'dist/bench/vad.js'), '--recordings', dir, '--json'],
    { cwd: repoRoot, encoding: 'utf8', timeout: 120_000 },
  );
}

interface Row {
  snr: string;
  woken: number;
  replayAgrees: number;
  new: { requests: number; cutPct: number; delayMedianMs: number };
}

describe('bench:vad --recordings', { timeout: 150_000 }, () => {
  it('measures a labelled recording, closing it where the device does', async () => {
    const dir = join(tmp.dir, 'good');
    mkdirSync(dir);
    copyFileSync(wav, join(dir, 'pause-question.wav'));
    const spans = await speechSpans(wav);
    const commandStart = spans.find(([from]) => from > 3.5)![0];
    const lastWordEnd = spans.at(-1)![1];
    writeFileSync(
      join(dir, 'labels.json'),
      JSON.stringify([{ file: 'pause-question.wav', commandStart, lastWordEnd }]),
    );

    const r = benchVad(dir);
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as {
      split: string;
      recordings: { count: number };
      results: Row[];
    };
    expect(out.split).toBe('recordings');
    expect(out.recordings.count).toBe(1);
    expect(out.results.map((row) => row.snr)).toEqual(['clean', '20 dB', '10 dB']);
    for (const row of out.results) {
      expect(row.woken, row.snr).toBe(1);
      expect(row.replayAgrees, row.snr).toBe(1);
      expect(row.new.cutPct, row.snr).toBe(0);
    }

    // The device, on the same file: the bench's close is its close (to the ms rounding).
    const sim = await runSimulate(['--wav', wav]);
    expect(sim.code, sim.stderr).toBe(0);
    const [up] = ofType(sim.lines, 'upload');
    const deviceDelayMs = ((up!.audioEndT as number) - lastWordEnd) * 1000;
    const clean = out.results.find((row) => row.snr === 'clean')!;
    expect(Math.abs(clean.new.delayMedianMs - deviceDelayMs)).toBeLessThanOrEqual(15);
  });

  it('names a wrong label and exits 1, without a stack', () => {
    const dir = join(tmp.dir, 'short');
    mkdirSync(dir);
    copyFileSync(wav, join(dir, 'q.wav'));
    // The recording is 9.6 s long: a last word at 9 s leaves too little room after it.
    writeFileSync(
      join(dir, 'labels.json'),
      JSON.stringify([{ file: 'q.wav', commandStart: 4, lastWordEnd: 9 }]),
    );
    const r = benchVad(dir);
    expect(r.status).toBe(1);
    expect(r.stderr).toMatch(/E_BENCH_LABELS: q\.wav: lastWordEnd 9 s leaves 0\.6\d s of room/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
