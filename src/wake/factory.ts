import type { Config } from '../config/schema.js';
import type { Logger } from '../shared/logger.js';
import type { WakeDetector } from './detector.js';
import { OpenWakeWordDetector } from './openwakeword/detector.js';

export interface WakeFactoryResult {
  detector: WakeDetector;
  /** Set when the configured engine could not start and openWakeWord runs instead. */
  fallback?: { code: string; message: string };
}

/** Builds and starts the configured wake-word engine. */
export async function createWakeDetector(
  config: Config['wake'],
  log: Logger,
): Promise<WakeFactoryResult> {
  const detector = new OpenWakeWordDetector({
    keywords: config.keywords.map((k) => ({
      name: k.name,
      model: k.model ?? `${k.name}_v0.1`,
      threshold: k.threshold,
      patience: k.patience,
      confirm: false,
    })),
    refractoryMs: config.refractoryMs,
    warmupMs: config.warmupMs,
  });
  await detector.start();
  log.info({ engine: detector.engine, keywords: detector.keywords }, 'wake word engine ready');
  return { detector };
}
