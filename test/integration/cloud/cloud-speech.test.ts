import { describe, expect, it } from 'vitest';
import { synthesize } from '../../../src/cloud/speech.js';

/** The reference cloud speaks with flite or espeak-ng (Debian packages `flite`, `espeak-ng`). */
function rms(data: Buffer): number {
  const s = new Int16Array(data.buffer, data.byteOffset, data.length / 2);
  let sum = 0;
  for (const v of s) sum += v * v;
  return Math.sqrt(sum / s.length);
}

describe('cloud speech', () => {
  it('speaks with flite at 16 kHz', async () => {
    const speech = await synthesize('I heard 2.1 seconds', { voice: 'flite' });
    expect(speech.engine).toBe('flite');
    expect(speech.sampleRate).toBe(16000);
    expect(speech.data.length / 32000).toBeGreaterThan(0.5); // seconds of speech
    expect(rms(speech.data)).toBeGreaterThan(100);
  });

  it('speaks with espeak-ng', async () => {
    const speech = await synthesize('I heard 2.1 seconds', { voice: 'espeak-ng' });
    expect(speech.engine).toBe('espeak-ng');
    expect(speech.sampleRate).toBe(22050);
    expect(rms(speech.data)).toBeGreaterThan(100);
  });

  it('prefers flite when both are there', async () => {
    expect((await synthesize('hello', { voice: 'auto' })).engine).toBe('flite');
  });
});
