import { FRAME_SAMPLES } from '../../shared/audio-format.js';

/**
 * Is there anything to hear in this frame? A cheap check in front of the wake-word
 * models, so that a quiet room (most of a speaker's day) costs almost nothing: the
 * energy of the frame above the rumble (150 Hz) against a tracked noise floor. The floor
 * falls at once to any quieter frame (the pauses between words reach it) and rises
 * slowly (steady noise that grows louder closes the gate again after a while). A frame
 * `openDb` above the floor opens the gate, and it stays open `hangoverFrames` after the
 * last such frame, so the end of a word (where the keyword fires) is scored too.
 *
 * Pure and synchronous: about 3 µs a frame, against about 1 ms for the models.
 */
export interface QuietGateOptions {
  /** Open when a frame is this far above the floor (dB). */
  openDb: number;
  /** Frames the models keep running after the last loud frame. */
  hangoverFrames: number;
  /** How fast the floor rises towards louder frames (dB per frame). */
  riseDbPerFrame?: number;
  /** How fast it falls towards quieter frames (dB per frame). */
  fallDbPerFrame?: number;
  /** One-pole high-pass coefficient before the energy (0.94: about 150 Hz). */
  highPass?: number;
}

/**
 * The energy is taken above about 150 Hz (a one-pole high-pass, a = 0.94): rumble and
 * mains hum carry no speech but swing the frame energy by many dB (a fan's rumble kept
 * the gate open 95 % of the time without it). Not a pre-emphasis (0.95 x[n−1] taken off
 * every sample tilts the whole band): over pink noise that lowers the vowels' SNR, and
 * at 10 dB SNR it shut the gate at the end of the word for 13 of 238 speakers.
 */
const DEFAULT_HIGH_PASS = 0.94;
/** 0.6 dB/s: steady noise that becomes 6 dB louder closes the gate after about 10 s. */
const DEFAULT_RISE_DB = 0.05;
const DEFAULT_FALL_DB = Infinity;

export class QuietGate {
  private floorDb = Infinity;
  private sinceLoud = Infinity;
  private previous = 0;
  private highPassed = 0;
  /** The level of the last frame (dBFS, pre-emphasised), for tests and tracing. */
  levelDb = -Infinity;

  constructor(private readonly options: QuietGateOptions) {}

  /** True when the models should run on this frame. */
  update(samples: Int16Array): boolean {
    let sum = 0;
    let prev = this.previous;
    let y = this.highPassed;
    const a = this.options.highPass ?? DEFAULT_HIGH_PASS;
    for (let i = 0; i < FRAME_SAMPLES; i++) {
      const x = samples[i]!;
      y = a * (y + x - prev);
      sum += y * y;
      prev = x;
    }
    this.previous = prev;
    this.highPassed = y;
    const level = 10 * Math.log10(sum / FRAME_SAMPLES / 32768 ** 2 + 1e-12);
    this.levelDb = level;
    const loud = level > this.floorDb + this.options.openDb;
    if (!Number.isFinite(this.floorDb)) this.floorDb = level;
    else if (level < this.floorDb) {
      this.floorDb -= Math.min(
        this.options.fallDbPerFrame ?? DEFAULT_FALL_DB,
        this.floorDb - level,
      );
    } else
      this.floorDb += Math.min(
        this.options.riseDbPerFrame ?? DEFAULT_RISE_DB,
        level - this.floorDb,
      );
    this.sinceLoud = loud ? 0 : this.sinceLoud + 1;
    return this.sinceLoud <= this.options.hangoverFrames;
  }

  /** Forgets the floor (a new source: another room, another microphone). */
  clear(): void {
    this.floorDb = Infinity;
    this.sinceLoud = Infinity;
    this.previous = 0;
    this.highPassed = 0;
  }
}
