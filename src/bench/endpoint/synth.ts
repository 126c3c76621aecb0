import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { SAMPLE_RATE } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { Voice } from './sources.js';

/**
 * Synthesized speech for the generated requests, made on demand with flite or espeak-ng
 * and sox (the tools `scripts/make-fixtures.sh` uses) and kept in a cache folder: the
 * same voice, rate and text always give the same samples, so the cache only saves time.
 */
export class Synth {
  constructor(private readonly cacheDir: string) {}

  /**
   * `rate`: 1 is the voice's own pace; 1.2 is 20 % slower (longer words and pauses),
   * the way people differ in how fast they speak.
   */
  async speak(voice: Voice, text: string, rate: number): Promise<Int16Array> {
    const key = createHash('sha256')
      .update(JSON.stringify([1, voice.engine, voice.name, rate.toFixed(3), text]))
      .digest('hex')
      .slice(0, 24);
    const file = join(this.cacheDir, `${key}.s16`);
    try {
      return toSamples(await readFile(file));
    } catch {
      return this.render(voice, text, rate, file);
    }
  }

  private async render(voice: Voice, text: string, rate: number, file: string) {
    await mkdir(this.cacheDir, { recursive: true });
    const wav = `${file}.${process.pid}.wav`;
    const raw = `${file}.${process.pid}.tmp`;
    try {
      if (voice.engine === 'flite') {
        const stretch = ['--setf', `duration_stretch=${rate.toFixed(3)}`];
        await run('flite', ['-voice', voice.name, ...stretch, '-t', text, '-o', wav]);
      } else {
        // espeak-ng's speed is in words per minute (175 by default).
        const wpm = String(Math.round(175 / rate));
        await run('espeak-ng', ['-v', voice.name, '-s', wpm, '-w', wav, text]);
      }
      const out = ['-t', 'raw', '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16'];
      await run('sox', ['-D', '-V1', wav, ...out, '-e', 'signed-integer', '-L', raw]);
      await rename(raw, file);
      return toSamples(await readFile(file));
    } finally {
      await rm(wav, { force: true });
      await rm(raw, { force: true });
    }
  }
}

function toSamples(buf: Buffer): Int16Array {
  const samples = new Int16Array(buf.length >> 1);
  for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
  return samples;
}

function run(cmd: string, args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) =>
      reject(
        new EarshotError('E_BENCH_TOOL', `cannot run ${cmd}: ${err.message}`, {
          cause: err,
          hint: 'apt-get install flite espeak-ng sox (scripts/setup.sh installs them)',
        }),
      ),
    );
    child.on('close', (code) =>
      code === 0
        ? resolve()
        : reject(new EarshotError('E_BENCH_TOOL', `${cmd} failed: ${stderr.trim()}`)),
    );
  });
}
