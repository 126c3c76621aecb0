import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import {
  OpenWakeWordDetector,
  type OpenWakeWordOptions,
} from '../../wake/openwakeword/detector.js';
import { decodeAudio } from './audio-files.js';
import { PinkNoise } from './noise.js';

/**
 * Peak memory of the detector, measured in a fresh process: the benchmark's own process
 * holds decoded audio and traces, so its peak says nothing about the daemon. The child
 * loads the same detector, streams 30 s of faint noise with a recording of the keyword
 * mixed in every few seconds (so the voice-activity path runs too), and reports its
 * peak resident set: `VmHWM` of /proc/self/status, the high-water mark of this process's
 * own address space. (`getrusage`'s maxRSS would not do: Linux keeps it across the
 * fork and exec that start the child, so it reports the benchmark's own peak instead.)
 */
const PROBE_FRAMES = 375;

export interface ProbeResult {
  peakRssMiB: number;
  loadMs: number;
  /**
   * `tsx` when the benchmark runs from TypeScript sources: the child then carries the
   * TypeScript loader too (about 20–35 MiB); the daemon's own figure comes from the
   * built JavaScript (`node`).
   */
  loader: 'node' | 'tsx';
}

interface ProbeRequest {
  options: OpenWakeWordOptions;
  /** A recording of the keyword to play now and then. */
  clip?: string | undefined;
}

/** Runs the probe in a child process and returns what it measured. */
export function measureInFreshProcess(
  options: OpenWakeWordOptions,
  clip?: string,
): Promise<ProbeResult> {
  const self = fileURLToPath(import.meta.url);
  // Under tsx (development, tests) the module is TypeScript and needs the loader again.
  const loader = self.endsWith('.ts') ? 'tsx' : 'node';
  const args = loader === 'tsx' ? ['--import', 'tsx', self] : [self];
  const { onScores: _drop, ...plain } = options;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...args, '--rss-probe'], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      try {
        if (code !== 0) throw new Error(err.trim() || `exit code ${code}`);
        resolve({ ...(JSON.parse(out) as Omit<ProbeResult, 'loader'>), loader });
      } catch (e) {
        reject(
          new EarshotError('E_BENCH_RSS', `memory probe failed: ${(e as Error).message}`, {
            cause: e,
          }),
        );
      }
    });
    const request: ProbeRequest = { options: plain, clip };
    child.stdin.end(JSON.stringify(request));
  });
}

async function probe({ options, clip }: ProbeRequest): Promise<Omit<ProbeResult, 'loader'>> {
  const t0 = performance.now();
  const detector = new OpenWakeWordDetector(options);
  await detector.start();
  const loadMs = performance.now() - t0;
  const word = clip ? await decodeAudio(clip) : new Int16Array(0);
  const noise = new PinkNoise(7).fill(new Float32Array(PROBE_FRAMES * FRAME_SAMPLES), 30);
  const audio = new Int16Array(noise.length);
  for (let i = 0; i < audio.length; i++) audio[i] = Math.round(noise[i]!);
  for (let at = 3 * 16_000; at + word.length < audio.length; at += 6 * 16_000) {
    for (let i = 0; i < word.length; i++) audio[at + i] = audio[at + i]! + word[i]!;
  }
  for (let i = 0; i < PROBE_FRAMES; i++) {
    const samples = audio.subarray(i * FRAME_SAMPLES, (i + 1) * FRAME_SAMPLES);
    await detector.process({ index: i, samples });
  }
  const peakRssMiB = peakRssKiB() / 1024;
  await detector.stop();
  return { peakRssMiB, loadMs };
}

function peakRssKiB(): number {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(status);
    if (hwm) return Number(hwm[1]);
  } catch {
    // Not Linux: fall through to getrusage, which is right where exec starts afresh.
  }
  return process.resourceUsage().maxRSS;
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) text += String(chunk);
  return text;
}

if (process.argv.includes('--rss-probe')) {
  readStdin()
    .then((text) => probe(JSON.parse(text) as ProbeRequest))
    .then((r) => process.stdout.write(JSON.stringify(r)))
    .catch((e: unknown) => {
      process.stderr.write(String((e as Error)?.stack ?? e));
      process.exitCode = 1;
    });
}
