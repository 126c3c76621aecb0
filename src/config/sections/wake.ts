import { z } from 'zod';

const keyword = z.strictObject({
  /** The name reported on detection (`alexa`). */
  name: z.string().min(1).max(64),
  /** A bundled openWakeWord model (`alexa_v0.1`) or a path to a `.onnx` file. */
  model: z.string().min(1).optional(),
  /** Score above which a frame counts as a hit. */
  threshold: z.number().gt(0).lt(1).default(0.5),
  /** Consecutive frames over threshold needed to fire. */
  patience: z.number().int().min(1).max(20).default(1),
});

export const wakeSection = z
  .strictObject({
    engine: z.enum(['openwakeword', 'porcupine']).default('openwakeword'),
    keywords: z
      .array(keyword)
      .min(1)
      .default([{ name: 'alexa', model: 'alexa_v0.1', threshold: 0.5, patience: 1 }]),
    /** No second detection within this time after one. */
    refractoryMs: z.number().int().min(0).max(60_000).default(2000),
    /** Scores are ignored this long after a (re)start: the models spike on fresh state. */
    warmupMs: z.number().int().min(0).max(10_000).default(1500),
    porcupine: z
      .strictObject({
        /** Picovoice AccessKey; also read from PICOVOICE_ACCESS_KEY. Secret. */
        accessKey: z.string().min(1).optional(),
        /** Built-in keyword names or paths to `.ppn` files. */
        keywords: z.array(z.string().min(1)).min(1).default(['alexa']),
        sensitivity: z.number().min(0).max(1).default(0.5),
        /** What to do when Porcupine cannot start: refuse to run, or use openWakeWord. */
        onError: z.enum(['refuse', 'fallback']).default('fallback'),
      })
      .prefault({}),
  })
  .prefault({});
