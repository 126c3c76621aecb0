import { createHash, type Hash } from 'node:crypto';
import type { WireAbortReason, DeviceMessage, WireEndReason } from './protocol/index.js';

/**
 * One utterance on its way to the cloud. The device's state machine opens it when it
 * enters `listening` and ends or aborts it when it leaves (P2): the upload never
 * ends itself, except by failing. Everything here is synchronous and cheap because
 * `write` runs inside the audio loop: no awaiting, no queue of our own beyond the
 * socket's, and a hard limit on that.
 */
export interface UploadResult {
  /** Audio duration of the bytes sent, from the byte count and the capture format. */
  durationMs: number;
  /** Payload bytes handed to the connection. */
  bytes: number;
  /** SHA-256 (hex) of those bytes, in order. */
  sha256: string;
  /** True when `utterance.end` went out (false after a failure or abort). */
  completed: boolean;
}

export interface CloudUpload {
  readonly id: string;
  /**
   * Sends one chunk of s16le PCM. Returns false and sends nothing once the upload is
   * ended, aborted or failed. The chunk is copied before it goes out (client frames
   * are masked), so the caller may reuse its buffer right away.
   */
  write(pcm: Buffer): boolean;
  /** Ends the utterance normally; idempotent. Returns what was sent. */
  end(reason: WireEndReason): UploadResult;
  /** Drops the utterance; the cloud discards it. Idempotent. */
  abort(reason: WireAbortReason): void;
  /** `open` until end/abort; `failed` after a dropped link or backpressure. */
  readonly state: UploadState;
}

export type UploadState = 'open' | 'ended' | 'aborted' | 'failed';

/** Where an upload writes: bound to one connection, so a reconnect cannot carry it on. */
export interface UploadSink {
  send(data: DeviceMessage | Buffer): boolean;
  bufferedAmount(): number;
}

export interface UploadOptions {
  id: string;
  sink: UploadSink;
  /** Abort when this much is queued and not yet in the kernel. */
  maxBufferedBytes: number;
  /** Bytes of audio per millisecond (32 for 16 kHz s16le mono). */
  bytesPerMs: number;
  /** Told once when the upload fails by itself (never from inside `write`'s call stack). */
  onFailed: (id: string, code: string, message: string) => void;
  /** Told once when the upload is over for any reason, with the final state. */
  onClosed: (id: string, state: Exclude<UploadState, 'open'>) => void;
}

export class Upload implements CloudUpload {
  private current: UploadState = 'open';
  private sent = 0;
  private readonly hash: Hash = createHash('sha256');
  private digest: string | undefined;

  constructor(private readonly options: UploadOptions) {}

  get id(): string {
    return this.options.id;
  }

  get state(): UploadState {
    return this.current;
  }

  write(pcm: Buffer): boolean {
    if (this.current !== 'open') return false;
    if (pcm.length === 0) return true;
    const queued = this.options.sink.bufferedAmount();
    if (queued + pcm.length > this.options.maxBufferedBytes) {
      // The cloud (or the network) is slower than real time. Waiting would stall the
      // audio loop or grow memory without bound; fail loudly instead (DESIGN: queues
      // are bounded, the audio loop keeps its pace).
      this.options.sink.send({ type: 'utterance.abort', id: this.id, reason: 'backpressure' });
      this.fail(
        'E_BACKPRESSURE',
        `upload aborted: ${queued} bytes still queued (limit ${this.options.maxBufferedBytes})`,
      );
      return false;
    }
    if (!this.options.sink.send(pcm)) {
      this.fail('E_LINK_DOWN', 'upload failed: the connection is gone');
      return false;
    }
    this.hash.update(pcm);
    this.sent += pcm.length;
    return true;
  }

  end(reason: WireEndReason): UploadResult {
    if (this.current === 'open') {
      this.current = 'ended';
      const summary = this.summary(true);
      this.options.sink.send({ type: 'utterance.end', id: this.id, reason, ...strip(summary) });
      this.options.onClosed(this.id, this.current);
      return summary;
    }
    return this.summary(this.current === 'ended');
  }

  abort(reason: WireAbortReason): void {
    if (this.current !== 'open') return;
    this.current = 'aborted';
    this.options.sink.send({ type: 'utterance.abort', id: this.id, reason });
    this.options.onClosed(this.id, this.current);
  }

  /** Marks the upload failed (link lost, backpressure); the failure is reported asynchronously. */
  fail(code: string, message: string): void {
    if (this.current !== 'open') return;
    this.current = 'failed';
    this.options.onClosed(this.id, this.current);
    // Reported on a later tick: the listener (the state machine) must not run inside
    // the audio loop's write() call, which may be in the middle of a frame.
    queueMicrotask(() => this.options.onFailed(this.id, code, message));
  }

  private summary(completed: boolean): UploadResult {
    this.digest ??= this.hash.digest('hex');
    return {
      durationMs: Math.round(this.sent / this.options.bytesPerMs),
      bytes: this.sent,
      sha256: this.digest,
      completed,
    };
  }
}

function strip(s: UploadResult): { durationMs: number; bytes: number; sha256: string } {
  return { durationMs: s.durationMs, bytes: s.bytes, sha256: s.sha256 };
}
