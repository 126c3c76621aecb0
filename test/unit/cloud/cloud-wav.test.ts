import { describe, expect, it } from 'vitest';
import { synthesize, tone } from '../../../src/cloud/speech.js';
import { decodeWav, encodeWav } from '../../../src/cloud/wav.js';

describe('cloud WAV and tone', () => {
  it('round-trips PCM through a WAV file', () => {
    const data = Buffer.from(Int16Array.from([0, 1, -1, 32767, -32768]).buffer);
    const wav = encodeWav({ sampleRate: 16000, channels: 1, data });
    expect(wav.length).toBe(44 + data.length);
    expect(decodeWav(wav)).toEqual({ sampleRate: 16000, channels: 1, data });
  });

  it('reads a streaming header whose sizes are placeholders', () => {
    const data = Buffer.alloc(100, 3);
    const wav = encodeWav({ sampleRate: 22050, channels: 1, data });
    wav.writeUInt32LE(0x7ffff000, 4);
    wav.writeUInt32LE(0x7ffff000, 40);
    expect(decodeWav(wav).data.equals(data)).toBe(true);
  });

  it('refuses what it cannot read', () => {
    expect(() => decodeWav(Buffer.from('hello world, not a wav'))).toThrow(/RIFF/);
    const wav = encodeWav({ sampleRate: 16000, channels: 1, data: Buffer.alloc(4) });
    wav.writeUInt16LE(3, 20); // float
    expect(() => decodeWav(wav)).toThrow(/16-bit PCM/);
  });

  it('makes an audible tone when asked for one', async () => {
    const t = tone();
    expect(t.sampleRate).toBe(16000);
    const samples = new Int16Array(t.data.buffer, t.data.byteOffset, t.data.length / 2);
    expect(Math.max(...samples)).toBeGreaterThan(5000);
    const speech = await synthesize('ignored', { voice: 'tone' });
    expect(speech.engine).toBe('tone');
  });
});
