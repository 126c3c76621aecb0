import { CAPTURE_FORMAT, type PcmFormat } from '../shared/audio-format.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { renderEarcon, type EarconName } from './earcons.js';
import type { AudioSink } from './sinks/sink.js';

export type PlayerEvents = {
  /** A reply finished playing (or was stopped: `aborted`). */
  replyDone: [{ aborted: boolean; bytes: number; error?: string }];
  /** The first reply byte reached the sink (latency measurement). */
  replyFirstByte: [];
};

/**
 * Plays replies and earcons through one sink, one sound at a time. A reply is
 * streamed: each chunk goes to the sink as it arrives, so playback starts before the
 * reply is complete. A new sound stops the one playing (barge-in stops a reply).
 * Volume is applied in software, so it works with every sink.
 */
export class Player extends TypedEmitter<PlayerEvents> {
  readonly name = 'player';
  private volumePercent: number;
  private reply: { bytes: number; ending: boolean } | undefined;
  private tail: Promise<void> = Promise.resolve();

  constructor(
    private readonly sink: AudioSink,
    private readonly log: Logger,
    volume = 80,
  ) {
    super();
    this.volumePercent = volume;
  }

  get sinkKind(): string {
    return this.sink.kind;
  }

  get volume(): number {
    return this.volumePercent;
  }

  setVolume(percent: number): void {
    this.volumePercent = Math.max(0, Math.min(100, Math.round(percent)));
  }

  get playingReply(): boolean {
    return this.reply !== undefined;
  }

  /** Plays a short sound; failures are logged, never thrown (an earcon is best effort). */
  earcon(name: EarconName): Promise<void> {
    this.stopReply();
    const pcm = renderEarcon(name);
    const run = async (): Promise<void> => {
      try {
        await this.sink.open(CAPTURE_FORMAT);
        this.sink.write(this.scale(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength)));
        await this.sink.end();
      } catch (err) {
        this.log.warn({ earcon: name, err: errorMessage(err) }, 'earcon could not be played');
      }
    };
    this.tail = this.tail.then(run);
    return this.tail;
  }

  beginReply(format: PcmFormat): void {
    this.stopReply();
    if (format.bitsPerSample !== 16) {
      throw new EarshotError(
        'E_REPLY_FORMAT',
        `reply format not playable: ${format.bitsPerSample}-bit`,
      );
    }
    const reply = { bytes: 0, ending: false };
    this.reply = reply;
    this.tail = this.tail
      .then(() => this.sink.open(format))
      .catch((err: unknown) => {
        this.log.error({ err: errorMessage(err) }, 'playback device failed to open');
        if (this.reply === reply) this.finish(reply, true, errorMessage(err));
      });
  }

  writeReply(chunk: Buffer): void {
    const reply = this.reply;
    if (!reply || reply.ending) return;
    if (reply.bytes === 0) this.emit('replyFirstByte');
    reply.bytes += chunk.length;
    const scaled = this.scale(chunk);
    // Queued behind open(); the sink itself never blocks the caller.
    this.tail = this.tail.then(() => {
      if (this.reply === reply) this.sink.write(scaled);
    });
  }

  endReply(): void {
    const reply = this.reply;
    if (!reply || reply.ending) return;
    reply.ending = true;
    this.tail = this.tail
      .then(() => this.sink.end())
      .then(
        () => this.finish(reply, false),
        (err: unknown) => {
          this.log.error({ err: errorMessage(err) }, 'reply playback failed');
          this.finish(reply, true, errorMessage(err));
        },
      );
  }

  /** Stops the reply now (barge-in, stop command, mute). */
  stopReply(): void {
    const reply = this.reply;
    if (!reply) return;
    this.sink.abort();
    this.finish(reply, true);
  }

  /** Nothing to open ahead: the sink opens for each sound. */
  async start(): Promise<void> {}

  /** Shutdown: the reply playing (if any) stops. */
  async stop(): Promise<void> {
    this.stopReply();
  }

  /** Waits until every queued sound has been handed to the sink. */
  idle(): Promise<void> {
    return this.tail;
  }

  private finish(reply: { bytes: number }, aborted: boolean, error?: string): void {
    if (this.reply !== reply) return;
    this.reply = undefined;
    this.emit('replyDone', { aborted, bytes: reply.bytes, ...(error ? { error } : {}) });
  }

  private scale(chunk: Buffer): Buffer {
    if (this.volumePercent >= 100) return chunk;
    // Perceived loudness is roughly logarithmic: a squared gain feels linear on a slider.
    const gain = (this.volumePercent / 100) ** 2;
    const out = Buffer.allocUnsafe(chunk.length - (chunk.length % 2));
    for (let i = 0; i + 1 < chunk.length; i += 2) {
      out.writeInt16LE(Math.round(chunk.readInt16LE(i) * gain), i);
    }
    return out;
  }
}
