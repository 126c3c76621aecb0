import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EnergyVad } from '../../src/audio/energy-vad.js';
import { SileroVad, sileroOptions } from '../../src/audio/silero-vad.js';
import { measure, type Tools } from '../../src/bench/endpoint/measure.js';
import {
  composeRequest,
  DEFAULT_RANGES,
  planRequests,
  type ComposedRequest,
} from '../../src/bench/endpoint/requests.js';
import { Synth } from '../../src/bench/endpoint/synth.js';
import { clipSource, WakeFinder } from '../../src/bench/endpoint/traces.js';
import { envelopeDb } from '../../src/bench/wake/envelope.js';
import { loadConfig } from '../../src/config/load.js';
import { SAMPLE_RATE } from '../../src/shared/audio-format.js';
import type { WakeDetector } from '../../src/wake/detector.js';
import { openWakeWord } from '../../src/wake/factory.js';
import { tempDir } from '../helpers/paths.js';

// The benchmark that chose the end-of-utterance timings, on a few requests of its own
// (flite and espeak-ng voices, no corpus needed): the layout it scores against is where
// the audio says it is, and its replay of recorded VAD decisions (which the timing
// sweep uses) closes exactly where the device's real UtteranceAudio closes.
const tmp = tempDir();
const config = loadConfig();
let detector: WakeDetector;
let tools: Tools;
let requests: ComposedRequest[];

beforeAll(async () => {
  const plans = planRequests({
    seed: 3,
    count: 8,
    split: 'tune',
    alexaFiles: [],
    wordFiles: [],
    ...DEFAULT_RANGES,
  });
  const source = clipSource(new Synth(tmp.dir));
  requests = [];
  for (const plan of plans) requests.push(await composeRequest(plan, source));
  detector = openWakeWord(config.wake);
  await detector.start();
  tools = {
    wake: new WakeFinder(detector),
    silero: await SileroVad.open(sileroOptions(config.utterance)),
    vad: sileroOptions(config.utterance),
    energy: new EnergyVad({ thresholdDb: -45, trailingSilenceMs: 700 }),
    timings: config.utterance,
    preRollMs: config.audio.preRollMs,
  };
}, 120_000);

afterAll(async () => {
  await tools?.silero.close();
  await detector?.stop();
  tmp.cleanup();
});

/** Loudest 10 ms window between two sample positions, dBFS. */
function loudest(samples: Int16Array, from: number, to: number): number {
  const env = envelopeDb(samples.subarray(from, to));
  return Math.max(...env);
}

describe('bench:vad on generated requests', () => {
  it('lays them out as it says: quiet between the wake word and the command and after the last word', () => {
    const ms = (n: number) => Math.round((n / 1000) * SAMPLE_RATE);
    expect(requests.length).toBe(8);
    for (const { clean, layout } of requests) {
      expect(layout.wakeEnd).toBeLessThan(layout.commandStart);
      expect(loudest(clean, layout.wakeStart, layout.wakeEnd)).toBeGreaterThan(-30);
      expect(loudest(clean, layout.wakeEnd + ms(10), layout.commandStart - ms(10))).toBeLessThan(
        -50,
      );
      expect(loudest(clean, layout.lastWordEnd - ms(200), layout.lastWordEnd)).toBeGreaterThan(-45);
      expect(loudest(clean, layout.lastWordEnd + ms(10), clean.length)).toBeLessThan(-50);
    }
  });

  it("replays the device's session exactly, and the new rule never closes before the last word here", async () => {
    const measured = [];
    for (const r of requests) measured.push(await measure(r, r.clean, tools));
    const woken = measured.filter((m) => m.woken);
    expect(woken.length).toBeGreaterThan(2);
    for (const m of woken) {
      expect(m.replayAgrees, m.id).toBe(true);
      expect(m.session?.delayMs, m.id).toBeGreaterThanOrEqual(0);
      expect(m.session?.reason, m.id).toBe('vad');
      expect(m.old?.delayMs, m.id).toBeDefined();
    }
  });
});
