/**
 * End of a spoken command, the way Home Assistant's `VoiceCommandSegmenter` decides it
 * (assist_pipeline/vad.py): speech for `speechSeconds` starts the command, silence for
 * `silenceSeconds` after it ends it, `timeoutSeconds` of audio ends it in any case.
 * HA scores each 10 ms chunk with its own speech model; the stand-in uses the chunk's
 * level instead (the fixtures' noise bed is near -67 dBFS, speech near -20 dBFS).
 */
export interface SegmenterOptions {
  speechSeconds: number;
  silenceSeconds: number;
  timeoutSeconds: number;
  /** Silence that resets speech heard before the command began. */
  resetSeconds: number;
  thresholdDbfs: number;
}

export const HA_SEGMENTER: SegmenterOptions = {
  speechSeconds: 0.3,
  silenceSeconds: 0.7,
  timeoutSeconds: 15,
  resetSeconds: 1,
  thresholdDbfs: -45,
};

/** HA re-chunks audio into 10 ms pieces (320 bytes at 16 kHz) before its VAD. */
const CHUNK_BYTES = 320;
const CHUNK_S = 0.01;

export type SegmentEvent = { type: 'start' | 'end'; timestampMs: number; timedOut?: boolean };

export class Segmenter {
  private rest = Buffer.alloc(0);
  private inCommand = false;
  private speech = 0;
  private silence = 0;
  private total = 0;
  private ended = false;

  constructor(private readonly o: SegmenterOptions = HA_SEGMENTER) {}

  /** Feeds audio; returns what happened in it (at most one start and one end). */
  process(pcm: Buffer): SegmentEvent[] {
    const out: SegmentEvent[] = [];
    if (this.ended) return out;
    let buf = this.rest.length ? Buffer.concat([this.rest, pcm]) : pcm;
    while (buf.length >= CHUNK_BYTES && !this.ended) {
      const chunk = buf.subarray(0, CHUNK_BYTES);
      buf = buf.subarray(CHUNK_BYTES);
      this.total += CHUNK_S;
      const loud = dbfs(chunk) > this.o.thresholdDbfs;
      const ms = Math.round(this.total * 1000);
      if (!this.inCommand) {
        if (loud) {
          this.speech += CHUNK_S;
          this.silence = 0;
        } else {
          this.silence += CHUNK_S;
          if (this.silence >= this.o.resetSeconds) this.speech = 0;
        }
        if (this.speech >= this.o.speechSeconds) {
          this.inCommand = true;
          this.silence = 0;
          out.push({ type: 'start', timestampMs: ms });
        }
      } else {
        this.silence = loud ? 0 : this.silence + CHUNK_S;
        if (this.silence >= this.o.silenceSeconds) {
          this.ended = true;
          out.push({ type: 'end', timestampMs: ms });
        }
      }
      if (!this.ended && this.total >= this.o.timeoutSeconds) {
        this.ended = true;
        out.push({ type: 'end', timestampMs: ms, timedOut: true });
      }
    }
    this.rest = Buffer.from(buf);
    return out;
  }
}

function dbfs(chunk: Buffer): number {
  let sum = 0;
  const n = chunk.length / 2;
  for (let i = 0; i < n; i++) {
    const v = chunk.readInt16LE(i * 2) / 32768;
    sum += v * v;
  }
  return 10 * Math.log10(sum / n + 1e-12);
}
