import { FRAME_SAMPLES } from '../../shared/audio-format.js';
import { SILERO_CHUNK as CHUNK, SileroStream } from '../../models/silero-stream.js';

/**
 * A voice-activity check with Silero VAD (the model bundled with openWakeWord), asked
 * only when a keyword is about to fire: "was there speech 0.3–0.6 s before this frame?"
 * A keyword ends where the classifier fires, so its voiced part lies just before; a
 * score that rises in noise after speech has ended (seen at 10 dB SNR) does not.
 *
 * The reference runs the VAD on every chunk (openWakeWord model.py, `vad_threshold`).
 * Here the recent audio is kept instead, and the VAD runs over it only on demand, so
 * frames that fire nothing cost a copy of 1280 samples, not two LSTM runs. The first
 * question runs the VAD from a fresh state over the whole kept history (its own warm-up
 * included); while questions follow each other closely (a keyword scores over several
 * frames), the VAD continues from where it stopped over the new frames only.
 */

/** Frames of audio kept: the VAD's own warm-up plus the frames it is asked about. */
export const VAD_HISTORY_FRAMES = 16;
/** Up to this many new frames, the VAD continues from its state instead of starting over. */
const CONTINUE_FRAMES = 4;
/** Frames 7, 6 and 5 back from the firing one (its own index is 1 back), as the reference. */
const LOOK_FROM = 7;
const LOOK_TO = 5;

export class SpeechCheck {
  /** Recent audio scaled to [-1, 1], oldest first. */
  private readonly audio = new Float32Array(VAD_HISTORY_FRAMES * FRAME_SAMPLES);
  /** Speech probability per kept frame, aligned with `audio`. */
  private readonly frameScores = new Float32Array(VAD_HISTORY_FRAMES);
  private filled = 0;
  /** Frames remembered since the VAD last ran; Infinity when its state is not usable. */
  private unprocessed = Infinity;

  private constructor(private readonly stream: SileroStream) {}

  /** Opens the model, or shares the session the end-of-speech detector already holds. */
  static async open(): Promise<SpeechCheck> {
    return new SpeechCheck(await SileroStream.open());
  }

  /** Keeps one frame of audio (call for every frame, in order). */
  remember(samples: Int16Array): void {
    const a = this.audio;
    a.copyWithin(0, FRAME_SAMPLES);
    const base = a.length - FRAME_SAMPLES;
    for (let i = 0; i < FRAME_SAMPLES; i++) a[base + i] = samples[i]! / 32767;
    this.frameScores.copyWithin(0, 1);
    this.filled = Math.min(VAD_HISTORY_FRAMES, this.filled + 1);
    this.unprocessed += 1;
  }

  /** Forgets the kept audio (after a reset of the detector). */
  clear(): void {
    this.audio.fill(0);
    this.filled = 0;
    this.unprocessed = Infinity;
  }

  /** The highest speech probability among the frames 5–7 before the newest one. */
  async recentSpeech(): Promise<number> {
    const first = VAD_HISTORY_FRAMES - this.filled;
    let from = VAD_HISTORY_FRAMES - this.unprocessed;
    if (this.unprocessed > CONTINUE_FRAMES) {
      this.stream.resetState();
      from = first;
    }
    for (let f = from; f < VAD_HISTORY_FRAMES; f++) {
      let sum = 0;
      for (let part = 0; part < FRAME_SAMPLES / CHUNK; part++) {
        const at = f * FRAME_SAMPLES + part * CHUNK;
        this.stream.input.set(this.audio.subarray(at, at + CHUNK));
        sum += await this.stream.step();
      }
      this.frameScores[f] = sum / (FRAME_SAMPLES / CHUNK);
    }
    this.unprocessed = 0;
    let best = 0;
    for (let back = LOOK_FROM; back >= LOOK_TO; back--) {
      const f = VAD_HISTORY_FRAMES - back;
      if (f >= first) best = Math.max(best, this.frameScores[f]!);
    }
    return best;
  }

  close(): Promise<void> {
    return this.stream.close();
  }
}
