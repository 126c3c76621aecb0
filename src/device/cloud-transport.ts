import type { Config } from '../config/schema.js';
import { CloudLink, type UploadHandle as LinkUpload } from '../link/index.js';
import type { PcmFormat } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { VERSION } from '../shared/version.js';
import type { TransportEvents, UploadHandle, UtteranceMeta, UtteranceTransport } from './ports.js';
import type { EndReason } from './states.js';

/** The device's end reasons in the protocol's words. */
const END_REASONS: Record<EndReason, Parameters<LinkUpload['end']>[0]> = {
  vad: 'speechEnd',
  maxLength: 'maxDuration',
  noSpeech: 'noSpeech',
  cloud: 'captureStop',
  button: 'button',
};

function abortReason(reason: string): Parameters<LinkUpload['abort']>[0] {
  if (reason === 'muted') return 'mute';
  if (reason === 'stopped') return 'cancelled';
  return 'error';
}

function pcmFormat(format: { encoding: string; sampleRate: number; channels: number }): PcmFormat {
  // v1 replies are raw 16-bit PCM; anything else is refused by the player.
  const bits = /s16/.test(format.encoding) ? 16 : /s24/.test(format.encoding) ? 24 : 0;
  return { sampleRate: format.sampleRate, channels: format.channels, bitsPerSample: bits };
}

/**
 * The cloud link behind the device's transport port: translates names and shapes,
 * nothing more. Decisions stay with the state machine and the link.
 */
export class CloudTransport extends TypedEmitter<TransportEvents> implements UtteranceTransport {
  readonly kind = 'cloud';
  readonly link: CloudLink;

  constructor(config: Config, log: Logger, clock?: Clock) {
    super();
    this.link = new CloudLink({
      cloud: config.cloud,
      hello: {
        deviceId: config.device.id,
        firmware: VERSION,
        dontSaveRecordings: config.privacy.dontSaveRecordings,
      },
      logger: log,
      ...(clock ? { clock } : {}),
    });
    const link = this.link;
    link.on('status', (s) =>
      this.emit('status', { status: s.status, ...(s.cause ? { cause: s.cause } : {}) }),
    );
    link.on('ack', (a) => this.emit('ack', { id: a.id, stored: a.stored }));
    link.on('captureStop', (c) => this.emit('captureStop', c));
    link.on('replyStart', (r) =>
      this.emit('replyStart', { id: r.id, format: pcmFormat(r.format) }),
    );
    link.on('replyAudio', (chunk, id) => this.emit('replyAudio', chunk, id));
    link.on('replyEnd', (r) => this.emit('replyEnd', r));
    link.on('utteranceFailed', (f) => this.emit('utteranceFailed', f));
  }

  async start(): Promise<void> {
    this.link.start();
  }

  async stop(): Promise<void> {
    await this.link.stop();
  }

  setRetention(dontSaveRecordings: boolean): void {
    this.link.setRetention(dontSaveRecordings);
  }

  openUtterance(meta: UtteranceMeta): UploadHandle {
    this.link.setRetention(meta.dontSaveRecordings);
    const upload = this.link.openUtterance({
      id: meta.id,
      trigger:
        meta.trigger.kind === 'wake'
          ? { kind: 'wake', keyword: meta.trigger.keyword, score: meta.trigger.score }
          : { kind: meta.trigger.kind },
      preRollMs: meta.preRollMs,
    });
    return {
      id: upload.id,
      write: (pcm) => upload.write(pcm),
      end: (reason) => {
        const s = upload.end(END_REASONS[reason as EndReason] ?? 'speechEnd');
        return { bytes: s.bytes, durationMs: s.durationMs, sha256: s.sha256 };
      },
      abort: (reason) => upload.abort(abortReason(reason)),
    };
  }
}
