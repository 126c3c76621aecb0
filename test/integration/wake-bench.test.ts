import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { registerBenchWake } from '../../src/cli/commands/bench-wake.js';
import { corpusDir, tempDir } from '../helpers/paths.js';

/**
 * `earshot bench wake` end to end on tiny folders: the real detector, sox decoding, the
 * fresh-process memory probe, the sweep and the plot. One set is synthesised with flite
 * (always available); one is a handful of real recordings from the shared corpus,
 * skipped when the corpus is not next to the repository.
 */
const tmp = tempDir('earshot-bench-wake-');
afterAll(() => tmp.cleanup());

const JSON_FIELDS = [
  'detectionRate',
  'falseAcceptsPerHour',
  'negativeHours',
  'latencyMedianMs',
  'latencyP90Ms',
  'cpuPerAudioSecond',
  'chunkP50Ms',
  'chunkP99Ms',
  'loadMs',
  'peakRssMiB',
] as const;

/** Runs the command in-process and returns what it printed on stdout. */
async function bench(args: string[]): Promise<string> {
  const program = new Command('earshot').exitOverride();
  registerBenchWake(program.command('bench'));
  let out = '';
  const spy = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    out += String(chunk);
    return true;
  });
  try {
    await program.parseAsync(['node', 'earshot', 'bench', 'wake', ...args]);
  } finally {
    spy.mockRestore();
  }
  return out;
}

describe('earshot bench wake on synthesised speech', () => {
  const pos = join(tmp.dir, 'tts', 'positive');
  const neg = join(tmp.dir, 'tts', 'negative');

  beforeAll(() => {
    mkdirSync(join(pos, 'nested'), { recursive: true });
    mkdirSync(neg, { recursive: true });
    // Four flite voices say "Alexa"; one file sits in a subfolder (recursive search).
    for (const voice of ['slt', 'kal', 'awb']) {
      execFileSync('flite', ['-voice', voice, '-t', 'Alexa', '-o', join(pos, `${voice}.wav`)]);
    }
    execFileSync('flite', ['-voice', 'rms', '-t', 'Alexa', '-o', join(pos, 'nested', 'rms.wav')]);
    execFileSync('flite', ['-t', 'turn on the kitchen lights', '-o', join(neg, 'lights.wav')]);
    execFileSync('flite', ['-t', 'what time is it', '-o', join(neg, 'time.wav')]);
  });

  it('prints one JSON object with every figure, and writes the plot', async () => {
    const svg = join(tmp.dir, 'tts.svg');
    const out = await bench([
      ...['--positives', pos, '--negatives', neg, '--json', '--plot', svg],
      ...['--quiet-minutes', '2'],
    ]);
    expect(out.trim().split('\n')).toHaveLength(1);
    const r = JSON.parse(out) as Record<string, unknown>;
    for (const field of JSON_FIELDS) expect(typeof r[field], field).toBe('number');
    expect(r).toMatchObject({ keyword: 'alexa', positives: 4, negatives: 2, threshold: 0.03 });
    // The verifier runs on alexa by default; these generated takes are no training speaker.
    expect(r.verifier).toMatchObject({ threshold: 0.95, crossValidatedPositives: 0, positives: 4 });
    expect((r.verifier as { calls: number }).calls).toBeGreaterThanOrEqual(4);
    expect(r.detectionRate).toBe(1);
    expect(r.falseAcceptsPerHour).toBe(0);
    expect(r.negativeHours as number).toBeGreaterThan(0);
    expect(r.cpuPerAudioSecond as number).toBeGreaterThan(0);
    expect(r.peakRssMiB as number).toBeGreaterThan(20);
    // Latency is measured from the end of the word: the detection lands near it.
    expect(Math.abs(r.latencyMedianMs as number)).toBeLessThan(1000);
    const plot = readFileSync(svg, 'utf8');
    expect(plot).toMatch(/^<svg /);
    expect(plot).toContain('configured 0.03');
    expect((r.sweep as unknown[]).length).toBeGreaterThan(10);
    // The quiet day: 2 minutes, 90 % of it room noise, mostly skipped by the quiet gate.
    const quiet = r.quiet as {
      minutes: number;
      modelFrameShare: number;
      cpuPerAudioSecond: number;
    };
    expect(quiet.minutes).toBe(2);
    expect(quiet.modelFrameShare).toBeGreaterThan(0);
    expect(quiet.modelFrameShare).toBeLessThan(0.5);
    expect(quiet.cpuPerAudioSecond).toBeGreaterThan(0);
  });

  it('--sweep-only replays threshold × patience × speech check from cached traces', async () => {
    const cache = join(tmp.dir, 'traces');
    const args = [
      ...['--positives', pos, '--negatives', neg, '--json', '--sweep-only'],
      ...['--trace-cache', cache, '--noise-db', '10', '--negatives-clean'],
    ];
    const first = JSON.parse(await bench(args)) as {
      grid: Array<{
        patience: number;
        vadThreshold: number;
        verifierThreshold: number;
        detectionRate: number;
      }>;
      configured: { threshold: number; patience: number };
      negativesNoiseDb: number | null;
    };
    expect(readdirSync(cache)).toHaveLength(2); // positives at 10 dB, clean negatives
    expect(first.negativesNoiseDb).toBeNull();
    expect(first.configured).toMatchObject({
      threshold: 0.03,
      patience: 1,
      verifierThreshold: 0.95,
    });
    expect(new Set(first.grid.map((p) => p.verifierThreshold))).toContain(0);
    expect(new Set(first.grid.map((p) => p.verifierThreshold))).toContain(0.95);
    expect(new Set(first.grid.map((p) => p.patience))).toEqual(new Set([1, 2, 3]));
    expect(new Set(first.grid.map((p) => p.vadThreshold))).toEqual(
      new Set([0, 0.1, 0.2, 0.3, 0.5]),
    );
    // Waiting longer never detects more.
    const at = (patience: number) =>
      first.grid.find((p) => p.patience === patience && p.vadThreshold === 0.2)!.detectionRate;
    expect(at(3)).toBeLessThanOrEqual(at(1));
    // The second run reads the traces: the same figures.
    expect(JSON.parse(await bench(args))).toEqual(first);
  });

  it('--threshold and --noise-db change what is measured; the report is readable', async () => {
    const out = await bench([
      '--positives',
      pos,
      '--negatives',
      neg,
      '--threshold',
      '0.99',
      '--noise-db',
      '0',
      '--no-rss',
      ...['--quiet-minutes', '0'],
    ]);
    expect(out).toMatch(/threshold 0\.99/);
    expect(out).toMatch(/pink noise at 0 dB SNR/);
    expect(out).toMatch(/detection rate\s+\d+\.\d %/);
    expect(out).toMatch(/peak RSS\s+not measured/);
  });

  it('fails clearly on a folder without recordings', async () => {
    const empty = join(tmp.dir, 'empty');
    mkdirSync(empty);
    await expect(
      bench(['--positives', empty, '--negatives', neg, '--no-rss']),
    ).rejects.toMatchObject({
      code: 'E_BENCH_INPUT',
    });
  });
});

