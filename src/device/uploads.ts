import { randomUUID } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeWavFile } from '../audio/wav.js';
import type { Config } from '../config/schema.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { UploadRecorder, UtteranceTransport } from './ports.js';
import type { EndReason, Trigger } from './states.js';
import {
  UtteranceSession,
  type SessionResult,
  type SpeechEndDetector,
} from './utterance-session.js';

export interface UploadRecord extends SessionResult {
  trigger: Trigger;
  reason: string;
  outcome: 'sent' | 'aborted' | 'failed';
  dontSaveRecordings: boolean;
  /** Clock time (ms) the upload was opened and closed. */
  openedAt: number;
  closedAt: number;
}

export interface UploadsOptions {
  config: Config;
  clock: Clock;
  log: Logger;
  transport: UtteranceTransport;
  recorder?: UploadRecorder | undefined;
  /** End of speech; one detector, reset for each utterance. */
  vad: SpeechEndDetector;
  /** An upload closed (sent, aborted or failed), after the ledger has its record. */
  onReport: (record: UploadRecord) => void;
  /** The transport refused to open, or the ledger could not record: uploads must stop. */
  onOpenFailed: (code: string, cause: string) => void;
  onLedgerFailed: (err: unknown, duringCommit: boolean) => void;
}

/**
 * The life of one utterance upload, as the state machine's effects drive it: open
 * (pre-roll, then live frames through the session), and close. A completed utterance is
 * written to the ledger first and only then committed to the cloud (`utterance.end`); if
 * the ledger cannot be written it is aborted instead: no upload without a record (P4).
 */
export class Uploads {
  private session: UtteranceSession | undefined;
  private meta: { trigger: Trigger; openedAt: number; wallStart: string } | undefined;
  private readonly preRollSamples: number;

  constructor(private readonly options: UploadsOptions) {
    this.preRollSamples = Math.round((options.config.audio.preRollMs / 1000) * SAMPLE_RATE);
  }

  /** The open utterance's id. */
  get currentId(): string | undefined {
    return this.session?.id;
  }

  /** Feeds a live frame; resolves to why speech ended on it, if it did. */
  async onFrame(frame: Frame): Promise<EndReason | undefined> {
    const session = this.session;
    if (!session) return undefined;
    const ended = await session.onFrame(frame);
    // The session may have been closed meanwhile (mute, link down): not ours to end.
    return this.session === session ? ended : undefined;
  }

  /** `recent`: the pre-roll ring, oldest first, ending with the frame the wake fired on. */
  open(trigger: Trigger, recent: readonly Frame[], dontSaveRecordings: boolean): void {
    const { config, transport, clock, log } = this.options;
    const usePreRoll = trigger.kind === 'wake';
    const frames = usePreRoll ? recent : [];
    const preRollSamples = Math.min(this.preRollSamples, frames.length * FRAME_SAMPLES);
    const last = recent[recent.length - 1];
    const nextSample = last ? (last.index + 1) * FRAME_SAMPLES : 0;
    const preRollMs = Math.round((preRollSamples / SAMPLE_RATE) * 1000);
    const id = randomUUID();
    let handle;
    try {
      handle = transport.openUtterance({ id, trigger, preRollMs, dontSaveRecordings });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'cannot open an utterance');
      queueMicrotask(() => this.options.onOpenFailed('E_OPEN', errorMessage(err)));
      return;
    }
    const session = new UtteranceSession(
      handle,
      config.utterance,
      this.options.vad,
      nextSample - preRollSamples,
      preRollMs,
      config.audio.debugSaveAudioDir !== undefined,
    );
    this.session = session;
    this.meta = { trigger, openedAt: clock.now(), wallStart: new Date().toISOString() };
    if (preRollSamples > 0) session.sendPreRoll(frames, preRollSamples);
    log.info({ id, trigger: trigger.kind, preRollMs }, 'utterance opened');
  }

  close(how: 'end' | 'abort' | 'failed', reason: string, dontSaveRecordings: boolean): void {
    const session = this.session;
    const meta = this.meta;
    if (!session || !meta) return;
    this.session = undefined;
    this.meta = undefined;
    // Aborted or failed: the cloud is told to discard it (a no-op when the link is gone).
    if (how !== 'end') session.abort(reason);
    const result = session.finish();
    this.saveDebugAudio(result.id, session.keptAudio());
    const record: UploadRecord = {
      ...result,
      trigger: meta.trigger,
      reason,
      outcome: how === 'end' ? 'sent' : how === 'abort' ? 'aborted' : 'failed',
      dontSaveRecordings,
      openedAt: meta.openedAt,
      closedAt: this.options.clock.now(),
    };
    const recorded = this.options.recorder?.record({
      id: record.id,
      trigger: record.trigger,
      preRollMs: record.preRollMs,
      outcome: record.outcome,
      reason,
      dontSaveRecordings,
      bytes: record.bytes,
      durationMs: record.durationMs,
      sha256: record.sha256,
      start: meta.wallStart,
      end: new Date().toISOString(),
    });
    if (how !== 'end' || !recorded) {
      if (how === 'end') session.commit(reason);
      this.options.onReport(record);
      recorded?.catch((err: unknown) => this.options.onLedgerFailed(err, false));
      return;
    }
    recorded.then(
      () => {
        session.commit(reason);
        this.options.onReport(record);
      },
      (err: unknown) => {
        session.abort('ledger unavailable');
        this.options.onReport({ ...record, outcome: 'failed', reason: 'ledger unavailable' });
        this.options.onLedgerFailed(err, true);
      },
    );
  }

  /**
   * Debug only, off unless `audio.debugSaveAudioDir` is set (P5: no audio at rest
   * otherwise). Written asynchronously, never on the audio path.
   */
  private saveDebugAudio(id: string, audio: Buffer | undefined): void {
    const dir = this.options.config.audio.debugSaveAudioDir;
    if (!dir || !audio) return;
    const file = join(dir, `${id}.wav`);
    const { log } = this.options;
    log.warn({ file }, 'debug: saving the utterance audio to disk (audio.debugSaveAudioDir)');
    const samples = new Int16Array(audio.buffer, audio.byteOffset, audio.byteLength / 2);
    mkdir(dir, { recursive: true })
      .then(() => writeWavFile(file, samples))
      .catch((err: unknown) => log.error({ err: errorMessage(err) }, 'debug audio not saved'));
  }
}
