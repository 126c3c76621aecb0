import { createHash, type Hash } from 'node:crypto';
import type { UtteranceEndMessage, UtteranceStartMessage } from '../link/protocol/index.js';

/** 16 kHz, s16le, mono: the only upload format of v1. */
export const BYTES_PER_MS = 32;
const EMPTY_SHA256 = createHash('sha256').digest('hex');

/** What an acknowledgement reports about the audio received. */
export interface ReceivedAudio {
  bytes: number;
  sha256: string;
}

/** The audio of an utterance that ended, and whether it is what the device says it sent. */
export interface EndedUtterance {
  audio: Buffer;
  sha256: string;
  integrityOk: boolean;
}

/**
 * The audio of one open utterance on the reference cloud, from `utterance.start` to its
 * end or abort. Its hash runs as chunks arrive, so the acknowledgement can name what was
 * received without hashing the whole recording again. A refused utterance (wrong format,
 * too large) keeps no audio but stays open, so its end or abort is still answered.
 */
export class IncomingUtterance {
  /** What a refused utterance reports at its end: nothing was kept. */
  static readonly NOTHING_KEPT: ReceivedAudio = { bytes: 0, sha256: EMPTY_SHA256 };

  private chunks: Buffer[] = [];
  private received = 0;
  private readonly hash: Hash = createHash('sha256');
  private refusedAudio: boolean;
  private stopSent = false;

  constructor(readonly start: UtteranceStartMessage) {
    const f = start.format;
    this.refusedAudio = !(
      f.encoding === 'pcm_s16le' &&
      f.sampleRate === 16_000 &&
      f.channels === 1
    );
  }

  get id(): string {
    return this.start.id;
  }

  /** Refused (format, size): its audio is dropped until its end or abort. */
  get refused(): boolean {
    return this.refusedAudio;
  }

  /** Milliseconds of audio received so far. */
  get audioMs(): number {
    return this.received / BYTES_PER_MS;
  }

  /** Whether `chunk` still fits under `maxBytes`; when it does not, the utterance is refused. */
  accepts(chunk: Buffer, maxBytes: number): boolean {
    if (this.received + chunk.length <= maxBytes) return true;
    this.refusedAudio = true;
    this.chunks = [];
    return false;
  }

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.received += chunk.length;
    this.hash.update(chunk);
  }

  /** True the first time the audio reaches `afterMs`: `capture.stop` is sent once. */
  stopDue(afterMs: number | undefined): boolean {
    if (afterMs === undefined || this.audioMs < afterMs || this.stopSent) return false;
    this.stopSent = true;
    return true;
  }

  /** The audio received, checked against what `utterance.end` says was sent. */
  end(end: UtteranceEndMessage): EndedUtterance {
    const audio = Buffer.concat(this.chunks);
    const sha256 = this.hash.digest('hex');
    return { audio, sha256, integrityOk: end.bytes === audio.length && end.sha256 === sha256 };
  }

  /** What was received before an abort (a refused utterance counts up to its refusal). */
  aborted(): ReceivedAudio {
    return { bytes: this.received, sha256: this.hash.digest('hex') };
  }
}
