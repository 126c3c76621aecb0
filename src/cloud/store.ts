import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { encodeWav } from '../shared/wav.js';

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
    // Recordings are the owners' voices: readable by the cloud's user only.
    await mkdir(folder, { recursive: true, mode: 0o700 });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const path = join(folder, `${stamp}-${utteranceId}.wav`);
    // Write then rename: a reader never sees half a file.
    const partial = `${path}.partial`;
    // A copy: the received bytes need not sit at an even offset for an Int16Array view.
    const samples = new Int16Array(pcm.byteLength >> 1);
    Buffer.from(samples.buffer).set(pcm.subarray(0, samples.byteLength));
    await writeFile(partial, encodeWav(samples, sampleRate, 1), { mode: 0o600 });
    await rename(partial, path);
    return path;
  }
}
