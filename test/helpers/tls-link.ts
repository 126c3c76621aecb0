import {
  startCloudServer,
  type CloudServer,
  type CloudServerOptions,
} from '../../src/cloud/index.js';
import { CloudLink, type CloudLinkOptions, type LinkSettings } from '../../src/link/index.js';
import { silentLogger } from '../../src/shared/logger.js';
import type { TestCerts } from './tls-certs.js';

/**
 * Small helpers for the link and cloud tests: settings with test-friendly timings,
 * a cloud and a device wired to each other over real TLS on 127.0.0.1, and waits
 * with generous deadlines (the test machine is shared and noisy).
 */
export function linkSettings(certs: TestCerts, patch: Partial<LinkSettings> = {}): LinkSettings {
  return {
    ca: certs.ca,
    cert: certs.deviceCert,
    key: certs.deviceKey,
    insecure: false,
    heartbeatMs: 1000,
    heartbeatTimeoutMs: 1000,
    connectTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 400 },
    maxBufferedBytes: 256 * 1024,
    maxPayloadBytes: 1024 * 1024,
    maxMessagesPerSecond: 200,
    stableAfterMs: 0,
    ...patch,
  };
}

export function cloudOptions(
  certs: TestCerts,
  patch: Partial<CloudServerOptions> = {},
): CloudServerOptions {
  return { cert: certs.serverCert, key: certs.serverKey, ca: certs.ca, voice: 'tone', ...patch };
}

export interface Pair {
  cloud: CloudServer;
  link: CloudLink;
  close: () => Promise<void>;
}

/** A cloud and a started link; `close` stops both. */
export async function startPair(
  certs: TestCerts,
  options: {
    cloud?: Partial<CloudServerOptions>;
    link?: Partial<LinkSettings>;
    hello?: Partial<CloudLinkOptions['hello']>;
    random?: () => number;
    errorAnswers?: CloudLinkOptions['errorAnswers'];
    waitUp?: boolean;
  } = {},
): Promise<Pair> {
  const cloud = await startCloudServer(cloudOptions(certs, options.cloud));
  const link = new CloudLink({
    cloud: linkSettings(certs, { url: cloud.url, ...options.link }),
    hello: {
      deviceId: certs.deviceId,
      firmware: 'test',
      dontSaveRecordings: true,
      ...options.hello,
    },
    logger: silentLogger(),
    ...(options.random ? { random: options.random } : {}),
    ...(options.errorAnswers ? { errorAnswers: options.errorAnswers } : {}),
  });
  const up = options.waitUp === false ? Promise.resolve() : waitForStatus(link, 'up');
  link.start();
  await up;
  return {
    cloud,
    link,
    close: async () => {
      await link.stop();
      await cloud.close();
    },
  };
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Listener = (...args: any[]) => void;
interface Emitter {
  on(event: string, listener: Listener): unknown;
  off(event: string, listener: Listener): unknown;
}

/** Resolves with the first event (args[0]) that passes `match`; rejects after `timeoutMs`. */
export function waitForEvent<T = unknown>(
  emitter: Emitter,
  event: string,
  match: (value: T) => boolean = () => true,
  timeoutMs = 15_000,
): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no matching "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener: Listener = (value: T) => {
      if (!match(value)) return;
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(value);
    };
    emitter.on(event, listener);
  });
}

export function waitForStatus(
  link: CloudLink,
  status: 'connecting' | 'up' | 'down',
  timeoutMs = 15_000,
): Promise<{ status: string; cause?: string; retryInMs?: number }> {
  return waitForEvent(link, 'status', (s: { status: string }) => s.status === status, timeoutMs);
}

/** Every payload (args[0]) of `event` from now on. */
export function record<T = unknown>(emitter: Emitter, event: string): T[] {
  const seen: T[] = [];
  emitter.on(event, (value: T) => seen.push(value));
  return seen;
}

export async function waitUntil(
  condition: () => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** `n` bytes of recognisable s16le "audio" (a counter pattern, different per seed). */
export function pcm(n: number, seed = 0): Buffer {
  const buf = Buffer.alloc(n);
  for (let i = 0; i < n; i++) buf[i] = (i * 7 + seed * 13) & 0xff;
  return buf;
}
