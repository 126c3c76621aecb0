import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AudioSink } from '../../src/audio/sinks/sink.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import {
  startHaStandin,
  type HaStandin,
  type StandinBehaviour,
} from '../../src/ha-standin/server.js';
import type { PcmFormat } from '../../src/shared/audio-format.js';
import type { TestCerts } from './tls-certs.js';

export async function startStandin(
  certs: TestCerts,
  behaviour: Partial<StandinBehaviour> = {},
): Promise<HaStandin> {
  return startHaStandin({ cert: certs.serverCert, key: certs.serverKey, behaviour });
}

/** A token file as an owner would make it: mode 600. */
export function tokenFile(dir: string, token = 'standin-token', mode = 0o600): string {
  const file = join(dir, `token-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${token}\n`);
  chmodSync(file, mode);
  return file;
}

/** The three lines of "Connect to Home Assistant", plus what a test run needs. */
export function haConfig(
  certs: TestCerts,
  standin: HaStandin,
  ledger: string,
  token: string,
  set: string[] = [],
): Config {
  return loadConfig({
    overrides: [
      `device.id=${certs.deviceId}`,
      'cloud.protocol=home-assistant',
      `cloud.url=${standin.url}`,
      `cloud.tokenFile=${token}`,
      `cloud.ca=${certs.ca}`,
      'cloud.backoff.initialMs=50',
      'cloud.backoff.maxMs=200',
      `privacy.ledger=${ledger}`,
      'gpio.backend=simulated',
      ...set,
    ],
  });
}

/**
 * A sink that keeps what it is given (this machine has no sound card): the format
 * each sound was opened with and its bytes, to check that the decoded answer, not an
 * earcon, reached it.
 */
export class RecordingSink implements AudioSink {
  readonly kind = 'recording';
  sounds: Array<{
    format: PcmFormat;
    bytes: number;
    firstAt?: number;
    aborted: boolean;
    ended: boolean;
  }> = [];
  private current: (typeof this.sounds)[number] | undefined;

  async open(format: PcmFormat): Promise<void> {
    this.current = { format, bytes: 0, aborted: false, ended: false };
    this.sounds.push(this.current);
  }

  write(chunk: Buffer): void {
    if (!this.current) return;
    this.current.firstAt ??= performance.now();
    this.current.bytes += chunk.length;
  }

  async end(): Promise<void> {
    if (this.current) this.current.ended = true;
    this.current = undefined;
  }

  abort(): void {
    if (this.current) this.current.aborted = true;
    this.current = undefined;
  }

  /** It takes everything at once: nothing ever waits in it. */
  readonly buffered = 0;

  async drained(): Promise<void> {}

  async close(): Promise<void> {}

  /** Sounds at a rate other than the earcons' 16 kHz: decoded answers. */
  get answers(): Array<(typeof this.sounds)[number]> {
    return this.sounds.filter((s) => s.format.sampleRate !== 16000);
  }
}

/**
 * A sound card that takes audio at its playing rate (this machine has none): what was
 * written and not yet "played" by the clock is `buffered`, as a real card's queue, so the
 * Player's backpressure (pause the cloud, refuse past the buffer) acts as on a device.
 */
export class PacedSink implements AudioSink {
  readonly kind = 'paced';
  sounds: Array<{ format: PcmFormat; bytes: number; aborted: boolean; ended: boolean }> = [];
  private current: (typeof this.sounds)[number] | undefined;
  private started = 0;
  private written = 0;
  private bytesPerMs = 32;

  async open(format: PcmFormat): Promise<void> {
    this.current = { format, bytes: 0, aborted: false, ended: false };
    this.sounds.push(this.current);
    this.started = performance.now();
    this.written = 0;
    this.bytesPerMs = (format.sampleRate * format.channels * 2) / 1000;
  }

  write(chunk: Buffer): void {
    if (!this.current) return;
    this.current.bytes += chunk.length;
    this.written += chunk.length;
  }

  get buffered(): number {
    if (!this.current) return 0;
    const played = (performance.now() - this.started) * this.bytesPerMs;
    return Math.max(0, Math.round(this.written - played));
  }

  /** Resolves once less than 100 ms of audio waits. */
  async drained(): Promise<void> {
    while (this.current && this.buffered > 100 * this.bytesPerMs) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async end(): Promise<void> {
    while (this.current && this.buffered > 0) await new Promise((r) => setTimeout(r, 20));
    if (this.current) this.current.ended = true;
    this.current = undefined;
  }

  abort(): void {
    if (this.current) this.current.aborted = true;
    this.current = undefined;
  }

  async close(): Promise<void> {
    this.abort();
  }
}
