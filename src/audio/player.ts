import { CAPTURE_FORMAT, type PcmFormat } from '../shared/audio-format.js';
import type { ErrorCode } from '../shared/error-codes.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { renderEarcon, type EarconName } from './earcons.js';
import type { AudioSink } from './sinks/sink.js';

export type PlayerEvents = {
  /**
   * A reply finished playing, or was stopped (`aborted`). `refused` when the player cut
   * it for what the cloud did (too long, sent far faster than it plays): the cloud is
   * told with that code.
   */
  replyDone: [
    {
      aborted: boolean;
      bytes: number;
      error?: string;
      refused?: { code: ErrorCode; message: string };
    },
  ];
  /** The first reply byte reached the sink (latency measurement). */
  replyFirstByte: [];
  /** Reply audio waits for the sound card: stop reading the cloud (`paused`), or go on. */
  flow: [{ paused: boolean }];
};

export interface PlayerLimits {
  /** The longest reply played; the rest is cut (E_REPLY_TOO_LONG). */
  maxReplyMs: number;
  /**
   * Reply audio waiting for the sound card, at most: past a fifth of it the cloud is
   * paused (the socket is not read), past all of it the reply is refused
   * (E_REPLY_OVERFLOW). A cloud that sends faster than real time cannot fill memory.
   */
  maxBufferedMs: number;
}

const DEFAULT_LIMITS: PlayerLimits = { maxReplyMs: 60_000, maxBufferedMs: 10_000 };

interface Reply {
  bytes: number;
  ending: boolean;
  /** Bytes accepted and not yet handed to the sink (waiting for it to open). */
  waiting: number;
  bytesPerMs: number;
  paused: boolean;
}

/**
 * Plays replies and earcons through one sink, one sound at a time. A reply is
 * streamed: each chunk goes to the sink as it arrives, so playback starts before the
 * reply is complete. A new sound stops the one playing (barge-in stops a reply).
 * Volume is applied in software, so it works with every sink.
 */
export class Player extends TypedEmitter<PlayerEvents> {
  readonly name = 'player';
  private volumePercent: number;
  private reply: Reply | undefined;
  private tail: Promise<void> = Promise.resolve();
  private readonly limits: PlayerLimits;

  constructor(
    private readonly sink: AudioSink,
    private readonly log: Logger,
    volume = 80,
    limits: Partial<PlayerLimits> = {},
  ) {
    super();
    this.volumePercent = volume;
    this.limits = { ...DEFAULT_LIMITS, ...limits };
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
    const bytesPerMs = (format.sampleRate * format.channels * 2) / 1000;
    const reply: Reply = { bytes: 0, ending: false, waiting: 0, bytesPerMs, paused: false };
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
    if (reply.bytes / reply.bytesPerMs > this.limits.maxReplyMs) {
      this.refuse(reply, 'E_REPLY_TOO_LONG', `reply longer than ${this.limits.maxReplyMs} ms`);
      return;
    }
    const scaled = this.scale(chunk);
    reply.waiting += scaled.length;
    // Queued behind open(); the sink itself never blocks the caller.
    this.tail = this.tail.then(() => {
      reply.waiting -= scaled.length;
      if (this.reply === reply) this.sink.write(scaled);
    });
    const backlogMs = (reply.waiting + this.sink.buffered) / reply.bytesPerMs;
    if (backlogMs > this.limits.maxBufferedMs) {
      this.refuse(
        reply,
        'E_REPLY_OVERFLOW',
        `reply audio arrives faster than it plays: ${Math.round(backlogMs)} ms waiting`,
      );
    } else if (!reply.paused && backlogMs > this.limits.maxBufferedMs / 5) {
      reply.paused = true;
      this.emit('flow', { paused: true });
      void this.resumeWhenDrained(reply);
    }
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

  /** Shutdown: the sound playing stops, and nothing of the sink is left running. */
  async stop(): Promise<void> {
    this.stopReply();
    await this.sink.close();
  }

  /** Waits until every queued sound has been handed to the sink. */
  idle(): Promise<void> {
    return this.tail;
  }

  private async resumeWhenDrained(reply: Reply): Promise<void> {
    await this.tail;
    await this.sink.drained();
    if (this.reply === reply && reply.paused) {
      reply.paused = false;
      this.emit('flow', { paused: false });
    }
  }

  private refuse(reply: Reply, code: ErrorCode, message: string): void {
    this.log.warn({ code, bytes: reply.bytes }, `reply refused: ${message}`);
    this.sink.abort();
    this.finish(reply, true, message, { code, message });
  }

  private finish(
    reply: Reply,
    aborted: boolean,
    error?: string,
    refused?: { code: ErrorCode; message: string },
  ): void {
    if (this.reply !== reply) return;
    this.reply = undefined;
    if (reply.paused) this.emit('flow', { paused: false });
    this.emit('replyDone', {
      aborted,
      bytes: reply.bytes,
      ...(error ? { error } : {}),
      ...(refused ? { refused } : {}),
    });
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
