import { createRequire } from 'node:module';
import type { Writable } from 'node:stream';
import type { PcmFormat } from '../../shared/audio-format.js';
import { EarshotError } from '../../shared/errors.js';
import type { AudioSink } from './sink.js';

type SpeakerCtor = new (opts: {
  channels: number;
  bitDepth: number;
  sampleRate: number;
  device?: string;
}) => Writable;

/**
 * Plays through the `speaker` native module (ALSA). It is an optional dependency,
 * loaded only when chosen: it needs libasound2-dev to build, and it aborts the whole
 * process when ALSA has no default device, so callers check for a sound card first.
 */
export class SpeakerSink implements AudioSink {
  readonly kind = 'speaker';
  private speaker: Writable | undefined;
  private done: Promise<void> | undefined;

  constructor(
    private readonly Speaker: SpeakerCtor,
    private readonly device: string,
  ) {}

  static load(device: string): SpeakerSink {
    try {
      const require = createRequire(import.meta.url);
      const Speaker = require('speaker') as SpeakerCtor;
      return new SpeakerSink(Speaker, device);
    } catch (err) {
      throw new EarshotError(
        'E_SPEAKER_UNAVAILABLE',
        `speaker module not available: ${(err as Error).message}`,
        {
          hint: 'install libasound2-dev and run npm install again, or set audio.playback.sink: aplay',
        },
      );
    }
  }

  async open(format: PcmFormat): Promise<void> {
    this.abort();
    const speaker = new this.Speaker({
      channels: format.channels,
      bitDepth: format.bitsPerSample,
      sampleRate: format.sampleRate,
      ...(this.device !== 'default' ? { device: this.device } : {}),
    });
    this.speaker = speaker;
    this.done = new Promise((resolve, reject) => {
      speaker.once('close', () => resolve());
      speaker.once('error', (err: Error) =>
        reject(new EarshotError('E_PLAYBACK', `speaker: ${err.message}`)),
      );
    });
  }

  get buffered(): number {
    return this.speaker?.writableLength ?? 0;
  }

  write(chunk: Buffer): void {
    this.speaker?.write(chunk);
  }

  drained(): Promise<void> {
    const speaker = this.speaker;
    if (!speaker || speaker.destroyed || speaker.writableLength === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        speaker.off('drain', done);
        speaker.off('close', done);
        resolve();
      };
      speaker.on('drain', done);
      speaker.on('close', done);
    });
  }

  async end(): Promise<void> {
    const speaker = this.speaker;
    if (!speaker) return;
    speaker.end();
    await this.done;
    if (this.speaker === speaker) this.speaker = undefined;
  }

  abort(): void {
    const speaker = this.speaker;
    this.speaker = undefined;
    speaker?.destroy();
  }

  /** In-process: nothing outlives abort(). */
  async close(): Promise<void> {
    this.abort();
  }
}
