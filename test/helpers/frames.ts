import { FRAME_SAMPLES, type Frame } from '../../src/shared/audio-format.js';

/** A frame whose samples all equal `value` (easy to recognise after a round trip). */
export function constFrame(index: number, value = index % 30000): Frame {
  return { index, samples: new Int16Array(FRAME_SAMPLES).fill(value) };
}

/** A frame of a sine tone at the given amplitude (0..1). */
export function toneFrame(index: number, amplitude: number, freq = 440): Frame {
  const samples = new Int16Array(FRAME_SAMPLES);
  for (let i = 0; i < FRAME_SAMPLES; i++) {
    const n = index * FRAME_SAMPLES + i;
    samples[i] = Math.round(Math.sin((2 * Math.PI * freq * n) / 16000) * amplitude * 32767);
  }
  return { index, samples };
}
