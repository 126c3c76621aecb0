import { describe, expect, it } from 'vitest';
import { synthesize, tone } from '../../../src/cloud/speech.js';
import { decodeWav, encodeWav } from '../../../src/shared/wav.js';

// The one WAV codec (wavefile), as the reference cloud uses it: the store writes with it,
// the voice reads flite's and espeak-ng's output with it.
describe('cloud WAV and tone', () => {
  it('round-trips PCM through a WAV file', () => {
    const samples = Int16Array.from([0, 1, -1, 32767, -32768]);
    const wav = encodeWav(samples, 16000, 1);
    expect(wav.length).toBe(44 + samples.byteLength);
    const back = decodeWav(wav);
    expect(back.sampleRate).toBe(16000);
    expect(back.channels).toBe(1);
    expect([...back.samples]).toEqual([...samples]);
  });

  it('reads a streaming header whose sizes are placeholders (espeak-ng to a pipe)', () => {
    const samples = new Int16Array(50).fill(3);
    const wav = Buffer.from(encodeWav(samples, 22050, 1));
    wav.writeUInt32LE(0x7ffff000, 4);
    wav.writeUInt32LE(0x7ffff000, 40);
    expect([...decodeWav(wav).samples]).toEqual([...samples]);
  });

  it('reads 16-bit PCM as the same samples getSamples gives, stereo and 24-bit too', async () => {
    const wavefile = (await import('wavefile')).default;
    const stereo = Int16Array.from([1, -2, 300, -400, 32767, -32768]);
    const back = decodeWav(encodeWav(stereo, 16000, 2));
    expect(back.channels).toBe(2);
    expect([...back.samples]).toEqual([...stereo]);
    // A 24-bit file takes the converting path; its samples must come out as 16-bit.
    const deep = new wavefile.WaveFile();
    deep.fromScratch(1, 16000, '24', [0, 65536, -65536, 8388607, -8388608]);
    const reference = new wavefile.WaveFile(deep.toBuffer());
    reference.toBitDepth('16');
    const expected = [...(reference.getSamples(true, Int16Array) as unknown as Int16Array)];
    expect(expected.slice(3)).toEqual([32767, -32768]);
    expect([...decodeWav(deep.toBuffer()).samples]).toEqual(expected);
  });

  it("never shares a caller's buffer: its samples stay put when the caller reuses it", () => {
    const wav = Buffer.from(encodeWav(Int16Array.from([5, 6, 7]), 16000, 1));
    const back = decodeWav(wav);
    wav.fill(0);
    expect([...back.samples]).toEqual([5, 6, 7]);
  });

  it('refuses what is not a WAV file', () => {
    expect(() => decodeWav(Buffer.from('hello world, not a wav'))).toThrow(/not a WAV file/);
  });

  it('makes an audible tone when asked for one', async () => {
    const t = tone();
    expect(t.sampleRate).toBe(16000);
    const samples = new Int16Array(t.data.buffer, t.data.byteOffset, t.data.length / 2);
    expect(Math.max(...samples)).toBeGreaterThan(5000);
    const speech = await synthesize('ignored', { voice: 'tone' });
    expect(speech.engine).toBe('tone');
  });

  it('speaks with espeak-ng through its pipe header', async () => {
    const speech = await synthesize('what time is it', { voice: 'espeak-ng' });
    expect(speech.engine).toBe('espeak-ng');
    expect(speech.data.length).toBeGreaterThan(16000);
  });
});
