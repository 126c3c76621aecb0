import { createHash, type Hash } from 'node:crypto';
import { Endpointer, type EndpointerOptions } from '../audio/endpointer.js';
import { FRAME_SAMPLES, SAMPLE_RATE, frameBytes, type Frame } from '../shared/audio-format.js';
import type { CutReason, UploadSummary, UtteranceUpload } from './ports.js';
import type { EndReason } from './states.js';

/** The timings of the end of an utterance (the `utterance` config section has them). */
export type UtteranceLimits = EndpointerOptions;

/**
 * Device-side speech detection (energy or Silero VAD): reset for each utterance, fed
 * each frame in order; its decisions drive the endpointer.
 */
export interface SpeechEndDetector {
  reset(): void;
  isSpeech(frame: Frame): boolean | Promise<boolean>;
  /** The utterance's estimated SNR so far, dB, if the detector measures it. */
  snrDb?(): number | undefined;
}

export interface UtteranceResult extends UploadSummary {
  id: string;
  /** First and one-past-last sample sent, on the source's time line. */
  startSample: number;
  endSample: number;
  preRollMs: number;
}

/**
 * The audio side of one open utterance: it sends the pre-roll, then each live frame,
 * and decides on the device side when speech has ended (src/audio/endpointer.ts: the
 * command's trailing silence, the hard cap, or no command at all). It only *reports*
 * the end; the state machine decides, and closes the upload through the Device (as it
 * does for the cloud's `capture.stop` and the button).
 */
export class UtteranceAudio {
  private readonly endpointer: Endpointer;
  /** The pre-roll's frames, for the VAD to hear the wake word before the live audio. */
  private primer: readonly Frame[] = [];
  private endSample: number;
  private open = true;
  /** The utterance's estimated SNR after the last frame (undefined: not measured). */
  private snrDb: number | undefined;
  /** The device's own hash of what it sent: the ledger records it before the cloud commits. */
  private readonly hash: Hash = createHash('sha256');
  /** Only with the explicit debug option (P5): a copy of what was sent. */
  private readonly kept: Buffer[] | undefined;

  constructor(
    private readonly upload: UtteranceUpload,
    private readonly limits: UtteranceLimits,
    private readonly vad: SpeechEndDetector,
    readonly startSample: number,
    readonly preRollMs: number,
    keepAudio = false,
    /** Opened by a wake word: the live audio starts right after its frame. */
    afterWake = preRollMs > 0,
  ) {
    this.kept = keepAudio ? [] : undefined;
    this.endSample = startSample;
    vad.reset();
    this.endpointer = new Endpointer(limits);
    this.endpointer.start(preRollMs, afterWake);
  }

  /**
   * The frames up to and with the wake word, for the VAD to hear before the live audio
   * (whatever part of them is sent: that is the pre-roll's business).
   */
  prime(frames: readonly Frame[]): void {
    this.primer = frames;
  }

  get id(): string {
    return this.upload.id;
  }

  /**
   * Sends the last `preRollSamples` samples of `frames` (oldest first, ending with the
   * frame the wake word fired on). Sample-exact, so never more than configured (P3).
   */
  sendPreRoll(frames: readonly Frame[], preRollSamples: number): void {
    let skip = frames.length * FRAME_SAMPLES - preRollSamples;
    for (const frame of frames) {
      if (skip >= FRAME_SAMPLES) {
        skip -= FRAME_SAMPLES;
        continue;
      }
      const part = skip > 0 ? frame.samples.subarray(skip) : frame.samples;
      skip = 0;
      this.send(Buffer.from(part.buffer, part.byteOffset, part.byteLength), part.length);
    }
  }

  /**
   * Sends a live frame (at once, synchronously), then asks the VAD and the endpointer;
   * returns why the utterance ended on this frame, if it did.
   */
  async onFrame(frame: Frame): Promise<EndReason | undefined> {
    if (!this.open) return undefined;
    this.send(frameBytes(frame), FRAME_SAMPLES);
    // Silero decides from context: with the wake word in its state it tells the word's
    // tail from the pause after it (`npm run bench:vad`, `newUnprimed`: a VAD that
    // starts on the live audio cuts off several times as many requests).
    const primer = this.primer;
    this.primer = [];
    for (const f of primer) await this.vad.isSpeech(f);
    const speech = await this.vad.isSpeech(frame);
    if (!this.open) return undefined;
    this.snrDb = this.vad.snrDb?.();
    const decision = this.endpointer.push(speech, this.snrDb);
    return decision.state === 'ended' ? decision.reason : undefined;
  }

  /**
   * The room as the endpointer last heard it: the utterance's estimated SNR (dB, when
   * the VAD measures one) and the hangover that follows from it; for the log line that
   * says why an utterance ended when it did.
   */
  get room(): { snrDb?: number; hangoverMs: number } {
    const hangoverMs = this.endpointer.hangoverMs(this.snrDb);
    return this.snrDb === undefined ? { hangoverMs } : { snrDb: this.snrDb, hangoverMs };
  }

  /**
   * Stops taking audio and says what was sent (bytes, duration, SHA-256), without yet
   * telling the cloud: the Device records it in the ledger first, then commits.
   */
  finish(): UtteranceResult {
    this.open = false;
    const samples = this.endSample - this.startSample;
    return this.result({
      bytes: samples * 2,
      durationMs: Math.round((samples / SAMPLE_RATE) * 1000),
      sha256: this.hash.copy().digest('hex'),
    });
  }

  /** The audio sent, when the session was asked to keep it (debug only). */
  keptAudio(): Buffer | undefined {
    return this.kept ? Buffer.concat(this.kept) : undefined;
  }

  /** Sends `utterance.end`: the cloud may now act on the audio. */
  commit(reason: EndReason): void {
    this.upload.end(reason);
  }

  /** Tells the cloud to discard the utterance. */
  abort(reason: CutReason): void {
    this.open = false;
    this.upload.abort(reason);
  }

  private send(bytes: Buffer, samples: number): void {
    // A refused write (upload already closed by the link) sends nothing; the link
    // reports the failure through its own event.
    if (this.upload.write(bytes)) {
      this.hash.update(bytes);
      this.kept?.push(Buffer.from(bytes));
      this.endSample += samples;
    }
  }

  private result(summary: UploadSummary): UtteranceResult {
    return {
      ...summary,
      id: this.upload.id,
      startSample: this.startSample,
      endSample: this.endSample,
      preRollMs: this.preRollMs,
    };
  }
}
