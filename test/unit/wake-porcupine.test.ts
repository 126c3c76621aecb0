import { describe, expect, it } from 'vitest';
import { FRAME_SAMPLES } from '../../src/shared/audio-format.js';
import { EarshotError } from '../../src/shared/errors.js';
import { mapPorcupineError } from '../../src/wake/porcupine-errors.js';
import {
  keywordName,
  loadPorcupineBinding,
  PorcupineDetector,
  type PorcupineBinding,
  type PorcupineEngine,
} from '../../src/wake/porcupine.js';

/**
 * The real Porcupine needs a valid AccessKey, checked online, to process a single chunk,
 * so the frame adaptation is tested against a stand-in engine injected through the small
 * `PorcupineBinding` interface: it records what it is fed and fires where told. The
 * error mapping uses the package's real error classes.
 */
class FakeEngine implements PorcupineEngine {
  readonly frameLength = 512;
  readonly sampleRate = 16_000;
  readonly chunks: Int16Array[] = [];
  released = false;
  constructor(private readonly fireOnChunks: Set<number>) {}
  process(chunk: Int16Array): number {
    this.chunks.push(chunk.slice());
    return this.fireOnChunks.has(this.chunks.length - 1) ? 0 : -1;
  }
  release(): void {
    this.released = true;
  }
}

function fakeBinding(
  engine: PorcupineEngine | (() => never),
): PorcupineBinding & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  return {
    calls,
    builtinKeywords: ['alexa', 'computer', 'hey google'],
    builtinKeywordPath: (k) => `/builtin/${k}.ppn`,
    create: (...args) => {
      calls.push(args);
      return typeof engine === 'function' ? engine() : engine;
    },
  };
}

/** Frame `index` of a stream whose sample n is n (mod 2^15). */
function rampFrame(index: number) {
  const samples = Int16Array.from(
    { length: FRAME_SAMPLES },
    (_, i) => (index * FRAME_SAMPLES + i) % 32768,
  );
  return { index, samples };
}

const options = { keywords: ['alexa'], sensitivity: 0.6, refractoryMs: 0, env: {} };

describe('PorcupineDetector frame adaptation', () => {
  it('feeds Porcupine the capture stream as contiguous 512-sample chunks', async () => {
    const engine = new FakeEngine(new Set());
    const det = new PorcupineDetector({ ...options, accessKey: 'k', binding: fakeBinding(engine) });
    await det.start();
    for (let f = 0; f < 5; f++) await det.process(rampFrame(f));
    // 5 frames = 6400 samples = 12 chunks and 256 samples carried.
    expect(engine.chunks).toHaveLength(12);
    engine.chunks.forEach((c, i) => expect(c[0]).toBe(i * 512));
    expect(engine.chunks[11]![511]).toBe(12 * 512 - 1);
  });

  it('reports the frame in which the firing chunk ended', async () => {
    // Chunk 2 spans samples 1024..1535: it starts in frame 0 and ends in frame 1.
    // Chunk 4 spans 2048..2559 and ends exactly at the end of frame 1.
    // Chunk 5 spans 2560..3071: frame 2.
    for (const [chunk, frame] of [
      [2, 1],
      [4, 1],
      [5, 2],
      [0, 0],
    ] as const) {
      const det = new PorcupineDetector({
        ...options,
        accessKey: 'k',
        binding: fakeBinding(new FakeEngine(new Set([chunk]))),
      });
      await det.start();
      const found = [];
      for (let f = 0; f < 3; f++) found.push(...(await det.process(rampFrame(f))));
      expect(found).toEqual([{ keyword: 'alexa', score: 1, frameIndex: frame }]);
    }
  });

  it('applies the refractory period to repeated hits', async () => {
    const engine = new FakeEngine(new Set([0, 1, 2, 40]));
    const det = new PorcupineDetector({
      ...options,
      refractoryMs: 800,
      accessKey: 'k',
      binding: fakeBinding(engine),
    });
    await det.start();
    const frames: number[] = [];
    for (let f = 0; f < 20; f++)
      for (const d of await det.process(rampFrame(f))) frames.push(d.frameIndex);
    // Chunks 0..2 end in frames 0 and 1 (one detection); chunk 40 ends in frame 16.
    expect(frames).toEqual([0, 16]);
  });

  it('passes key, keyword files and sensitivity; drops carried samples on reset', async () => {
    const engine = new FakeEngine(new Set());
    const binding = fakeBinding(engine);
    const det = new PorcupineDetector({
      ...options,
      keywords: ['alexa', '/keys/hey-edison_en_raspberry-pi_v3_0_0.ppn'],
      accessKey: 'secret',
      binding,
    });
    expect(det.keywords).toEqual(['alexa', 'hey-edison']);
    await expect(det.start()).rejects.toMatchObject({ code: 'E_WAKE_MODEL_MISSING' });
    const ok = new PorcupineDetector({ ...options, accessKey: 'secret', binding });
    await ok.start();
    expect(binding.calls.at(-1)).toEqual(['secret', ['/builtin/alexa.ppn'], [0.6]]);
    await ok.process(rampFrame(0));
    ok.reset();
    await ok.process(rampFrame(1));
    // After the reset the chunks restart at the new frame's first sample.
    expect(engine.chunks.map((c) => c[0])).toEqual([0, 512, 1280, 1792]);
    await ok.stop();
    expect(engine.released).toBe(true);
  });

  it('names built-in keywords and .ppn files', () => {
    expect(keywordName('hey google')).toBe('hey google');
    expect(keywordName('/a/b/jarvis_linux.ppn')).toBe('jarvis');
  });
});

