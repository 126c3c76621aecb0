import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { readCaptureWav, writeWavFile } from '../../src/shared/wav.js';
import { simulate, type SimEvent, type SimulateOptions } from '../../src/cli/simulate/run.js';
import {
  startCloudServer,
  type CloudBehaviour,
  type CloudServer,
  type UtteranceRecord,
} from '../../src/cloud/index.js';
import { loadConfig } from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import type { DeviceMessage } from '../../src/link/protocol/index.js';
import type { Logger } from '../../src/shared/logger.js';
import { SAMPLE_RATE } from '../../src/shared/audio-format.js';
import { fixture } from './paths.js';
import type { TestCerts } from './tls-certs.js';

/**
 * The fault-injection suite's rig: the real device pipeline (`simulate()`, virtual
 * clock, real openWakeWord, real ledger) against the real reference cloud over TLS on
 * 127.0.0.1, with every log line kept in memory so a test can say which line the
 * fault produced. Faults are switched with the cloud's own behaviour switches.
 */
export interface LogLine {
  level: number;
  msg: string;
  part?: string;
  [key: string]: unknown;
}

export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A debug-level pino logger writing parsed lines into an array. */
export function memoryLogger(): { log: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const text of chunk.toString().split('\n')) {
        if (text) lines.push(JSON.parse(text) as LogLine);
      }
      done();
    },
  });
  return { log: pino({ level: 'debug', base: {} }, stream), lines };
}

/** Log lines whose message matches, at `level` or above. */
export function logged(lines: LogLine[], msg: RegExp, level: number = LEVEL.debug): LogLine[] {
  return lines.filter((l) => l.level >= level && msg.test(l.msg));
}

/**
 * A recording made of fixtures and silences, e.g. two requests apart:
 * `composeWav(dir, 'two.wav', ['alexa-what-time.wav', 4, 'alexa-what-time.wav'])`.
 */
export async function composeWav(
  dir: string,
  name: string,
  parts: ReadonlyArray<string | number>,
): Promise<string> {
  const pieces: Int16Array[] = [];
  for (const part of parts) {
    pieces.push(
      typeof part === 'number'
        ? new Int16Array(Math.round(part * SAMPLE_RATE))
        : await readCaptureWav(fixture(part)),
    );
  }
  const all = new Int16Array(pieces.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of pieces) {
    all.set(p, offset);
    offset += p.length;
  }
  const file = join(dir, name);
  await writeWavFile(file, all);
  return file;
}

/** The reference cloud answering with a short tone, at once. */
export function faultCloud(
  certs: TestCerts,
  behaviour: Partial<CloudBehaviour> = {},
): Promise<CloudServer> {
  return startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    voice: 'tone',
    behaviour: { reply: 'tone', ...behaviour },
  });
}

/** What the cloud saw of the device, in order. */
export interface CloudLog {
  messages: DeviceMessage[];
  utterances: UtteranceRecord[];
  replied: string[];
  aborted: string[];
}

export function watchCloud(cloud: CloudServer): CloudLog {
  const seen: CloudLog = { messages: [], utterances: [], replied: [], aborted: [] };
  cloud.events.on('message', (_s, m) => seen.messages.push(m));
  cloud.events.on('utterance', (u) => seen.utterances.push(u));
  cloud.events.on('replied', (r) => seen.replied.push(r.id));
  cloud.events.on('aborted', (a) => seen.aborted.push(a.id));
  return seen;
}

/** The device's config: this cloud, mutual TLS, short link timings, a throw-away ledger. */
export function deviceConfig(
  certs: TestCerts,
  cloud: CloudServer,
  ledger: string,
  patch: Record<string, unknown> = {},
): Config {
  return loadConfig({
    patch: {
      'device.id': certs.deviceId,
      'gpio.backend': 'simulated',
      'cloud.url': cloud.url,
      'cloud.ca': certs.ca,
      'cloud.cert': certs.deviceCert,
      'cloud.key': certs.deviceKey,
      'cloud.backoff.initialMs': 50,
      'cloud.backoff.maxMs': 400,
      // Generous: a loaded test machine must not miss a pong by accident.
      'cloud.heartbeatMs': 1000,
      'cloud.heartbeatTimeoutMs': 2000,
      'cloud.connectTimeoutMs': 3000,
      'privacy.ledger': ledger,
      'audio.playback.sink': 'null',
      'utterance.replyTimeoutMs': 3000,
      ...patch,
    },
  });
}

export type Upload = SimEvent & { event: 'upload' };

export interface Run {
  events: SimEvent[];
  summary: SimEvent & { event: 'summary' };
  uploads: Upload[];
  states: string[];
}

/** Runs the device on `wav` against the configured cloud and collects every event. */
export async function runDevice(
  options: Omit<SimulateOptions, 'onEvent'> & { config: Config },
): Promise<Run> {
  const events: SimEvent[] = [];
  // simulate() waits for the cloud link (up to cloud.connectTimeoutMs) before the
  // microphone opens, so the first wake word never races the TLS handshake.
  const summary = await simulate({
    ...options,
    onEvent: (e) => events.push(e),
  });
  return {
    events,
    summary,
    uploads: events.filter((e): e is Upload => e.event === 'upload'),
    states: events.flatMap((e) => (e.event === 'state' ? [e.state] : [])),
  };
}

/** True when `expected` appears in `actual` in order (other items may come between). */
export function inOrder(actual: readonly string[], expected: readonly string[]): boolean {
  let i = 0;
  for (const item of actual) if (item === expected[i]) i += 1;
  return i === expected.length;
}

/** Calls `fn` once, on the first `event` from the cloud (e.g. to heal a fault). */
export function onFirst<K extends 'utterance' | 'replied' | 'disconnect' | 'message'>(
  cloud: CloudServer,
  event: K,
  fn: () => void,
  match: (...args: unknown[]) => boolean = () => true,
): void {
  let done = false;
  cloud.events.on(event, (...args: unknown[]) => {
    if (done || !match(...args)) return;
    done = true;
    fn();
  });
}
