import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeAudio } from '../../src/bench/wake/audio-files.js';
import { loadConfig } from '../../src/config/load.js';
import { FRAME_SAMPLES } from '../../src/shared/audio-format.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { Detection } from '../../src/wake/detector.js';
import { createWakeDetector } from '../../src/wake/factory.js';
import type { PorcupineBinding } from '../../src/wake/porcupine.js';
import { tempDir } from '../helpers/paths.js';

/**
 * The factory with the real engines. Porcupine's start-up failures are produced by a
 * binding that throws Porcupine's own error classes (a real activation failure needs a
 * real key and the network); the fallback engine is the real openWakeWord.
 */
const tmp = tempDir('earshot-wake-factory-');
afterAll(() => tmp.cleanup());

async function porcupineErrors(): Promise<Record<string, new (m: string) => Error>> {
  const mod = (await import('@picovoice/porcupine-node')) as unknown as {
    PorcupineErrors: Record<string, new (m: string) => Error>;
  };
  return mod.PorcupineErrors;
}

function failingBinding(err: Error): PorcupineBinding {
  return {
    builtinKeywords: ['alexa'],
    builtinKeywordPath: () => '/builtin/alexa.ppn',
    create: () => {
      throw err;
    },
  };
}

function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level: 'info' }, sink), lines };
}

const porcupineConfig = (onError: 'fallback' | 'refuse') =>
  loadConfig({
    overrides: ['wake.engine=porcupine', `wake.porcupine.onError=${onError}`],
  }).wake;

describe('createWakeDetector', () => {
  it('builds and starts openWakeWord by default', async () => {
    const { detector, fallback } = await createWakeDetector(loadConfig({}).wake, silentLogger());
    expect(detector.engine).toBe('openwakeword');
    expect(detector.keywords).toEqual(['alexa']);
    expect(fallback).toBeUndefined();
    // Started: it takes frames right away.
    await expect(
      detector.process({ index: 0, samples: new Int16Array(FRAME_SAMPLES) }),
    ).resolves.toEqual([]);
    await detector.stop();
  });

  it('falls back to openWakeWord when Porcupine cannot activate, with a warning and the code', async () => {
    const E = await porcupineErrors();
    const { log, lines } = capturingLogger();
    const { detector, fallback } = await createWakeDetector(porcupineConfig('fallback'), log, {
      env: { PICOVOICE_ACCESS_KEY: 'some-key' },
      porcupineBinding: failingBinding(new E.PorcupineActivationError!('no network')),
    });
    expect(detector.engine).toBe('openwakeword');
    expect(fallback).toMatchObject({ code: 'E_WAKE_ACTIVATION' });
    const warning = lines.find((l) => l.level === 40);
    expect(warning).toMatchObject({ code: 'E_WAKE_ACTIVATION' });
    expect(String(warning?.msg)).toMatch(/falling back to openWakeWord/);
    await detector.stop();
  });

  it('falls back without any key (E_WAKE_NO_KEY)', async () => {
    const { detector, fallback } = await createWakeDetector(
      porcupineConfig('fallback'),
      silentLogger(),
      {
        env: {},
      },
    );
    expect(detector.engine).toBe('openwakeword');
    expect(fallback?.code).toBe('E_WAKE_NO_KEY');
    await detector.stop();
  });

  it('refuses with the mapped error when onError is refuse', async () => {
    const E = await porcupineErrors();
    await expect(
      createWakeDetector(porcupineConfig('refuse'), silentLogger(), {
        env: { PICOVOICE_ACCESS_KEY: 'some-key' },
        porcupineBinding: failingBinding(new E.PorcupineActivationLimitReachedError!('quota')),
      }),
    ).rejects.toMatchObject({ code: 'E_WAKE_ACTIVATION_LIMIT', hint: expect.any(String) });
  });

  const key = process.env.PICOVOICE_ACCESS_KEY;
  it.skipIf(!key)(
    'with a valid PICOVOICE_ACCESS_KEY, Porcupine detects a spoken "Alexa" (skipped: PICOVOICE_ACCESS_KEY is not set)',
    async () => {
      const wav = join(tmp.dir, 'alexa.wav');
      execFileSync('flite', ['-t', 'Alexa', '-o', wav]);
      const clip = await decodeAudio(wav);
      const audio = new Int16Array(
        Math.ceil((32_000 + clip.length + 16_000) / FRAME_SAMPLES) * FRAME_SAMPLES,
      );
      audio.set(clip, 32_000);
      const { detector, fallback } = await createWakeDetector(
        porcupineConfig('refuse'),
        silentLogger(),
      );
      expect(fallback).toBeUndefined();
      expect(detector.engine).toBe('porcupine');
      const found: Detection[] = [];
      for (let f = 0; f * FRAME_SAMPLES < audio.length; f++) {
        found.push(
          ...(await detector.process({
            index: f,
            samples: audio.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES),
          })),
        );
      }
      await detector.stop();
      expect(found.map((d) => d.keyword)).toEqual(['alexa']);
      // The word starts at frame 25 and lasts under a second.
      expect(found[0]!.frameIndex).toBeGreaterThan(25);
      expect(found[0]!.frameIndex).toBeLessThan(25 + 20);
    },
  );
});
