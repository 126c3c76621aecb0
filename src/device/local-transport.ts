import { createHash } from 'node:crypto';
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type {
  TransportEvents,
  UploadSummary,
  UtteranceInfo,
  UtteranceTransport,
  UtteranceUpload,
} from './ports.js';

export interface LocalTransportOptions {
  /**
   * Answer on this clock, `answerMs` after the utterance ends. `simulate` passes its
   * virtual clock, so the acknowledgement lands at the same point of the recording on
   * every run; without a clock the answer comes on a later tick of the event loop.
   */
  clock?: Clock;
  answerMs?: number;
}

/**
 * The stand-in for the cloud when none is configured (`simulate` without `--cloud`):
 * it receives an utterance exactly as the link would (bytes counted and hashed, never
 * stored), acknowledges it, and answers with an empty reply, so the device goes back
 * to idle. Nothing leaves the process.
 */
export class LocalTransport extends TypedEmitter<TransportEvents> implements UtteranceTransport {
  readonly kind = 'local';
  readonly name = 'link';
  private open = 0;
  private waiters: Array<() => void> = [];

  constructor(private readonly options: LocalTransportOptions = {}) {
    super();
  }

  /** Utterances opened and not yet ended or aborted. */
  get openUtterances(): number {
    return this.open;
  }

  /** Resolves once no utterance is open (at once when none is). */
  allClosed(): Promise<void> {
    if (this.open === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async start(): Promise<void> {
    this.emit('status', { status: 'disabled' });
  }

  async stop(): Promise<void> {}

  openUtterance(meta: UtteranceInfo): UtteranceUpload {
    const hash = createHash('sha256');
    let bytes = 0;
    let open = true;
    this.open += 1;
    const closed = (): void => {
      if (!open) return;
      open = false;
      this.open -= 1;
      if (this.open === 0) for (const wake of this.waiters.splice(0)) wake();
    };
    return {
      id: meta.id,
      write: (pcm) => {
        if (!open) return false;
        hash.update(pcm);
        bytes += pcm.length;
        return true;
      },
      end: (_reason): UploadSummary => {
        closed();
        const summary = {
          bytes,
          durationMs: Math.round((bytes / BYTES_PER_SAMPLE / SAMPLE_RATE) * 1000),
          sha256: hash.digest('hex'),
        };
        // Answer as a cloud would, but later, like a network.
        const answer = (): void => {
          this.emit('ack', { id: meta.id, stored: false });
          this.emit('replyEnd', { id: meta.id, expectSpeech: false });
        };
        const { clock, answerMs = 0 } = this.options;
        if (clock) clock.setTimeout(answer, answerMs);
        else setImmediate(answer);
        return summary;
      },
      abort: closed,
    };
  }
}

/**
 * The daemon without `cloud.url`: there is no local-only mode, so the device stays
 * `offline` (a wake word gets the error earcon) and says why.
 */
export class NoCloudTransport extends TypedEmitter<TransportEvents> implements UtteranceTransport {
  readonly kind = 'none';
  readonly name = 'link';

  async start(): Promise<void> {
    setImmediate(() => this.emit('status', { status: 'down', cause: 'cloud.url is not set' }));
  }

  async stop(): Promise<void> {}

  openUtterance(meta: UtteranceInfo): UtteranceUpload {
    setImmediate(() =>
      this.emit('utteranceFailed', {
        id: meta.id,
        code: 'E_NO_CLOUD',
        message: 'cloud.url is not set',
      }),
    );
    return {
      id: meta.id,
      write: () => false,
      end: () => ({ bytes: 0, durationMs: 0, sha256: '' }),
      abort: () => undefined,
    };
  }
}
