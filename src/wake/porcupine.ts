import { access, constants } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { FRAME_MS, SAMPLE_RATE, type Frame } from '../shared/audio-format.js';
import { EarshotError } from '../shared/errors.js';
import type { Detection, WakeDetector } from './detector.js';
import { mapPorcupineError, noKeyError } from './porcupine-errors.js';
import { Reframer } from './reframer.js';

/**
 * The Porcupine engine (@picovoice/porcupine-node), an optional dependency: the module is
 * imported only when this engine starts, so the daemon installs and runs without it.
 * Porcupine eats 512-sample chunks; the capture loop's 1280-sample frames are cut to size
 * here, and a detection is reported on the frame in which its chunk ended.
 */

/** What earshot uses of a Porcupine instance. */
export interface PorcupineEngine {
  readonly frameLength: number;
  readonly sampleRate: number;
  /** Index of the keyword detected at the end of this chunk, or -1. */
  process(chunk: Int16Array): number;
  release(): void;
}

/** What earshot uses of the package; tests inject their own to run without a key. */
export interface PorcupineBinding {
  create(accessKey: string, keywordPaths: string[], sensitivities: number[]): PorcupineEngine;
  readonly builtinKeywords: readonly string[];
  builtinKeywordPath(keyword: string): string;
}

export interface PorcupineOptions {
  /** AccessKey; falls back to `env.PICOVOICE_ACCESS_KEY`. */
  accessKey?: string | undefined;
  /** Built-in keyword names (`alexa`, `hey google`) or paths to `.ppn` files. */
  keywords: readonly string[];
  sensitivity: number;
  refractoryMs: number;
  env?: NodeJS.ProcessEnv;
  /** The package's binding; loaded lazily when not given. */
  binding?: PorcupineBinding;
}

const PACKAGE = '@picovoice/porcupine-node';

/** Imports the package on first use; a clear error when it is not installed. */
export async function loadPorcupineBinding(): Promise<PorcupineBinding> {
  // A variable specifier: the compiler must not require the optional package's types.
  const specifier: string = PACKAGE;
  let mod: {
    Porcupine: new (key: string, paths: string[], sens: number[]) => PorcupineEngine;
    BuiltinKeyword: Record<string, string>;
    getBuiltinKeywordPath(keyword: string): string;
  };
  try {
    mod = (await import(specifier)) as typeof mod;
  } catch (err) {
    throw new EarshotError(
      'E_WAKE_ENGINE_MISSING',
      `the optional package ${PACKAGE} is not installed`,
      {
        cause: err,
        hint: `npm install ${PACKAGE}, or set wake.engine to openwakeword`,
      },
    );
  }
  return {
    create: (key, paths, sens) => new mod.Porcupine(key, paths, sens),
    builtinKeywords: Object.values(mod.BuiltinKeyword),
    builtinKeywordPath: (keyword) => mod.getBuiltinKeywordPath(keyword),
  };
}

export class PorcupineDetector implements WakeDetector {
  readonly engine = 'porcupine';
  readonly keywords: readonly string[];
  private porcupine: PorcupineEngine | undefined;
  private reframer: Reframer | undefined;
  private readonly lastFire: number[];
  private lastIndex: number | undefined;
  /** The key in use, kept to mask it out of error messages. */
  private accessKey: string | undefined;

  constructor(private readonly options: PorcupineOptions) {
    if (options.keywords.length === 0) {
      throw new EarshotError('E_WAKE_CONFIG', 'Porcupine needs at least one keyword');
    }
    this.keywords = options.keywords.map(keywordName);
    this.lastFire = options.keywords.map(() => -Infinity);
  }

  async start(): Promise<void> {
    if (this.porcupine) return;
    const o = this.options;
    const accessKey = o.accessKey ?? (o.env ?? process.env).PICOVOICE_ACCESS_KEY;
    if (!accessKey) throw noKeyError();
    this.accessKey = accessKey;
    const binding = o.binding ?? (await loadPorcupineBinding());
    const paths = await Promise.all(o.keywords.map((k) => keywordPath(binding, k)));
    let engine: PorcupineEngine;
    try {
      engine = binding.create(
        accessKey,
        paths,
        paths.map(() => o.sensitivity),
      );
    } catch (err) {
      throw mapPorcupineError(err, accessKey);
    }
    if (engine.sampleRate !== SAMPLE_RATE) {
      engine.release();
      throw new EarshotError(
        'E_WAKE_PORCUPINE',
        `Porcupine expects ${engine.sampleRate} Hz audio; the capture loop delivers ${SAMPLE_RATE} Hz`,
      );
    }
    this.porcupine = engine;
    this.reframer = new Reframer(engine.frameLength);
    this.lastIndex = undefined;
  }

  process(frame: Frame): Promise<Detection[]> {
    const engine = this.porcupine;
    const reframer = this.reframer;
    if (!engine || !reframer) {
      return Promise.reject(new EarshotError('E_WAKE_STATE', 'wake detector used before start()'));
    }
    // Audio was lost: a chunk must not join the audio before the gap to the audio after.
    if (this.lastIndex !== undefined && frame.index !== this.lastIndex + 1) reframer.clear();
    this.lastIndex = frame.index;
    const detections: Detection[] = [];
    const refractory = Math.ceil(this.options.refractoryMs / FRAME_MS);
    try {
      reframer.push(frame.samples, (chunk) => {
        const k = engine.process(chunk);
        if (k < 0 || k >= this.keywords.length) return;
        if (frame.index - this.lastFire[k]! <= refractory) return;
        this.lastFire[k] = frame.index;
        // Porcupine gives no score; a detection is a yes.
        detections.push({ keyword: this.keywords[k]!, score: 1, frameIndex: frame.index });
      });
    } catch (err) {
      return Promise.reject(mapPorcupineError(err, this.accessKey));
    }
    return Promise.resolve(detections);
  }

  /** Drops the samples carried towards the next chunk; Porcupine has no reset of its own. */
  reset(): void {
    this.reframer?.clear();
    this.lastIndex = undefined;
  }

  async stop(): Promise<void> {
    this.porcupine?.release();
    this.porcupine = undefined;
    this.reframer = undefined;
  }
}

/** `alexa` → `alexa`; `/keys/hey-edison_en_raspberry-pi_v3_0_0.ppn` → `hey-edison`. */
export function keywordName(keyword: string): string {
  if (!keyword.toLowerCase().endsWith('.ppn')) return keyword;
  return basename(keyword)
    .replace(/\.ppn$/i, '')
    .split('_')[0]!;
}

async function keywordPath(binding: PorcupineBinding, keyword: string): Promise<string> {
  const builtin = binding.builtinKeywords.find((b) => b === keyword.toLowerCase());
  if (builtin) return binding.builtinKeywordPath(builtin);
  if (!keyword.toLowerCase().endsWith('.ppn')) {
    throw new EarshotError(
      'E_WAKE_KEYWORD_UNKNOWN',
      `"${keyword}" is not a built-in Porcupine keyword`,
      {
        hint: `use one of ${binding.builtinKeywords.join(', ')}, or the path to a .ppn file`,
      },
    );
  }
  const path = resolve(keyword);
  try {
    await access(path, constants.R_OK);
  } catch (err) {
    throw new EarshotError('E_WAKE_MODEL_MISSING', `Porcupine keyword file not found: ${path}`, {
      cause: err,
      hint: 'check wake.porcupine.keywords',
    });
  }
  return path;
}
