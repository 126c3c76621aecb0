import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReplyDecoder, sniff } from '../../../src/assist/reply-decoder.js';
import { tempDir } from '../../helpers/paths.js';

// Real files as HA's TTS engines deliver them: flite speech at 22.05 kHz, encoded by
// lame (mp3) and sox (flac, wav), fed to the decoder in uneven pieces as a network would.
const tmp = tempDir();
const files: Record<string, Buffer> = {};
let samples = 0;

beforeAll(() => {
  const raw = join(tmp.dir, 'raw.wav');
  const wav = join(tmp.dir, 'a.wav');
  execFileSync('flite', ['-t', 'It is ten past three.', '-o', raw]);
  execFileSync('sox', [raw, '-r', '22050', '-c', '1', '-b', '16', wav]);
  execFileSync('sox', [wav, join(tmp.dir, 'a.flac')]);
  execFileSync('sox', [wav, '-c', '2', join(tmp.dir, 'stereo.wav')]);
  execFileSync('lame', ['--quiet', '-b', '64', wav, join(tmp.dir, 'a.mp3')]);
  for (const f of ['a.wav', 'a.flac', 'a.mp3', 'stereo.wav'])
    files[f] = readFileSync(join(tmp.dir, f));
  samples = (files['a.wav']!.length - 44) / 2;
});
afterAll(() => tmp.cleanup());

async function decode(
  buf: Buffer,
  mime?: string,
): Promise<{ pcm: Buffer; rate: number; firstAfter: number }> {
  const d = new ReplyDecoder();
  d.prepare(mime);
  const out: Buffer[] = [];
  let offset = 0;
  let firstAfter = -1;
  // Tiny pieces first (a header split across packets), then bigger ones.
  for (let size = 1; offset < buf.length; size = Math.min(size * 2, 3000)) {
    const pcm = await d.push(buf.subarray(offset, offset + size));
    offset += size;
    if (pcm) {
      if (firstAfter < 0) firstAfter = offset;
      out.push(pcm);
    }
  }
  const tail = await d.end();
  if (tail) out.push(tail);
  const rate = d.format!.sampleRate;
  d.free();
  return { pcm: Buffer.concat(out), rate, firstAfter };
}

describe('the answer decoder', () => {
  it('tells the format by its first bytes', () => {
    expect(sniff(files['a.mp3']!)).toBe('mp3');
    expect(sniff(files['a.flac']!)).toBe('flac');
    expect(sniff(files['a.wav']!)).toBe('wav');
    expect(sniff(Buffer.from('<html>'))).toBeUndefined();
  });

  it.each([
    ['a.wav', 'audio/x-wav'],
    ['a.flac', 'audio/flac'],
    ['a.mp3', 'audio/mpeg'],
    // A wrong mime type from the server: the bytes decide.
    ['a.mp3', 'audio/flac'],
  ])('%s (%s) decodes as it streams, to 16-bit mono at its own rate', async (name, mime) => {
    const { pcm, rate, firstAfter } = await decode(files[name]!, mime);
    expect(rate).toBe(22050);
    // mp3 adds encoder delay and padding (up to a frame or two); the others are exact.
    const got = pcm.length / 2;
    if (name === 'a.mp3') expect(Math.abs(got - samples)).toBeLessThan(2 * 1152 + 600);
    else expect(got).toBe(samples);
    // Streaming: audio comes out long before the file is complete.
    expect(firstAfter).toBeGreaterThan(0);
    expect(firstAfter).toBeLessThan(files[name]!.length / 2);
  });

  it('mixes stereo WAV down to mono', async () => {
    const { pcm } = await decode(files['stereo.wav']!);
    expect(pcm.length / 2).toBe(samples);
  });

  it('refuses what is not audio, and a file with no audio in it', async () => {
    await expect(
      decode(Buffer.from('<html>404 Not Found</html>'.repeat(10))),
    ).rejects.toMatchObject({
      code: 'E_ASSIST_TTS_FORMAT',
    });
    await expect(decode(files['a.mp3']!.subarray(0, 40))).rejects.toMatchObject({
      code: 'E_ASSIST_TTS_FORMAT',
    });
    const eightBit = Buffer.from(files['a.wav']!);
    eightBit.writeUInt16LE(8, 34);
    await expect(decode(eightBit)).rejects.toMatchObject({ code: 'E_ASSIST_TTS_FORMAT' });
  });
});
