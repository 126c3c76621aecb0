import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readCaptureWav } from '../../shared/wav.js';
import type { CloudServer } from '../../cloud/index.js';
import { loadConfig } from '../../config/load.js';
import type { Config } from '../../config/schema.js';
import type { Logger } from '../../shared/logger.js';
import { startBenchCloud } from '../bench-cloud.js';
import type { Clip } from './mixed-source.js';

/**
 * Everything a soak needs around the device, built fresh in a temporary directory:
 * throw-away certificates from the project's own script, the reference cloud on
 * 127.0.0.1 with mutual TLS, a throw-away ledger, and the recordings to mix.
 */
const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
export const DEVICE_ID = 'soak-speaker';

/** The committed fixtures and how many times each says "Alexa". */
const FIXTURES: Array<[string, number]> = [
  ['alexa-what-time.wav', 1],
  ['alexa-twice.wav', 2],
  ['alexa-late.wav', 1],
  ['no-wake.wav', 0],
  ['noise.wav', 0],
];

export interface SoakWorld {
  dir: string;
  ledger: string;
  cloud: CloudServer;
  config: Config;
  clips: Clip[];
  dispose(): Promise<void>;
}

export interface WorldOptions {
  log: Logger;
  /** The device gives up on a reply after this long; short, as the cloud answers with a tone. */
  replyTimeoutMs: number;
  /** Rotate the ledger at this size, so a long run exercises rotation too. */
  ledgerMaxBytes: number;
  fixturesDir?: string;
}

export async function buildWorld(options: WorldOptions): Promise<SoakWorld> {
  const dir = mkdtempSync(join(tmpdir(), 'earshot-soak-'));
  try {
    const fixtures = options.fixturesDir ?? join(root, 'test', 'fixtures');
    const clips: Clip[] = [];
    for (const [file, wakeWords] of FIXTURES) {
      const samples = await readCaptureWav(join(fixtures, file));
      clips.push({ name: file.replace(/\.wav$/, ''), samples, wakeWords });
    }
    const { cloud, device } = await startBenchCloud(join(dir, 'certs'), DEVICE_ID, {
      logger: options.log.child({ part: 'cloud' }),
      voice: 'tone',
      // A tone, at once: the soak measures the device, not a speech synthesizer.
      behaviour: { reply: 'tone', replyDelayMs: 0 },
    });
    const ledger = join(dir, 'ledger.jsonl');
    const config = loadConfig({
      patch: {
        'device.id': DEVICE_ID,
        'device.stateDir': join(dir, 'state'),
        'gpio.backend': 'simulated',
        'cloud.url': cloud.url,
        'cloud.ca': device.ca,
        'cloud.cert': device.cert,
        'cloud.key': device.key,
        // Real-time link timings, shortened: audio runs ~30x faster than real time,
        // so a 30 s backoff would be a quarter of an hour of simulated silence.
        'cloud.backoff.initialMs': 50,
        'cloud.backoff.maxMs': 1000,
        'cloud.heartbeatMs': 2000,
        'cloud.heartbeatTimeoutMs': 1000,
        'privacy.ledger': ledger,
        'privacy.ledgerMaxBytes': options.ledgerMaxBytes,
        'audio.playback.sink': 'null',
        'utterance.replyTimeoutMs': options.replyTimeoutMs,
        'log.level': 'warn',
      },
    });
    return {
      dir,
      ledger,
      cloud,
      config,
      clips,
      dispose: async () => {
        await cloud.close();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}
