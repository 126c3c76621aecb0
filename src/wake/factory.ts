import type { Config } from '../config/schema.js';
import { EarshotError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { Frame } from '../shared/audio-format.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { Detection, WakeDetector } from './detector.js';
import type { WakeKeywordConfig } from '../config/sections/wake.js';
import { OpenWakeWordDetector, type OpenWakeWordKeyword } from './openwakeword/detector.js';
import { mapPorcupineError } from './porcupine-errors.js';
import { PorcupineDetector, type PorcupineBinding } from './porcupine.js';

export interface WakeFactoryResult {
  detector: WakeDetector;
  /**
   * Set when the configured engine could not start and openWakeWord runs instead: the
   * device shows it (LED, MQTT, `earshot doctor`) so that nobody mistakes the fallback
   * for the engine they chose.
   */
  fallback?: { code: string; message: string };
}

export interface WakeFactoryOptions {
  /** Where PICOVOICE_ACCESS_KEY is read from (default: process.env). */
  env?: NodeJS.ProcessEnv;
  /** Porcupine's binding, for tests; loaded lazily otherwise. */
  porcupineBinding?: PorcupineBinding;
}

/**
 * Builds and starts the configured wake-word engine. Porcupine failing to start (no key,
 * no network for its activation check, quota) either falls back to openWakeWord with a
 * warning (`wake.porcupine.onError: fallback`, the default) or refuses with the mapped
 * EarshotError (`refuse`).
 */
export async function createWakeDetector(
  config: Config['wake'],
  log: Logger,
  opts: WakeFactoryOptions = {},
): Promise<WakeFactoryResult> {
  if (config.engine === 'porcupine') {
    const p = config.porcupine;
    const porcupine = new PorcupineDetector({
      accessKey: p.accessKey,
      keywords: p.keywords,
      sensitivity: p.sensitivity,
      refractoryMs: config.refractoryMs,
      ...(opts.env ? { env: opts.env } : {}),
      ...(opts.porcupineBinding ? { binding: opts.porcupineBinding } : {}),
    });
    try {
      await porcupine.start();
      log.info(
        { engine: porcupine.engine, keywords: porcupine.keywords },
        'wake word engine ready',
      );
      return { detector: porcupine };
    } catch (err) {
      const mapped = err instanceof EarshotError ? err : mapPorcupineError(err, p.accessKey);
      if (p.onError === 'refuse') throw mapped;
      log.warn(
        { code: mapped.code, hint: mapped.hint, err: mapped.message },
        'Porcupine cannot start; falling back to openWakeWord',
      );
      const detector = await startOpenWakeWord(config, log);
      return { detector, fallback: { code: mapped.code, message: mapped.message } };
    }
  }
  return { detector: await startOpenWakeWord(config, log) };
}

function engineKeyword(k: WakeKeywordConfig, config: Config['wake']): OpenWakeWordKeyword {
  return {
    name: k.name,
    // Without a model the name is the bundled model (`alexa` → newest `alexa_v*`).
    model: k.model ?? k.name,
    threshold: k.threshold,
    patience: k.patience,
    // Only keywords with a bundled verifier get one (the engine looks it up).
    ...(config.verifier.enabled ? { verifier: { threshold: config.verifier.threshold } } : {}),
  };
}

/**
 * What the owner may choose from at run time (Home Assistant's `Wake word` select), by
 * name: the configured set first (its names joined with ` + ` when it holds several
 * keywords, so that it can be chosen back), then every keyword and choice on its own.
 */
export function wakeChoices(config: Config['wake']): Map<string, WakeKeywordConfig[]> {
  const choices = new Map<string, WakeKeywordConfig[]>();
  if (config.keywords.length > 1) {
    choices.set(configuredName(config), config.keywords);
  }
  for (const k of [...config.keywords, ...config.choices]) {
    if (!choices.has(k.name)) choices.set(k.name, [k]);
  }
  return choices;
}

/** The name under which the configured keywords appear among the choices. */
export function configuredName(config: Config['wake']): string {
  return config.keywords.map((k) => k.name).join(' + ');
}

/** The openWakeWord engine as configured (not started). */
export function openWakeWord(config: Config['wake']): OpenWakeWordDetector {
  return new OpenWakeWordDetector({
    keywords: config.keywords.map((k) => engineKeyword(k, config)),
    refractoryMs: config.refractoryMs,
    warmupMs: config.warmupMs,
    vadThreshold: config.vadThreshold,
    quietGateDb: config.quietGateDb,
  });
}

async function startOpenWakeWord(config: Config['wake'], log: Logger): Promise<WakeDetector> {
  const detector = openWakeWord(config);
  await detector.start();
  log.info({ engine: detector.engine, keywords: detector.keywords }, 'wake word engine ready');
  return detector;
}

export type ConfiguredWakeEvents = {
  /** The configured engine could not start and openWakeWord runs instead (`undefined`: as configured). */
  status: [WakeFactoryResult['fallback']];
  /** The keywords listened for now, after the start and after every switch. */
  keywords: [{ name: string; keywords: readonly string[] }];
};

/**
 * The wake-word engine as a part of the device: built from the config at once, its
 * models loaded by `start()` (Porcupine, or openWakeWord when Porcupine cannot start and
 * the config allows the fallback: then `status` says so).
 */
export class ConfiguredWake extends TypedEmitter<ConfiguredWakeEvents> implements WakeDetector {
  readonly name = 'wake';
  private inner: WakeDetector | undefined;
  private fallbackValue: WakeFactoryResult['fallback'];
  private chosen: string;
  /** Switches run one after the other; the last one asked for wins. */
  private switching: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: Config['wake'],
    private readonly log: Logger,
    private readonly opts: WakeFactoryOptions = {},
  ) {
    super();
    this.chosen = configuredName(config);
  }

  /** The name of the choice listened for now (see `wakeChoices`). */
  get choice(): string {
    return this.chosen;
  }

  get engine(): string {
    return this.inner?.engine ?? this.config.engine;
  }

  get keywords(): readonly string[] {
    return this.inner?.keywords ?? [];
  }

  /** Set while openWakeWord stands in for the configured engine. */
  get fallback(): WakeFactoryResult['fallback'] {
    return this.fallbackValue;
  }

  async start(): Promise<void> {
    if (this.inner) return;
    const { detector, fallback } = await createWakeDetector(this.config, this.log, this.opts);
    this.inner = detector;
    this.fallbackValue = fallback;
    if (fallback) this.emit('status', fallback);
    // Porcupine's keywords come from its own section and cannot be switched.
    if (!(detector instanceof OpenWakeWordDetector)) this.chosen = detector.keywords.join(' + ');
    this.emit('keywords', { name: this.chosen, keywords: detector.keywords });
  }

  /**
   * Listens for the choice of this name (a keyword, or the configured set) from now on.
   * The audio loop never waits for it: the new model loads beside the running one.
   */
  selectKeyword(name: string): Promise<void> {
    const next = this.switching.then(() => this.switchTo(name));
    this.switching = next.catch(() => undefined);
    return next;
  }

  private async switchTo(name: string): Promise<void> {
    const inner = this.inner;
    if (!inner) throw new EarshotError('E_WAKE_STATE', 'wake detector used before start()');
    if (!(inner instanceof OpenWakeWordDetector)) {
      throw new EarshotError(
        'E_WAKE_CHOICE',
        `the ${inner.engine} engine cannot switch keywords at run time`,
        { hint: 'change wake.porcupine.keywords in the config and restart' },
      );
    }
    const choices = wakeChoices(this.config);
    const keywords = choices.get(name);
    if (!keywords) {
      throw new EarshotError('E_WAKE_CHOICE', `no wake word "${name}" to choose`, {
        hint: `choose one of ${[...choices.keys()].join(', ')}, or add it to wake.choices`,
      });
    }
    if (name === this.chosen) return;
    await inner.setKeywords(keywords.map((k) => engineKeyword(k, this.config)));
    this.chosen = name;
    this.log.info({ choice: name, keywords: inner.keywords }, 'wake word switched');
    this.emit('keywords', { name, keywords: inner.keywords });
  }

  process(frame: Frame): Promise<Detection[]> {
    if (!this.inner) {
      return Promise.reject(new EarshotError('E_WAKE_STATE', 'wake detector used before start()'));
    }
    return this.inner.process(frame);
  }

  reset(): void {
    this.inner?.reset();
  }

  async stop(): Promise<void> {
    const inner = this.inner;
    this.inner = undefined;
    await inner?.stop();
  }
}
