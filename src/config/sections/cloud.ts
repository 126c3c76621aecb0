import { z } from 'zod';
import { assistSection } from './assist.js';

/**
 * The device <-> cloud link (`src/link`). TLS only (P6): `wss://` verified by the
 * system CAs or a pinned CA, optionally with a client certificate (mutual TLS)
 * and/or a bearer token. Plain `ws://` needs `insecure: true` and is logged as a
 * warning on every connect.
 */
export const cloudSection = z
  .strictObject({
    /**
     * Which cloud protocol `url` speaks: `earshot` (earshot.v1, the reference cloud) or
     * `home-assistant` (Home Assistant's Assist pipeline over its WebSocket API).
     */
    protocol: z.enum(['earshot', 'home-assistant']).default('earshot'),
    /** `wss://host:port/path`. Unset: uploads go nowhere and the device stays offline. */
    url: z
      .string()
      .url()
      .refine((u) => /^wss?:\/\//i.test(u), 'must start with wss:// (or ws:// with insecure: true)')
      .optional(),
    /** Pinned CA certificate file (PEM) that signed the cloud's certificate; unset uses the system CAs. */
    ca: z.string().min(1).optional(),
    /** Client certificate file (PEM) for mutual TLS; needs `key`. */
    cert: z.string().min(1).optional(),
    /** Private key file (PEM) of the client certificate; needs `cert`. */
    key: z.string().min(1).optional(),
    /**
     * The cloud's Ed25519 public key (PEM file) for signed receipts: with it, every
     * acknowledgement must carry the cloud's signature of what it received and whether
     * it kept it, or it is refused; the signature is kept in the ledger.
     */
    receiptKey: z.string().min(1).optional(),
    /** Bearer token sent in the Authorization header on connect. Secret. */
    token: z.string().min(1).optional(),
    /**
     * File holding the token (for Home Assistant: a long-lived access token). Read on
     * every connect, refused when group or others may read it; never logged.
     */
    tokenFile: z.string().min(1).optional(),
    /** Home Assistant Assist settings (with `protocol: home-assistant`). */
    assist: assistSection,
    /** Development only: allow plain ws:// (logged loudly on every connect). Never disables certificate checks. */
    insecure: z.boolean().default(false),
    /** Interval between WebSocket pings that check the connection is alive. */
    heartbeatMs: z.number().int().min(1000).max(120_000).default(15_000),
    /** A pong later than this after its ping means a half-open connection: drop and reconnect. */
    heartbeatTimeoutMs: z.number().int().min(500).max(120_000).default(5000),
    /** Limit for TCP + TLS + upgrade, and again for the cloud's hello.ok. */
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /**
     * Messages the cloud may send per second (text messages and WebSocket pings; reply
     * audio is bounded by the player instead). A cloud that sends more is flooding:
     * the connection is dropped (E_PEER_FLOOD) and retried after a backoff delay.
     */
    maxMessagesPerSecond: z.number().int().min(10).max(10_000).default(200),
    /** A connection must stay up this long before the reconnect backoff starts from the bottom. */
    stableAfterMs: z.number().int().min(0).max(600_000).default(30_000),
    /** Reconnect delays: exponential with full jitter, from `initialMs` up to `maxMs`. */
    backoff: z
      .strictObject({
        /** Ceiling of the first retry delay. */
        initialMs: z.number().int().min(10).max(60_000).default(500),
        /** Largest ceiling of a retry delay. */
        maxMs: z.number().int().min(100).max(600_000).default(30_000),
      })
      .prefault({})
      .refine((b) => b.maxMs >= b.initialMs, {
        message: 'maxMs must be >= initialMs',
        path: ['maxMs'],
      }),
    /** Abort an utterance (E_BACKPRESSURE) when this much audio is waiting in the socket (256 KiB = 8 s). */
    maxBufferedBytes: z
      .number()
      .int()
      .min(4096)
      .max(16 * 1024 * 1024)
      .default(256 * 1024),
    /** Largest single message accepted from the cloud; a bigger one closes the connection (1009). */
    maxPayloadBytes: z
      .number()
      .int()
      .min(1024)
      .max(64 * 1024 * 1024)
      .default(1024 * 1024),
  })
  .refine((c) => !c.url || !/^ws:\/\//i.test(c.url) || c.insecure, {
    message:
      'plain ws:// is refused (audio would travel unencrypted); use wss:// or set insecure: true',
    path: ['url'],
  })
  .refine((c) => !(c.token && c.tokenFile), {
    message: 'token and tokenFile are two ways to give one token: set one',
    path: ['tokenFile'],
  })
  .refine((c) => !c.tokenFile || c.protocol === 'home-assistant', {
    message: 'tokenFile is read for protocol: home-assistant; the earshot protocol takes token',
    path: ['tokenFile'],
  })
  .refine((c) => c.protocol !== 'home-assistant' || !c.url || c.token || c.tokenFile, {
    message:
      'Home Assistant needs a long-lived access token: set tokenFile (a file readable by the service user only)',
    path: ['tokenFile'],
  })
  .refine((c) => Boolean(c.cert) === Boolean(c.key), {
    message: 'cert and key go together (mutual TLS): set both or neither',
    path: ['cert'],
  })
  .prefault({});

export type CloudConfig = z.infer<typeof cloudSection>;
