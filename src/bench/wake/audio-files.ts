import { spawn } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { SAMPLE_RATE } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';

/** Extensions the benchmark reads (sox decodes them). */
export const AUDIO_EXTENSIONS: readonly string[] = ['.wav', '.flac'];

/** Every WAV/FLAC file under `dir`, recursively, in a stable (sorted) order. */
export async function findAudioFiles(dir: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true, recursive: true });
  } catch (err) {
    throw new EarshotError('E_BENCH_INPUT', `cannot read folder ${dir}`, {
      cause: err,
      hint: 'give an existing folder of .wav or .flac files',
    });
  }
  const files: string[] = [];
  for (const e of entries) {
    if (!AUDIO_EXTENSIONS.includes(extname(e.name).toLowerCase())) continue;
    const path = join(e.parentPath, e.name);
    // A symbolic link counts when it leads to a file: corpora are often linked in.
    if (e.isFile() || (e.isSymbolicLink() && (await isFile(path)))) files.push(path);
  }
  files.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return files;
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/**
 * Decodes any file sox can read to 16 kHz mono s16 — resampling and down-mixing on the
 * way, so a 44.1 kHz stereo recording works as well as the corpus' 16 kHz FLAC.
 */
export function decodeAudio(file: string): Promise<Int16Array> {
  return new Promise((resolve, reject) => {
    const args = [file, '-t', 'raw', '-r', String(SAMPLE_RATE), '-c', '1', '-b', '16'];
    const sox = spawn('sox', [...args, '-e', 'signed-integer', '-L', '-'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const chunks: Buffer[] = [];
    let stderr = '';
    sox.stdout.on('data', (c: Buffer) => chunks.push(c));
    sox.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    sox.on('error', (err) =>
      reject(
        new EarshotError('E_BENCH_SOX', `cannot run sox: ${err.message}`, {
          cause: err,
          hint: 'install sox with FLAC support: apt-get install sox libsox-fmt-all',
        }),
      ),
    );
    sox.on('close', (code) => {
      if (code !== 0) {
        reject(new EarshotError('E_BENCH_DECODE', `sox failed on ${file}: ${stderr.trim()}`));
        return;
      }
      const buf = Buffer.concat(chunks);
      // Copy into a fresh, aligned buffer: Buffer pools may start at an odd offset.
      const samples = new Int16Array(buf.length >> 1);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(i * 2);
      resolve(samples);
    });
  });
}
