import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Player } from '../../src/audio/player.js';
import { AplaySink } from '../../src/audio/sinks/aplay-sink.js';
import { WavFileSink } from '../../src/audio/sinks/wav-file-sink.js';
import { readWavFile } from '../../src/shared/wav.js';
import { CAPTURE_FORMAT } from '../../src/shared/audio-format.js';
import { silentLogger } from '../../src/shared/logger.js';
import { alsaFileConfig } from '../helpers/alsa.js';
import { tempDir } from '../helpers/paths.js';

// Playback through the real `aplay` into an ALSA `type file` PCM: the bytes the
// "sound card" received are compared with the bytes sent.
const tmp = tempDir();
const out = join(tmp.dir, 'played.raw');
const savedAlsa = process.env.ALSA_CONFIG_PATH;
beforeAll(() => {
  process.env.ALSA_CONFIG_PATH = alsaFileConfig(tmp.dir, { outfile: out });
});
afterAll(() => {
  if (savedAlsa === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsa;
  tmp.cleanup();
});

function tone(samples: number): Buffer {
  const b = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) b.writeInt16LE(Math.round(Math.sin(i / 7) * 12000), i * 2);
  return b;
}

/**
 * ALSA writes whole periods: the last one is filled up with silence. The device got
 * exactly our bytes, then only zeros.
 */
function expectPlayed(played: Buffer, sent: Buffer): void {
  expect(played.length).toBeGreaterThanOrEqual(sent.length);
  expect(played.subarray(0, sent.length).equals(sent)).toBe(true);
  expect(played.subarray(sent.length).every((b) => b === 0)).toBe(true);
}

describe('playback', () => {
  it('streams a reply through aplay, byte for byte, chunk by chunk', async () => {
    const player = new Player(new AplaySink('default'), silentLogger(), 100);
    const audio = tone(16000);
    const done = new Promise<{ aborted: boolean; bytes: number }>((r) =>
      player.once('replyDone', r),
    );
    player.beginReply(CAPTURE_FORMAT);
    for (let off = 0; off < audio.length; off += 3000)
      player.writeReply(audio.subarray(off, off + 3000));
    player.endReply();
    const result = await done;
    expect(result).toEqual({ aborted: false, bytes: audio.length });
    expect(existsSync(out)).toBe(true);
    expectPlayed(readFileSync(out), audio);
  });

  it('applies the volume in software', async () => {
    const player = new Player(new AplaySink('default'), silentLogger(), 50);
    const audio = tone(1600);
    const done = new Promise((r) => player.once('replyDone', r));
    player.beginReply(CAPTURE_FORMAT);
    player.writeReply(audio);
    player.endReply();
    await done;
    const played = readFileSync(out);
    expectPlayed(played, played.subarray(0, audio.length));
    for (let i = 0; i < audio.length; i += 2) {
      expect(played.readInt16LE(i)).toBe(Math.round(audio.readInt16LE(i) * 0.25));
    }
  });

  it('reports a playback device that fails, without throwing', async () => {
    const player = new Player(new AplaySink('no_such_device'), silentLogger(), 100);
    const done = new Promise<{ aborted: boolean; error?: string }>((r) =>
      player.once('replyDone', r),
    );
    player.beginReply(CAPTURE_FORMAT);
    player.writeReply(tone(800));
    player.endReply();
    const result = await done;
    expect(result.aborted).toBe(true);
    expect(result.error).toMatch(/aplay failed/);
  });

  it('writes a WAV file with the file sink', async () => {
    const file = join(tmp.dir, 'reply.wav');
    const player = new Player(new WavFileSink(file), silentLogger(), 100);
    const audio = tone(4000);
    const done = new Promise((r) => player.once('replyDone', r));
    player.beginReply(CAPTURE_FORMAT);
    player.writeReply(audio);
    player.endReply();
    await done;
    const wav = await readWavFile(file);
    expect(wav.sampleRate).toBe(16000);
    expect(
      Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength).equals(audio),
    ).toBe(true);
  });

  it('stops a reply at once (barge-in) and reports it aborted', async () => {
    const player = new Player(new AplaySink('default'), silentLogger(), 100);
    const done = new Promise<{ aborted: boolean }>((r) => player.once('replyDone', r));
    player.beginReply(CAPTURE_FORMAT);
    player.writeReply(tone(16000));
    player.stopReply();
    expect((await done).aborted).toBe(true);
    expect(player.playingReply).toBe(false);
  });
});
