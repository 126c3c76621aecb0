import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { writeWavFile } from '../shared/wav.js';
import type { Config } from '../config/schema.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { UploadRecorder, UtteranceTransport } from './ports.js';
import {
  closeOutcome,
  closeReason,
  type EndReason,
  type UploadClose,
  type Utterance,
  type UtteranceTrigger,
} from './states.js';
import { UtteranceAudio, type SpeechEndDetector, type UtteranceResult } from './utterance-audio.js';

export interface UploadRecord extends UtteranceResult {
  trigger: UtteranceTrigger;
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
  onClosed: (record: UploadRecord) => void;
  /** The transport refused to open the utterance. */
  onOpenFailed: (id: string, message: string) => void;
}

interface Open {
  audio: UtteranceAudio;
  trigger: UtteranceTrigger;
  dontSaveRecordings: boolean;
  openedAt: number;
  wallStart: string;
}

/**
 * The life of one utterance upload, as the state machine's effects drive it: open
 * (pre-roll, then live frames), and close. A completed utterance is written to the
 * ledger first and only then committed to the cloud (`utterance.end`); if the ledger
 * cannot be written it is aborted instead: no upload without a record (P4).
 */
export class Uploads {
  private current: Open | undefined;
  private readonly preRollSamples: number;

  private readonly primeFrames: number;

  constructor(private readonly options: UploadsOptions) {
    // The cloud may want less than the owner allows (Home Assistant: what follows the
    // wake word); the smaller bound is what is sent, and recorded (P3, P4).
    const preRollMs = Math.min(
      options.config.audio.preRollMs,
      options.transport.maxPreRollMs ?? Number.POSITIVE_INFINITY,
    );
    this.preRollSamples = Math.round((preRollMs / 1000) * SAMPLE_RATE);
    // The VAD hears the wake word whatever part of it is sent.
    this.primeFrames = Math.ceil(
      ((options.config.audio.preRollMs / 1000) * SAMPLE_RATE) / FRAME_SAMPLES,
    );
  }

  /** Feeds a live frame; resolves to why speech ended on it, with the utterance's id. */
  async onFrame(frame: Frame): Promise<{ id: string; reason: EndReason } | undefined> {
    const open = this.current;
    if (!open) return undefined;
    const reason = await open.audio.onFrame(frame);
    if (reason === 'vad') {
      // Which hangover ended it, and why: a quiet room's shorter or a noisy room's longer.
      this.options.log.info({ id: open.audio.id, ...open.audio.room }, 'end of speech');
    }
    return reason ? { id: open.audio.id, reason } : undefined;
  }

  /** `recent`: the pre-roll ring, oldest first, ending with the frame the wake fired on. */
  open(utterance: Utterance, recent: readonly Frame[], dontSaveRecordings: boolean): void {
    const { config, transport, clock, log } = this.options;
    const { id, trigger } = utterance;
    const frames = trigger.kind === 'wake' ? recent : [];
    const preRollSamples = Math.min(this.preRollSamples, frames.length * FRAME_SAMPLES);
    const last = recent[recent.length - 1];
    const nextSample = last ? (last.index + 1) * FRAME_SAMPLES : 0;
    const preRollMs = Math.round((preRollSamples / SAMPLE_RATE) * 1000);
    let upload;
    try {
      upload = transport.openUtterance({ id, trigger, preRollMs, dontSaveRecordings });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'cannot open an utterance');
      queueMicrotask(() => this.options.onOpenFailed(id, errorMessage(err)));
      return;
    }
    const audio = new UtteranceAudio(
      upload,
      config.utterance,
      this.options.vad,
      nextSample - preRollSamples,
      preRollMs,
      config.audio.debugSaveAudioDir !== undefined,
      trigger.kind === 'wake',
    );
    // The VAD hears the wake word first, so it tells the word's tail from the pause after.
    if (trigger.kind === 'wake') audio.prime(recent.slice(-this.primeFrames));
    this.current = {
      audio,
      trigger,
      dontSaveRecordings,
      openedAt: clock.now(),
      wallStart: new Date().toISOString(),
    };
    if (preRollSamples > 0) audio.sendPreRoll(frames, preRollSamples);
    log.info({ id, trigger: trigger.kind, preRollMs }, 'utterance opened');
  }

  close(id: string, close: UploadClose): void {
    const open = this.current;
    if (!open || open.audio.id !== id) return;
    this.current = undefined;
    const { audio } = open;
    // Aborted or failed: the cloud is told to discard it (a no-op when the link is gone).
    if (close.how !== 'end') audio.abort(close.reason);
    const result = audio.finish();
    this.saveDebugAudio(result.id, audio.keptAudio());
    const reason = closeReason(close);
    const record: UploadRecord = {
      ...result,
      trigger: open.trigger,
      reason,
      outcome: closeOutcome(close),
      dontSaveRecordings: open.dontSaveRecordings,
      openedAt: open.openedAt,
      closedAt: this.options.clock.now(),
    };
    const recorded = this.options.recorder?.record({
      id: record.id,
      trigger: record.trigger,
      preRollMs: record.preRollMs,
      outcome: record.outcome,
      reason,
      dontSaveRecordings: record.dontSaveRecordings,
      bytes: record.bytes,
      durationMs: record.durationMs,
      sha256: record.sha256,
      start: open.wallStart,
      end: new Date().toISOString(),
      ...(this.options.transport.destination
        ? { destination: this.options.transport.destination }
        : {}),
    });
    if (close.how !== 'end' || !recorded) {
      if (close.how === 'end') audio.commit(close.reason);
      this.options.onClosed(record);
      // A failed write is reported by the ledger itself (it goes down, uploads stop).
      recorded?.catch(() => undefined);
      return;
    }
    const endReason = close.reason;
    recorded.then(
      () => {
        audio.commit(endReason);
        this.options.onClosed(record);
      },
      () => {
        audio.abort('ledger failed');
        this.options.onClosed({ ...record, outcome: 'failed', reason: 'ledger unavailable' });
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
