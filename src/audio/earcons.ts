import { SAMPLE_RATE } from '../shared/audio-format.js';

export type EarconName = 'wake' | 'error' | 'mute' | 'unmute' | 'announce';

/** Tone sequences (frequency Hz, duration ms) for the device's short sounds. */
const EARCONS: Record<EarconName, Array<[number, number]>> = {
  // Rising: "I am listening".
  wake: [
    [660, 70],
    [880, 90],
  ],
  // Falling and lower: "that did not work".
  error: [
    [494, 140],
    [0, 40],
    [370, 220],
  ],
  mute: [[440, 120]],
  // Two soft bells, high then low: "something to tell you" before an announcement.
  announce: [
    [784, 110],
    [0, 30],
    [523, 160],
  ],
  unmute: [[587, 120]],
};

/** Renders an earcon to 16 kHz mono PCM with short fades (no clicks). */
export function renderEarcon(name: EarconName, amplitude = 0.3): Int16Array {
  const parts = EARCONS[name];
  const total = parts.reduce((n, [, ms]) => n + Math.round((ms / 1000) * SAMPLE_RATE), 0);
  const out = new Int16Array(total);
  let offset = 0;
  for (const [freq, ms] of parts) {
    const n = Math.round((ms / 1000) * SAMPLE_RATE);
    const fade = Math.min(n / 2, SAMPLE_RATE * 0.008);
    for (let i = 0; i < n && freq > 0; i++) {
      const env = Math.min(1, i / fade, (n - 1 - i) / fade);
      out[offset + i] = Math.round(
        Math.sin((2 * Math.PI * freq * i) / SAMPLE_RATE) * amplitude * env * 32767,
      );
    }
    offset += n;
  }
  return out;
}
