import { describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/bench/wake/audio-files.js';
import { PinkNoise } from '../../src/bench/wake/noise.js';
import { FRAME_SAMPLES } from '../../src/shared/audio-format.js';
import { FeatureStream } from '../../src/wake/openwakeword/features.js';
import { OpenWakeWordDetector } from '../../src/wake/openwakeword/detector.js';
import { QuietGate } from '../../src/wake/openwakeword/quiet-gate.js';
import { fixture } from '../helpers/paths.js';

function frames(samples: Int16Array): Int16Array[] {
  const out: Int16Array[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= samples.length; at += FRAME_SAMPLES) {
    out.push(samples.slice(at, at + FRAME_SAMPLES));
  }
  return out;
}

function pink(seconds: number, rms: number, seed: number): Int16Array {
  const f = new PinkNoise(seed).fill(new Float32Array(seconds * 16000), rms);
  return Int16Array.from(f, (v) => Math.round(v));
}

describe('the quiet gate', () => {
  it('stays shut on steady noise at any level and opens on speech over it', async () => {
    const speech = await decodeAudio(fixture('alexa-what-time.wav'));
    for (const rms of [30, 300, 3000]) {
      const gate = new QuietGate({ openDb: 6, hangoverFrames: 10 });
      const noise = frames(pink(10, rms, 7));
      // The first frames teach it the floor; after them, steady noise never opens it.
      const open = noise.slice(5).filter((f) => gate.update(f)).length;
      expect(open, `pink noise at RMS ${rms}`).toBe(0);
    }
    const gate = new QuietGate({ openDb: 6, hangoverFrames: 10 });
    const room = pink(2, 100, 8);
    for (const f of frames(room)) gate.update(f);
    const mixed = Int16Array.from(speech, (s, i) => s + room[i % room.length]!);
    expect(frames(mixed).some((f) => gate.update(f))).toBe(true);
  });

  it('rises slowly to louder steady noise, and shuts again', () => {
    const gate = new QuietGate({ openDb: 6, hangoverFrames: 10 });
    for (const f of frames(pink(2, 30, 1))) gate.update(f);
    const louder = frames(pink(40, 300, 2)); // 20 dB up: a fan switched on
    expect(gate.update(louder[0]!)).toBe(true);
    expect(
      louder
        .slice(1)
        .map((f) => gate.update(f))
        .at(-1),
    ).toBe(false);
  });
});

describe('skipping the models in the quiet', () => {
  it('leaves the features exactly as if every frame had been computed', async () => {
    const speech = await decodeAudio(fixture('alexa-what-time.wav'));
    const audio = frames(Int16Array.from([...pink(4, 40, 3), ...speech]));
    const full = await FeatureStream.open(16);
    const gated = await FeatureStream.open(16);
    try {
      // Frames 3..(n-20) are deferred in the gated stream: far more than the replay keeps.
      for (const [i, f] of audio.entries()) {
        await full.push(f);
        if (i >= 3 && i < audio.length - 20) gated.defer(f);
        else await gated.push(f);
        if (i === audio.length - 20) {
          expect(Array.from(gated.window(16))).toEqual(Array.from(full.window(16)));
        }
      }
      expect(gated.deferredFrames).toBe(0);
      expect(Array.from(gated.window(16))).toEqual(Array.from(full.window(16)));
    } finally {
      await full.close();
      await gated.close();
    }
  });

  it('still hears a wake word that starts in the quiet, on the same frame', async () => {
    const speech = await decodeAudio(fixture('alexa-late.wav'));
    const audio = frames(Int16Array.from(speech, (s, i) => s + ((i * 7919) % 61) - 30));
    const fired = async (quietGateDb: number) => {
      let ran = 0;
      const detector = new OpenWakeWordDetector({
        keywords: [{ model: 'alexa', threshold: 0.1, patience: 1 }],
        refractoryMs: 2000,
        warmupMs: 1000,
        vadThreshold: 0.2,
        quietGateDb,
        onScores: (_i, s) => {
          if (s.keyword[0] !== 0) ran += 1;
        },
      });
      await detector.start();
      const at: number[] = [];
      for (const [index, samples] of audio.entries()) {
        for (const d of await detector.process({ index, samples })) at.push(d.frameIndex);
      }
      await detector.stop();
      return { at, ran };
    };
    const always = await fired(0);
    const gated = await fired(6);
    expect(always.at.length).toBeGreaterThan(0);
    expect(gated.at).toEqual(always.at);
    // …and the models really were skipped for part of it.
    expect(gated.ran).toBeLessThan(always.ran);
  });
});
