import { createHash, type Hash } from 'node:crypto';
import { Endpointer, type EndpointerOptions } from '../audio/endpointer.js';
import { FRAME_SAMPLES, SAMPLE_RATE, frameBytes, type Frame } from '../shared/audio-format.js';
import type { UploadHandle, UploadSummary } from './ports.js';
import type { EndReason } from './states.js';

/** The timings of the end of an utterance (the `utterance` config section has them). */
export type SessionLimits = EndpointerOptions;

/**
 * Device-side speech detection (energy or Silero VAD): reset for each utterance, fed
 * each frame in order; its decisions drive the endpointer.
 */
export interface SpeechEndDetector {
  reset(): void;
  isSpeech(frame: Frame): boolean | Promise<boolean>;
}

export interface SessionResult extends UploadSummary {
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
export class UtteranceSession {
  private readonly endpointer: Endpointer;
  /** The pre-roll's frames, for the VAD to hear the wake word before the live audio. */
  private primer: readonly Frame[] = [];
  private endSample: number;
  private open = true;
  /** The device's own hash of what it sent: the ledger records it before the cloud commits. */
  private readonly hash: Hash = createHash('sha256');
  /** Only with the explicit debug option (P5): a copy of what was sent. */
  private readonly kept: Buffer[] | undefined;

  constructor(
    private readonly handle: UploadHandle,
    private readonly limits: SessionLimits,
    private readonly vad: SpeechEndDetector,
    readonly startSample: number,
    readonly preRollMs: number,
    keepAudio = false,
  ) {
    this.kept = keepAudio ? [] : undefined;
    this.endSample = startSample;
    vad.reset();
    this.endpointer = new Endpointer(limits);
    // A pre-roll means a wake word: the live audio starts right after its frame.
    this.endpointer.start(preRollMs, preRollMs > 0);
  }

  get id(): string {
    return this.handle.id;
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
    const covering = Math.ceil(preRollSamples / FRAME_SAMPLES);
    this.primer = covering > 0 ? frames.slice(-covering) : [];
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
    const decision = this.endpointer.push(speech);
    return decision.state === 'ended' ? decision.reason : undefined;
  }

  /**
   * Stops taking audio and says what was sent (bytes, duration, SHA-256), without yet
   * telling the cloud: the Device records it in the ledger first, then commits.
   */
  finish(): SessionResult {
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
  commit(reason: string): void {
    this.handle.end(reason);
  }

  /** Tells the cloud to discard the utterance. */
  abort(reason: string): void {
    this.open = false;
    this.handle.abort(reason);
  }

  private send(bytes: Buffer, samples: number): void {
    // A refused write (upload already closed by the link) sends nothing; the link
    // reports the failure through its own event.
    if (this.handle.write(bytes)) {
      this.hash.update(bytes);
      this.kept?.push(Buffer.from(bytes));
      this.endSample += samples;
    }
  }

  private result(summary: UploadSummary): SessionResult {
    return {
      ...summary,
      id: this.handle.id,
      startSample: this.startSample,
      endSample: this.endSample,
      preRollMs: this.preRollMs,
    };
  }
}