const haveCorpus = existsSync(join(corpusDir, 'positive', 'alexa'));

describe.skipIf(!haveCorpus)(
  `earshot bench wake on real recordings (skipped when ${corpusDir} is absent)`,
  () => {
    it('detects real speakers and accepts none of the other words', async () => {
      const pos = join(tmp.dir, 'corpus', 'positive');
      const neg = join(tmp.dir, 'corpus', 'negative');
      mkdirSync(pos, { recursive: true });
      mkdirSync(neg, { recursive: true });
      // Links, not copies: the corpus stays where it is.
      for (const f of ['0.flac', '1.flac', '10.flac']) {
        symlinkSync(join(corpusDir, 'positive', 'alexa', f), join(pos, f));
      }
      for (const word of ['computer', 'jarvis']) {
        const first = readdirSync(join(corpusDir, 'negative', word)).sort()[0]!;
        symlinkSync(join(corpusDir, 'negative', word, first), join(neg, `${word}.flac`));
      }
      const r = JSON.parse(
        await bench([
          ...['--positives', pos, '--negatives', neg, '--json', '--no-rss'],
          ...['--quiet-minutes', '0'],
        ]),
      );
      for (const field of JSON_FIELDS) expect(r).toHaveProperty(field);
      expect(r.positives).toBe(3);
      expect(r.detected).toBe(3);
      expect(r.falseAccepts).toEqual([]);
      expect(r.peakRssMiB).toBeNull();
    });
  },
);