describe('Porcupine start-up errors', () => {
  it('without any AccessKey: E_WAKE_NO_KEY with a hint, before loading anything', async () => {
    const binding = fakeBinding(() => {
      throw new Error('must not be called');
    });
    const det = new PorcupineDetector({ ...options, binding });
    const err = await det.start().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarshotError);
    expect(err).toMatchObject({ code: 'E_WAKE_NO_KEY' });
    expect((err as EarshotError).hint).toMatch(/PICOVOICE_ACCESS_KEY/);
    expect(binding.calls).toHaveLength(0);
  });

  it('reads the key from PICOVOICE_ACCESS_KEY', async () => {
    const binding = fakeBinding(new FakeEngine(new Set()));
    const det = new PorcupineDetector({
      ...options,
      env: { PICOVOICE_ACCESS_KEY: 'from-env' },
      binding,
    });
    await det.start();
    expect(binding.calls[0]![0]).toBe('from-env');
  });

  it('an unknown built-in keyword is named, with the list of the known ones', async () => {
    const det = new PorcupineDetector({
      ...options,
      keywords: ['snowboy'],
      accessKey: 'k',
      binding: fakeBinding(new FakeEngine(new Set())),
    });
    await expect(det.start()).rejects.toMatchObject({
      code: 'E_WAKE_KEYWORD_UNKNOWN',
      hint: expect.stringMatching(/computer/),
    });
  });

  it("maps each of Porcupine's own error classes to a stable code and a hint", async () => {
    const { PorcupineErrors: E } = (await import('@picovoice/porcupine-node')) as unknown as {
      PorcupineErrors: Record<string, new (m: string) => Error>;
    };
    const cases: Array<[string, string, string]> = [
      ['PorcupineInvalidArgumentError', 'Failed to parse AccessKey `xyz`', 'E_WAKE_KEY_INVALID'],
      ['PorcupineInvalidArgumentError', 'File not found in keywords', 'E_WAKE_PORCUPINE_ARGUMENT'],
      ['PorcupineActivationError', 'activation failed', 'E_WAKE_ACTIVATION'],
      ['PorcupineActivationLimitReachedError', 'limit', 'E_WAKE_ACTIVATION_LIMIT'],
      ['PorcupineActivationRefusedError', 'refused', 'E_WAKE_KEY_REFUSED'],
      ['PorcupineActivationThrottledError', 'throttled', 'E_WAKE_ACTIVATION_THROTTLED'],
      ['PorcupineIOError', 'io', 'E_WAKE_PORCUPINE_IO'],
      ['PorcupineRuntimeError', 'boom', 'E_WAKE_PORCUPINE'],
    ];
    for (const [cls, message, code] of cases) {
      const mapped = mapPorcupineError(new E[cls]!(message), 'xyz');
      expect(mapped.code, cls).toBe(code);
      expect(mapped.hint, cls).toBeTruthy();
      // The key is masked wherever Porcupine quoted it.
      expect(mapped.message).not.toContain('xyz');
    }
  });

  it('the real Porcupine with a malformed key fails offline: E_WAKE_KEY_INVALID, key masked', async () => {
    const det = new PorcupineDetector({ ...options, accessKey: 'not-a-key' });
    const err = (await det.start().catch((e: unknown) => e)) as EarshotError;
    expect(err.code).toBe('E_WAKE_KEY_INVALID');
    expect(err.message).toMatch(/AccessKey/);
    expect(err.message).not.toContain('not-a-key');
  });

  it('the lazily loaded binding lists the built-in keywords', async () => {
    const binding = await loadPorcupineBinding();
    expect(binding.builtinKeywords).toContain('alexa');
    expect(binding.builtinKeywordPath('alexa')).toMatch(/alexa_.*\.ppn$/);
  });
});
