import type { Config } from '../config/schema.js';
import { CloudLink, type WireAbortReason, type WireEndReason } from '../link/index.js';
import type { PcmFormat } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import type { DeviceStateName } from '../shared/device-status.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { loadReceiptPublicKey } from '../shared/receipt.js';
import { VERSION } from '../shared/version.js';
import type {
  CutReason,
  Destination,
  TransportEvents,
  UtteranceInfo,
  UtteranceTransport,
  UtteranceUpload,
} from './ports.js';
import type { EndReason } from './states.js';

/** The device's end reasons in the protocol's words. */
const END_REASONS: Record<EndReason, WireEndReason> = {
  vad: 'speechEnd',
  maxLength: 'maxDuration',
  noSpeech: 'noSpeech',
  cloud: 'captureStop',
  button: 'button',
};

function abortReason(reason: CutReason): WireAbortReason {
  if (reason === 'muted') return 'mute';
  if (reason === 'stopped') return 'cancelled';
  return 'error';
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
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
  readonly name = 'link';
  readonly link: CloudLink;
  readonly destination: Destination | undefined;
  private muted = false;

  constructor(config: Config, log: Logger, clock?: Clock) {
    super();
    this.destination = config.cloud.url
      ? { protocol: 'earshot', host: hostOf(config.cloud.url), retentionSent: true }
      : undefined;
    this.link = new CloudLink({
      cloud: config.cloud,
      hello: {
        deviceId: config.device.id,
        firmware: VERSION,
        dontSaveRecordings: config.privacy.dontSaveRecordings,
      },
      logger: log,
      ...(clock ? { clock } : {}),
      ...(config.cloud.receiptKey
        ? { receiptKey: loadReceiptPublicKey(config.cloud.receiptKey) }
        : {}),
    });
    const link = this.link;
    link.on('status', (s) =>
      this.emit('status', { status: s.status, ...(s.cause ? { cause: s.cause } : {}) }),
    );
    link.on('ack', (a) =>
      this.emit('ack', {
        id: a.id,
        stored: a.stored,
        bytes: a.bytes,
        ...(a.sha256 !== undefined ? { sha256: a.sha256 } : {}),
        aborted: a.aborted ?? false,
        ...(a.receipt
          ? {
              receipt: {
                deviceId: config.device.id,
                time: a.receipt.time,
                signature: a.receipt.signature,
              },
            }
          : {}),
      }),
    );
    link.on('captureStop', (c) => this.emit('captureStop', c));
    link.on('replyStart', (r) =>
      this.emit('replyStart', { id: r.id, format: pcmFormat(r.format) }),
    );
    link.on('replyAudio', (chunk, id) => this.emit('replyAudio', chunk, id));
    link.on('replyEnd', (r) => this.emit('replyEnd', r));
    link.on('utteranceFailed', (f) => this.emit('utteranceFailed', f));
    link.on('settings', (s) => {
      if (s.volume !== undefined) this.emit('settings', { volume: s.volume });
    });
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

  answer(code: ErrorCode, message: string, id?: string): void {
    this.link.refuse(code, message, id);
  }

  pauseReplies(paused: boolean): void {
    this.link.pause(paused);
  }

  reportState(state: DeviceStateName): void {
    if (state === 'muted') this.muted = true;
    else if (state !== 'booting') this.muted = false;
    // Not up: nothing to tell; the next hello and state change bring the cloud up to date.
    this.link.sendState({ state, muted: this.muted });
  }

  openUtterance(info: UtteranceInfo): UtteranceUpload {
    this.link.setRetention(info.dontSaveRecordings);
    const upload = this.link.openUtterance({
      id: info.id,
      trigger:
        info.trigger.kind === 'wake'
          ? { kind: 'wake', keyword: info.trigger.keyword, score: info.trigger.score }
          : { kind: info.trigger.kind },
      preRollMs: info.preRollMs,
    });
    return {
      id: upload.id,
      write: (pcm) => upload.write(pcm),
      end: (reason) => {
        const s = upload.end(END_REASONS[reason]);
        return { bytes: s.bytes, durationMs: s.durationMs, sha256: s.sha256 };
      },
      abort: (reason) => upload.abort(abortReason(reason)),
    };
  }
}
