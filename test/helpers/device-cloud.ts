import type { PcmFormat } from '../../src/shared/audio-format.js';
import type { AudioSink } from '../../src/audio/sinks/sink.js';
import { startCloudServer, type CloudServer } from '../../src/cloud/index.js';
import type { BackendFactory } from '../../src/gpio/index.js';
import type { CloudBehaviour } from '../../src/cloud/types.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { simulate, type SimEvent, type SimulateOptions } from '../../src/cli/simulate/run.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { TestCerts } from './tls-certs.js';

/**
 * A sound card that plays in (slowed) real time: this machine has none. It makes a
 * reply take as long as a speaker would, so barge-in and stop can be tested; `sounds`
 * records what was opened, to see error earcons.
 */
export class SlowSoundCard implements AudioSink {
  readonly kind = 'fake-sound-card';
  sounds: Array<{ bytes: number; aborted: boolean }> = [];
  private current: { bytes: number; aborted: boolean; format: PcmFormat } | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly slowdown = 1) {}

  async open(format: PcmFormat): Promise<void> {
    this.current = { bytes: 0, aborted: false, format };
    this.sounds.push(this.current);
  }

  write(chunk: Buffer): void {
    if (this.current) this.current.bytes += chunk.length;
  }

  async end(): Promise<void> {
    const cur = this.current;
    if (!cur) return;
    const ms = (cur.bytes / 2 / cur.format.sampleRate / cur.format.channels) * 1000 * this.slowdown;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  /** Plays in (slowed) real time from a buffer of its own: nothing waits in a queue. */
  readonly buffered = 0;

  async drained(): Promise<void> {}

  abort(): void {
    if (this.current) this.current.aborted = true;
    this.wake?.();
  }

  async close(): Promise<void> {
    this.abort();
  }
}

export interface DeviceRun {
  events: SimEvent[];
  of: <K extends SimEvent['event']>(k: K) => Array<Extract<SimEvent, { event: K }>>;
  summary: Extract<SimEvent, { event: 'summary' }>;
}

export async function startTestCloud(
  certs: TestCerts,
  behaviour: Partial<CloudBehaviour> = {},
): Promise<CloudServer> {
  return startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    logger: silentLogger(),
    behaviour: { reply: 'tone', ...behaviour },
  });
}

export function cloudConfig(
  certs: TestCerts,
  cloud: CloudServer,
  ledger: string,
  set: string[] = [],
): Config {
  return loadConfig({
    overrides: [
      `device.id=${certs.deviceId}`,
      `cloud.url=${cloud.url}`,
      `cloud.ca=${certs.ca}`,
      `cloud.cert=${certs.deviceCert}`,
      `cloud.key=${certs.deviceKey}`,
      'cloud.backoff.initialMs=50',
      'cloud.backoff.maxMs=200',
      `privacy.ledger=${ledger}`,
      'gpio.backend=simulated',
      ...set,
    ],
  });
}

/** Runs the real device on a WAV (virtual clock) against a cloud; waits for the link first. */
export async function runDevice(
  wav: string,
  config: Config,
  options: {
    sink?: AudioSink;
    presses?: Array<{ name: 'mute' | 'action'; seconds: number }>;
    onStarted?: SimulateOptions['onStarted'];
    gpioBackendFactory?: BackendFactory;
  } = {},
): Promise<DeviceRun> {
  const events: SimEvent[] = [];
  const summary = await simulate({
    wav,
    config,
    log: silentLogger(),
    onEvent: (e) => events.push(e),
    ...(options.sink ? { sink: options.sink } : {}),
    ...(options.presses ? { presses: options.presses } : {}),
    ...(options.onStarted ? { onStarted: options.onStarted } : {}),
    ...(options.gpioBackendFactory ? { gpioBackendFactory: options.gpioBackendFactory } : {}),
    settleMs: 8000,
  });
  const of = <K extends SimEvent['event']>(k: K): Array<Extract<SimEvent, { event: K }>> =>
    events.filter((e): e is Extract<SimEvent, { event: K }> => e.event === k);
  return { events, of, summary: summary as Extract<SimEvent, { event: 'summary' }> };
}
