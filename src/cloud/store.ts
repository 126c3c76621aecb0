import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from './wav.js';

/**
 * Where the reference cloud keeps recordings: `DIR/<deviceId>/<time>-<id>.wav`, and
 * only for utterances whose `dontSaveRecordings` was false (P7). The ids are
 * validated by the protocol schema (letters, digits, `-`, `_`), so they are safe
 * file names; the device id is checked again here because it comes from `hello`.
 */
export class RecordingStore {
  constructor(private readonly dir: string) {}

  async save(
    deviceId: string,
    utteranceId: string,
    pcm: Buffer,
    sampleRate: number,
  ): Promise<string> {
    const device = deviceId.replace(/[^A-Za-z0-9_-]/g, '_') || 'unknown';
    const folder = join(this.dir, device);
    await mkdir(folder, { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(folder, `${stamp}-${utteranceId}.wav`);
    // Write then rename: a reader never sees half a file.
    const partial = `${path}.partial`;
    await writeFile(partial, encodeWav({ sampleRate, channels: 1, data: pcm }));
    await rename(partial, path);
    return path;
  }
}
