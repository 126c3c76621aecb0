import { createHash } from 'node:crypto';
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from '../shared/audio-format.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type {
  TransportEvents,
  UploadSummary,
  UtteranceInfo,
  UtteranceTransport,
  UtteranceUpload,
} from './ports.js';

/**
 * The stand-in for the cloud when none is configured (`simulate` without `--cloud`):
 * it receives an utterance exactly as the link would (bytes counted and hashed, never
 * stored), acknowledges it, and answers with an empty reply, so the device goes back
 * to idle. Nothing leaves the process.
 */
export class LocalTransport extends TypedEmitter<TransportEvents> implements UtteranceTransport {
  readonly kind = 'local';
  readonly name = 'link';

  async start(): Promise<void> {
    this.emit('status', { status: 'disabled' });
  }

  async stop(): Promise<void> {}

  openUtterance(meta: UtteranceInfo): UtteranceUpload {
    const hash = createHash('sha256');
    let bytes = 0;
    let open = true;
    return {
      id: meta.id,
      write: (pcm) => {
        if (!open) return false;
        hash.update(pcm);
        bytes += pcm.length;
        return true;
      },
      end: (_reason): UploadSummary => {
        open = false;
        const summary = {
          bytes,
          durationMs: Math.round((bytes / BYTES_PER_SAMPLE / SAMPLE_RATE) * 1000),
          sha256: hash.digest('hex'),
        };
        // Answer as a cloud would, but on a later tick, like a network.
        setImmediate(() => {
          this.emit('ack', { id: meta.id, stored: false });
          this.emit('replyEnd', { id: meta.id, expectSpeech: false });
        });
        return summary;
      },
      abort: () => {
        open = false;
      },
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
