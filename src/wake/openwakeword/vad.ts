import { resolve } from 'node:path';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../shared/audio-format.js';
import { modelSessions } from '../../shared/shared-sessions.js';
import { featureModelPath } from './models.js';
import { BoundModel, openSession, Tensor, type Session } from './session.js';

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
/** VAD runs on 40 ms chunks, two per frame, as in the reference. */
const CHUNK = 640;
/** Up to this many new frames, the VAD continues from its state instead of starting over. */
const CONTINUE_FRAMES = 4;
/** Frames 7, 6 and 5 back from the firing one (its own index is 1 back), as the reference. */
const LOOK_FROM = 7;
const LOOK_TO = 5;
const STATE = 2 * 1 * 64;

export class SpeechCheck {
  /** Recent audio scaled to [-1, 1], oldest first. */
  private readonly audio = new Float32Array(VAD_HISTORY_FRAMES * FRAME_SAMPLES);
  private readonly input = new Float32Array(CHUNK);
  private readonly model: BoundModel;
  private readonly prob: Float32Array;
  private readonly hn: Float32Array;
  private readonly cn: Float32Array;
  private readonly h = new Float32Array(STATE);
  private readonly c = new Float32Array(STATE);
  /** Speech probability per kept frame, aligned with `audio`. */
  private readonly frameScores = new Float32Array(VAD_HISTORY_FRAMES);
  private filled = 0;
  /** Frames remembered since the VAD last ran; Infinity when its state is not usable. */
  private unprocessed = Infinity;
  private closed = false;

  private constructor(
    session: Session,
    private readonly key: string,
  ) {
    const feeds = {
      input: new Tensor('float32', this.input, [1, CHUNK]),
      sr: new Tensor('int64', BigInt64Array.from([BigInt(SAMPLE_RATE)]), []),
      h: new Tensor('float32', this.h, [2, 1, 64]),
      c: new Tensor('float32', this.c, [2, 1, 64]),
    };
    this.model = new BoundModel(session, feeds, { output: [1, 1], hn: [2, 1, 64], cn: [2, 1, 64] });
    this.prob = this.model.output('output');
    this.hn = this.model.output('hn');
    this.cn = this.model.output('cn');
  }

  /** Opens the model, or shares the session the end-of-speech detector already holds. */
  static async open(): Promise<SpeechCheck> {
    const key = resolve(featureModelPath('vad'));
    const session = await modelSessions.acquire(key, () => openSession(key, 'voice activity'));
    return new SpeechCheck(session, key);
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
      this.h.fill(0);
      this.c.fill(0);
      from = first;
    }
    for (let f = from; f < VAD_HISTORY_FRAMES; f++) {
      let sum = 0;
      for (let part = 0; part < FRAME_SAMPLES / CHUNK; part++) {
        const at = f * FRAME_SAMPLES + part * CHUNK;
        this.input.set(this.audio.subarray(at, at + CHUNK));
        sum += await this.step();
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

  async close(): Promise<void> {
    if (this.closed) return; // a second close must not release another user's session
    this.closed = true;
    await modelSessions.release(this.key);
  }

  private async step(): Promise<number> {
    await this.model.run();
    // The recurrent state goes back in through the input buffers for the next chunk.
    this.h.set(this.hn);
    this.c.set(this.cn);
    return this.prob[0] ?? 0;
  }
}
