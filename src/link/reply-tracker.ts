import type { ErrorCode } from '../shared/error-codes.js';
import type { ReplyEndMessage, ReplyStartMessage } from './protocol/index.js';
import type { CloudLinkEvents } from './types.js';

/**
 * Which utterances wait for a reply, and which reply is streaming now. Binary frames
 * from the cloud carry no id: between `reply.start` and `reply.end` they belong to
 * that reply, and nowhere else are they allowed. Replies are played only for
 * utterances this link sent and still waits for; a reply for anything else (an
 * aborted or failed utterance, a made-up id) is refused, so the speaker never plays
 * a stale answer.
 */
type Emit = <K extends keyof CloudLinkEvents & string>(
  event: K,
  ...args: CloudLinkEvents[K]
) => void;

export interface ReplyTrackerOptions {
  emit: Emit;
  /** Answers the cloud with an `error` message. */
  answer: (code: ErrorCode, message: string, id?: string) => void;
  /** Encodings the device can play (announced in hello.capabilities.replyEncodings). */
  playable?: readonly string[];
  /** How many utterances may wait for a reply at once; the oldest is forgotten first. */
  maxPending?: number;
}

interface Active {
  id: string;
  /** Refused at reply.start: its audio is dropped until its reply.end. */
  refused: boolean;
}

export class ReplyTracker {
  private readonly pending = new Set<string>();
  private active: Active | undefined;
  private readonly playable: readonly string[];
  private readonly maxPending: number;

  constructor(private readonly options: ReplyTrackerOptions) {
    this.playable = options.playable ?? ['pcm_s16le'];
    this.maxPending = options.maxPending ?? 8;
  }

  expect(id: string): void {
    this.pending.add(id);
    while (this.pending.size > this.maxPending) {
      const oldest = this.pending.values().next().value as string;
      this.pending.delete(oldest);
    }
  }

  isPending(id: string): boolean {
    return this.pending.has(id);
  }

  forget(id: string): void {
    this.pending.delete(id);
    if (this.active?.id === id) this.active = { id, refused: true };
  }

  /** The connection is gone: every waiting utterance (and the streaming reply) is lost. */
  dropAll(): string[] {
    const ids = [...this.pending];
    this.pending.clear();
    this.active = undefined;
    return ids;
  }

  start(message: ReplyStartMessage): void {
    const { id, format } = message;
    if (this.active?.refused && this.pending.has(id)) {
      // The refused reply never ended (its audio was being dropped anyway). Holding on
      // to it would refuse every later reply until the connection drops, so the reply
      // an utterance waits for takes over; the lapse is answered under the old id.
      const abandoned = this.active.id;
      this.active = undefined;
      this.refuse(
        'E_UNEXPECTED',
        `refused reply ${abandoned} never ended; reply ${id} takes over`,
        abandoned,
      );
    }
    if (this.active) {
      this.refuse(
        'E_UNEXPECTED',
        `reply.start for ${id} while reply ${this.active.id} streams`,
        id,
      );
      return;
    }
    if (!this.pending.has(id)) {
      this.refuse('E_UNKNOWN_UTTERANCE', `reply.start for ${id}: no utterance waits for it`, id);
      this.active = { id, refused: true };
      return;
    }
    if (!this.playable.includes(format.encoding)) {
      const text = `reply format ${format.encoding} is not one of ${this.playable.join(', ')}`;
      this.refuse('E_UNSUPPORTED_FORMAT', text, id);
      this.pending.delete(id);
      this.active = { id, refused: true };
      this.options.emit('utteranceFailed', { id, code: 'E_UNSUPPORTED_FORMAT', message: text });
      return;
    }
    this.active = { id, refused: false };
    this.options.emit('replyStart', {
      id,
      format,
      ...(message.text !== undefined ? { text: message.text } : {}),
    });
  }

  audio(chunk: Buffer): void {
    const active = this.active;
    if (!active) {
      this.refuse('E_UNEXPECTED', `binary frame (${chunk.length} bytes) outside a reply`);
      return;
    }
    if (!active.refused) this.options.emit('replyAudio', chunk, active.id);
  }

  end(message: ReplyEndMessage): void {
    const active = this.active;
    if (!active || active.id !== message.id) {
      this.refuse(
        'E_UNEXPECTED',
        `reply.end for ${message.id} without its reply.start`,
        message.id,
      );
      return;
    }
    this.active = undefined;
    if (active.refused) return;
    this.pending.delete(message.id);
    this.options.emit('replyEnd', { id: message.id, expectSpeech: message.expectSpeech === true });
  }

  private refuse(code: ErrorCode, message: string, id?: string): void {
    this.options.answer(code, message, id);
    this.options.emit('protocolError', { code, message, ...(id !== undefined ? { id } : {}) });
  }
}
