import type { PcmFormat } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import { writeWavFile } from '../../shared/wav.js';
import type { AudioSink } from './sink.js';

/**
 * Writes what would have been played to a WAV file (the demo on a machine without a
 * sound card, and tests). Each sound replaces the file; the audio is held in memory up
 * to `maxBytes` (a reply has a bounded length) and written on `end()`.
 */
export class WavFileSink implements AudioSink {
  readonly kind = 'file';
  private chunks: Buffer[] = [];
  private bytes = 0;
  private format: PcmFormat | undefined;

  constructor(
    readonly file: string,
    private readonly maxBytes = 16 * 1024 * 1024,
  ) {}

  async open(format: PcmFormat): Promise<void> {
    if (format.bitsPerSample !== 16) {
      throw new EarshotError(
        'E_SINK_FORMAT',
        `file sink: only 16-bit PCM, got ${format.bitsPerSample}`,
      );
    }
    this.format = format;
    this.chunks = [];
    this.bytes = 0;
  }

  write(chunk: Buffer): void {
    if (!this.format || this.bytes + chunk.length > this.maxBytes) return;
    this.chunks.push(Buffer.from(chunk));
    this.bytes += chunk.length;
  }

  /** Held in memory, bounded by `maxBytes`: nothing waits on a device. */
  readonly buffered = 0;

  async drained(): Promise<void> {}

  async end(): Promise<void> {
    const format = this.format;
    if (!format) return;
    this.format = undefined;
    const all = Buffer.concat(this.chunks);
    this.chunks = [];
    const samples = new Int16Array(all.buffer, all.byteOffset, Math.floor(all.length / 2));
    await writeWavFile(this.file, samples, format.sampleRate, format.channels);
  }

  abort(): void {
    this.format = undefined;
    this.chunks = [];
  }

  async close(): Promise<void> {
    this.abort();
  }
}
