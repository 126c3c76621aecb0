import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeWav } from '../shared/wav.js';

/** Speech as the reference cloud sends it: s16le bytes. */
export interface Pcm {
  sampleRate: number;
  channels: number;
  /** s16le samples. */
  data: Buffer;
}

/**
 * The reference cloud's voice: flite or espeak-ng when installed (both are small
 * Debian packages), else a tone, so the cloud works on a bare machine too.
 * espeak-ng writes the WAV to stdout; flite can only write a file (it cannot open
 * /dev/stdout when that is a socket, as Node's pipes are), so it gets a private
 * temporary directory that is removed right after.
 */
export type Voice = 'auto' | 'flite' | 'espeak-ng' | 'tone';

interface Engine {
  name: 'flite' | 'espeak-ng';
  command: string;
  /** Arguments; `out` is the file to write when `toFile`, else the WAV comes on stdout. */
  args: (text: string, out: string) => string[];
  toFile: boolean;
}

const ENGINES: Engine[] = [
  // kal16 is flite's 16 kHz voice; the default voice is 8 kHz and sounds worse.
  {
    name: 'flite',
    command: 'flite',
    args: (t, out) => ['-voice', 'kal16', '-t', t, '-o', out],
    toFile: true,
  },
  { name: 'flite', command: 'flite', args: (t, out) => ['-t', t, '-o', out], toFile: true },
  { name: 'espeak-ng', command: 'espeak-ng', args: (t) => ['--stdout', t], toFile: false },
];

export interface Speech extends Pcm {
  /** What made it: `flite`, `espeak-ng` or `tone`. */
  engine: string;
}

export interface SynthesizeOptions {
  voice?: Voice;
  /** Kill a synthesizer that takes longer than this. */
  timeoutMs?: number;
  /** Largest WAV accepted from a synthesizer. */
  maxBytes?: number;
}

export async function synthesize(text: string, options: SynthesizeOptions = {}): Promise<Speech> {
  const voice = options.voice ?? 'auto';
  if (voice !== 'tone') {
    for (const engine of ENGINES) {
      if (voice !== 'auto' && engine.name !== voice) continue;
      const wav = await runEngine(engine, text, options);
      if (!wav) continue;
      try {
        // espeak-ng writes placeholder sizes to a pipe; wavefile reads to the end then.
        const { sampleRate, channels, samples } = decodeWav(wav);
        const data = Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
        if (data.length > 0) return { sampleRate, channels, data, engine: engine.name };
      } catch {
        // Not a usable WAV: try the next engine.
      }
    }
  }
  return { ...tone(), engine: 'tone' };
}

/** Two short beeps at 16 kHz: the answer of a cloud that cannot speak. */
export function tone(sampleRate = 16_000): Pcm {
  const beepMs = 180;
  const gapMs = 120;
  const beep = Math.round((sampleRate * beepMs) / 1000);
  const gap = Math.round((sampleRate * gapMs) / 1000);
  const samples = new Int16Array(beep * 2 + gap);
  for (const start of [0, beep + gap]) {
    for (let i = 0; i < beep; i++) {
      // A short fade in and out avoids clicks.
      const envelope = Math.min(1, i / 160, (beep - i) / 160);
      const value = Math.sin((2 * Math.PI * 880 * i) / sampleRate) * 0.3 * envelope;
      samples[start + i] = Math.round(value * 32767);
    }
  }
  return { sampleRate, channels: 1, data: Buffer.from(samples.buffer) };
}

async function runEngine(
  engine: Engine,
  text: string,
  options: SynthesizeOptions,
): Promise<Buffer | null> {
  if (!engine.toFile) return run(engine.command, engine.args(text, ''), options);
  const dir = await mkdtemp(join(tmpdir(), 'earshot-tts-'));
  try {
    const out = join(dir, 'reply.wav');
    const ok = await run(engine.command, engine.args(text, out), options);
    return ok ? await readFile(out) : null;
  } catch {
    return null;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(command: string, args: string[], options: SynthesizeOptions): Promise<Buffer | null> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxBytes = options.maxBytes ?? 16 * 1024 * 1024;
  return new Promise((resolve) => {
    let child;
    try {
      child = spawn(command, args, { stdio: ['ignore', 'pipe', 'ignore'] });
    } catch {
      resolve(null);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) child.kill('SIGKILL');
      else chunks.push(chunk);
    });
    child.on('error', () => {
      clearTimeout(timer);
      resolve(null); // not installed
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve(code === 0 && size <= maxBytes ? Buffer.concat(chunks) : null);
    });
  });
}
