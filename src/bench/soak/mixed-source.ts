import type { FrameSink, FrameSource, FrameSourceEvents } from '../../audio/sources/source.js';
import { FRAME_SAMPLES, SAMPLE_RATE, type Frame } from '../../shared/audio-format.js';
import { TypedEmitter } from '../../shared/typed-emitter.js';
import { PinkNoise } from '../wake/noise.js';

/**
 * The soak's microphone: hours of "room" audio made up as it plays, one frame at a
 * time, from a few short recordings (wake words, speech without one, noise) and
 * generated pink noise and near-silence. Nothing but the current segment's cursor is
 * held, so a 24-hour run uses as much memory as a one-minute one.
 *
 * Like the WAV source in `fast` pace, it delivers frames as fast as the loop takes
 * them and loses none; while the microphone is closed (muted) the audio goes on but
 * is not heard, and each unheard frame is reported so the caller's clock keeps moving.
 */
export interface Clip {
  name: string;
  samples: Int16Array;
  /** How many wake words the clip holds (0 for speech without one, noise). */
  wakeWords: number;
}

export type SegmentKind = 'wake' | 'speech' | 'noise-clip' | 'noise' | 'silence';

export interface MixedSourceOptions {
  /** Recordings to draw from; those with `wakeWords > 0` are the wake segments. */
  clips: Clip[];
  /** Length of the whole stream, in frames (45 000 per hour). */
  totalFrames: number;
  /** Seeded random source: the same seed plays the same stream. */
  random: () => number;
  onUnheard?: (frameIndex: number) => void;
}

/** What the stream held so far (what a perfect device would have heard). */
export interface MixStats {
  segments: Record<SegmentKind, number>;
  /** Wake words in the segments played while the microphone was open. */
  wakeWordsHeard: number;
}

interface Segment {
  kind: SegmentKind;
  frames: number;
  /** Fills `out` with frame `i` of the segment. */
  render: (i: number, out: Int16Array) => void;
  wakeWords: number;
}

/** Share of each kind of segment, summing to 1. */
const WEIGHTS: Array<[SegmentKind, number]> = [
  ['wake', 0.3],
  ['speech', 0.2],
  ['noise-clip', 0.1],
  ['noise', 0.2],
  ['silence', 0.2],
];

const dbfs = (db: number): number => 32767 * 10 ** (db / 20);

export class MixedSource extends TypedEmitter<FrameSourceEvents> implements FrameSource {
  readonly kind = 'soak-mix';
  readonly pid = undefined;
  private sink: FrameSink | undefined;
  private playing = false;
  private halted = false;
  private segment: Segment | undefined;
  private offset = 0;
  /** The open microphone heard at least one frame of the current segment. */
  private segmentHeard = false;
  private readonly noise: PinkNoise;
  private readonly floor = new Float32Array(FRAME_SAMPLES);
  readonly stats: MixStats = {
    segments: { wake: 0, speech: 0, 'noise-clip': 0, noise: 0, silence: 0 },
    wakeWordsHeard: 0,
  };

  constructor(private readonly options: MixedSourceOptions) {
    super();
    this.noise = new PinkNoise(Math.floor(options.random() * 2 ** 31));
  }

  async start(sink: FrameSink): Promise<void> {
    this.sink = sink;
    this.emit('status', { running: true });
    if (this.playing || this.halted) return;
    this.playing = true;
    void this.run();
  }

  async stop(): Promise<void> {
    if (!this.sink) return;
    this.sink = undefined;
    this.emit('status', { running: false, cause: 'stopped' });
  }

  async dispose(): Promise<void> {
    this.halted = true;
    this.sink = undefined;
  }

  private async run(): Promise<void> {
    const { totalFrames, onUnheard } = this.options;
    for (let i = 0; i < totalFrames && !this.halted; i++) {
      if (this.sink) await this.sink.whenWritable();
      if (this.halted) return;
      const sink = this.sink;
      if (sink) sink.push(this.nextFrame(i, true));
      else {
        this.nextFrame(i, false);
        onUnheard?.(i);
      }
      // Give sockets and timers a turn now and then: a muted stretch (nothing to
      // await) or a long run of frames must not hold the event loop for seconds.
      if (i % 256 === 255) await new Promise<void>((r) => setImmediate(r));
    }
    if (this.halted) return;
    this.halted = true;
    this.sink = undefined;
    this.emit('end');
    this.emit('status', { running: false, cause: 'end of stream' });
  }

  /** Frame `index` of the stream; rendered only when someone hears it. */
  private nextFrame(index: number, heard: boolean): Frame {
    if (!this.segment || this.offset >= this.segment.frames) {
      this.segment = this.plan();
      this.offset = 0;
      this.segmentHeard = false;
      this.stats.segments[this.segment.kind] += 1;
    }
    const segment = this.segment;
    const samples = new Int16Array(FRAME_SAMPLES);
    if (heard) {
      segment.render(this.offset, samples);
      if (!this.segmentHeard) {
        this.segmentHeard = true;
        this.stats.wakeWordsHeard += segment.wakeWords;
      }
    }
    this.offset += 1;
    return { index, samples };
  }

  private pick(): SegmentKind {
    let r = this.options.random();
    for (const [kind, weight] of WEIGHTS) {
      if (r < weight) return kind;
      r -= weight;
    }
    return 'silence';
  }

  private plan(): Segment {
    const { clips, random } = this.options;
    const kind = this.pick();
    const pool = clips.filter((c) =>
      kind === 'wake'
        ? c.wakeWords > 0
        : kind === 'speech'
          ? c.wakeWords === 0 && c.name !== 'noise'
          : c.name === 'noise',
    );
    const clip = pool[Math.floor(random() * pool.length)];
    if ((kind === 'wake' || kind === 'speech' || kind === 'noise-clip') && clip) {
      // A recording at a random level, over a quiet room (pink noise 55-70 dB down).
      const gain = 0.6 + random() * 0.4;
      const floorRms = dbfs(-70 + random() * 15);
      return {
        kind,
        frames: Math.ceil(clip.samples.length / FRAME_SAMPLES),
        wakeWords: clip.wakeWords,
        render: (i, out) => this.renderClip(clip.samples, i, gain, floorRms, out),
      };
    }
    if (kind === 'noise') {
      const rms = dbfs(-50 + random() * 25);
      const seconds = 2 + random() * 18;
      return { kind, frames: secondsToFrames(seconds), wakeWords: 0, render: this.noiseOf(rms) };
    }
    const seconds = 1 + random() * 29;
    return {
      kind: 'silence',
      frames: secondsToFrames(seconds),
      wakeWords: 0,
      render: this.noiseOf(dbfs(-80)),
    };
  }

  private noiseOf(rms: number): Segment['render'] {
    return (_i, out) => {
      this.noise.fill(this.floor, rms);
      for (let s = 0; s < out.length; s++) out[s] = clip16(this.floor[s]!);
    };
  }

  private renderClip(
    clip: Int16Array,
    frame: number,
    gain: number,
    floorRms: number,
    out: Int16Array,
  ): void {
    this.noise.fill(this.floor, floorRms);
    const from = frame * FRAME_SAMPLES;
    for (let s = 0; s < out.length; s++) {
      const v = from + s < clip.length ? clip[from + s]! * gain : 0;
      out[s] = clip16(v + this.floor[s]!);
    }
  }
}

function secondsToFrames(seconds: number): number {
  return Math.max(1, Math.round((seconds * SAMPLE_RATE) / FRAME_SAMPLES));
}

function clip16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}
