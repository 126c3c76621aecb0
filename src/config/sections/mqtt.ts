import { z } from 'zod';

/**
 * A topic prefix we publish under: no wildcards (they are not allowed in a published
 * topic), no empty levels (`a//b` is legal MQTT but almost always a typo), and no leading
 * `$` (reserved for broker topics such as `$SYS`).
 */
const topicPrefix = z
  .string()
  .min(1)
  .max(200)
  .refine((t) => !/[+#]/.test(t) && !t.includes('\u0000'), 'must not contain "+", "#" or NUL')
  .refine((t) => !t.startsWith('$'), 'must not start with "$" (reserved for the broker)')
  .refine((t) => t.split('/').every((level) => level.length > 0), 'must not have empty levels');

export const mqttSection = z
  .strictObject({
    /**
     * Broker URL: `mqtt://host[:1883]` or `mqtts://host[:8883]` (TLS). Unset: MQTT is off.
     * Put credentials in `username` / `password`: `earshot config print` masks those, not the URL.
     */
    url: z
      .url({
        protocol: /^mqtts?$/,
        error: 'expected mqtt://host[:port] or mqtts://host[:port]',
      })
      .optional(),
    /** User name for the broker. */
    username: z.string().min(1).optional(),
    /** Password for the broker. Secret. */
    password: z.string().min(1).optional(),
    /** MQTT client id. Default `earshot-<device id>`; a broker allows one connection per id. */
    clientId: z.string().min(1).max(128).optional(),
    /** Prefix of every state and command topic. Default `earshot/<device id>`. */
    baseTopic: topicPrefix.optional(),
    /** CA certificate (PEM file) that signed the broker's certificate; unset: system CAs. */
    ca: z.string().min(1).optional(),
    /** Client certificate (PEM file) for brokers that require mutual TLS; needs `key`. */
    cert: z.string().min(1).optional(),
    /** Private key (PEM file) of the client certificate; needs `cert`. */
    key: z.string().min(1).optional(),
    /** MQTT keep-alive: the broker declares us gone (and publishes `offline`) after 1.5x this. */
    keepaliveSeconds: z.number().int().min(5).max(3600).default(30),
    /** Give up on a connection attempt (TCP + TLS + CONNACK) after this long, then back off. */
    connectTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /**
     * Largest MQTT packet taken from the broker. A bigger one is refused as soon as its
     * header arrives, before its payload is buffered: the connection is dropped.
     */
    maxPacketBytes: z
      .number()
      .int()
      .min(256)
      .max(1024 * 1024)
      .default(4096),
    /** Commands taken per 10 s; more are dropped (and logged once a window). */
    maxCommandsPer10s: z.number().int().min(1).max(1000).default(20),
    /** Publish Home Assistant MQTT discovery configs (and answer HA's birth message). */
    discovery: z.boolean().default(true),
    /** Home Assistant's discovery prefix (its MQTT integration setting of the same name). */
    discoveryPrefix: topicPrefix.default('homeassistant'),
    /** Reconnect delays: exponential from `initialMs` up to `maxMs`, with full jitter. */
    backoff: z
      .strictObject({
        initialMs: z.number().int().min(10).max(60_000).default(1000),
        maxMs: z.number().int().min(10).max(600_000).default(30_000),
      })
      .refine((b) => b.maxMs >= b.initialMs, {
        message: 'maxMs must be at least initialMs',
        path: ['maxMs'],
      })
      .prefault({}),
  })
  .superRefine((m, ctx) => {
    // Catch the combinations that would only fail later, at connect time on the device.
    if ((m.cert === undefined) !== (m.key === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: [m.cert === undefined ? 'cert' : 'key'],
        message: 'cert and key go together (client certificate for mutual TLS)',
      });
    }
    const tlsFile = (['ca', 'cert', 'key'] as const).find((k) => m[k] !== undefined);
    if (tlsFile && m.url !== undefined && !m.url.startsWith('mqtts:')) {
      ctx.addIssue({
        code: 'custom',
        path: [tlsFile],
        message: 'TLS files need an mqtts:// url',
      });
    }
    if (m.password !== undefined && m.username === undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['username'],
        message: 'password given without username',
      });
    }
  })
  .prefault({});

export type MqttConfig = z.infer<typeof mqttSection>;
