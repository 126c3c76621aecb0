import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SUBPROTOCOL } from '../link/protocol/index.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import { loadReceiptPrivateKey } from '../shared/receipt.js';
import { silentLogger } from '../shared/logger.js';
import { authorize } from './auth.js';
import { CloudConnection } from './connection.js';
import { RecordingStore } from './store.js';
import {
  CloudServerEmitter,
  DEFAULT_BEHAVIOUR,
  DEFAULT_LIMITS,
  type CloudLimits,
  type CloudBehaviour,
  type CloudServerEvents,
  type CloudServerOptions,
} from './types.js';
import type { TypedEmitter } from '../shared/typed-emitter.js';

/**
 * The reference cloud: a real TLS WebSocket server speaking earshot.v1, for
 * development, demos (`earshot demo` runs it in-process) and the link's tests.
 * Not a product: it keeps recordings in plain files and answers "I heard N seconds".
 */
export interface CloudServer {
  host: string;
  port: number;
  /** `wss://HOST:PORT` */
  url: string;
  events: TypedEmitter<CloudServerEvents>;
  /** The behaviour in force; change it with setBehaviour (applies to live sessions). */
  readonly behaviour: CloudBehaviour;
  setBehaviour(patch: Partial<CloudBehaviour>): void;
  /** Sends a raw frame to every connected device (tests of malformed input). */
  broadcast(data: string | Buffer): void;
  /** Drops every connection without a close frame (a crashed cloud). */
  dropAll(): void;
  /** Devices connected right now. */
  readonly connections: number;
  close(): Promise<void>;
}

const DEFAULT_MAX_PAYLOAD = 1024 * 1024;
const DEFAULT_MAX_UTTERANCE = 60 * 32_000; // 60 s of 16 kHz s16le mono

export async function startCloudServer(options: CloudServerOptions): Promise<CloudServer> {
  const log = options.logger ?? silentLogger();
  const host = options.host ?? '127.0.0.1';
  const limits: CloudLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const receiptKey =
    typeof options.receiptKey === 'string'
      ? loadReceiptPrivateKey(options.receiptKey)
      : options.receiptKey;
  const https = createServer({
    // A client that never finishes TLS or its upgrade request is not kept waiting on.
    handshakeTimeout: limits.handshakeTimeoutMs,
    headersTimeout: limits.handshakeTimeoutMs,
    requestTimeout: limits.handshakeTimeoutMs,
    cert: readPem('--cert', options.cert),
    key: readPem('--key', options.key),
    ...(options.ca !== undefined ? { ca: readPem('--ca', options.ca) } : {}),
    // Ask for a certificate when a CA is given, but let the upgrade handler refuse a
    // missing or untrusted one, so the device gets an explanation (see auth.ts).
    requestCert: options.ca !== undefined,
    rejectUnauthorized: false,
  });
  https.on('request', (_req, res) => {
    res.writeHead(426, { 'content-type': 'text/plain', upgrade: 'websocket' });
    res.end(`earshot cloud: connect with a WebSocket, subprotocol ${SUBPROTOCOL}\n`);
  });
  https.on('tlsClientError', (err) => log.debug({ err: errorMessage(err) }, 'TLS client error'));
  // A socket that finished TLS but never sends (or never finishes) its upgrade request is
  // closed once it has been silent this long: Node's headersTimeout alone does not close
  // it. ws clears the timeout on the upgrade; then the hello timeout takes over.
  https.setTimeout(limits.handshakeTimeoutMs);
  // Sockets that are not (yet) WebSockets count too: beyond this the kernel's are refused.
  https.maxConnections = limits.maxConnections * 2;

  const events = new CloudServerEmitter();
  let behaviour: CloudBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const store = options.store !== undefined ? new RecordingStore(options.store) : undefined;
  const policy = { requireClientCert: options.ca !== undefined, token: options.token };

  const wss = new WebSocketServer({
    server: https,
    maxPayload: options.maxPayloadBytes ?? DEFAULT_MAX_PAYLOAD,
    perMessageDeflate: false,
    // Pongs are answered by each session, which may stall on purpose.
    autoPong: false,
    handleProtocols: (protocols) => (protocols.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    verifyClient: (info, done) => {
      if (wss.clients.size >= limits.maxConnections) {
        const reason = `E_PEER_FLOOD: ${limits.maxConnections} connections at most`;
        return done(false, 503, reason, { 'X-Earshot-Error': reason });
      }
      const result = authorize(info.req, policy);
      if (result.ok) return done(true);
      const remote = info.req.socket.remoteAddress ?? '?';
      log.warn({ remote, status: result.status }, `device refused: ${result.reason}`);
      events.publish('rejected', { remote, status: result.status, reason: result.reason });
      done(false, result.status, result.reason, { 'X-Earshot-Error': result.reason });
    },
  });
  wss.on('connection', (ws: WebSocket, req) => {
    const auth = authorize(req, policy);
    const info = {
      sessionId: CloudConnection.newId(),
      remote: `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? 0}`,
      ...(auth.ok && auth.certificateCn !== undefined ? { certificateCn: auth.certificateCn } : {}),
    };
    log.info(info, 'device connected');
    new CloudConnection({
      ws,
      info,
      events,
      behaviour: () => behaviour,
      store,
      voice: options.voice ?? 'auto',
      maxUtteranceBytes: options.maxUtteranceBytes ?? DEFAULT_MAX_UTTERANCE,
      limits,
      receiptKey,
      log: log.child({ session: info.sessionId }),
    });
    events.publish('connection', info);
  });
  wss.on('error', (err) => log.error({ err: errorMessage(err) }, 'server error'));

  await listen(https, options.port ?? 0, host);
  const port = (https.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    url: `wss://${urlHost}:${port}`,
    events,
    get behaviour() {
      return behaviour;
    },
    setBehaviour(patch) {
      behaviour = { ...behaviour, ...patch };
    },
    broadcast(data) {
      for (const ws of wss.clients) {
        if (ws.readyState === WebSocket.OPEN) ws.send(data, { binary: Buffer.isBuffer(data) });
      }
    },
    dropAll() {
      for (const ws of wss.clients) ws.terminate();
    },
    get connections() {
      return wss.clients.size;
    },
    close: () => closeAll(https, wss),
  };
}

function readPem(flag: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new EarshotError(
      'E_CLOUD_TLS_FILE',
      `cannot read ${flag} ${path}: ${errorMessage(err)}`,
      {
        hint: 'make development certificates with scripts/make-certs.sh DIR',
      },
    );
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error): void => {
      reject(
        new EarshotError('E_CLOUD_LISTEN', `cannot listen on ${host}:${port}: ${err.message}`),
      );
    };
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

async function closeAll(https: Server, wss: WebSocketServer): Promise<void> {
  for (const ws of wss.clients) ws.terminate();
  await new Promise<void>((resolve) => wss.close(() => resolve()));
  https.closeAllConnections();
  await new Promise<void>((resolve) => https.close(() => resolve()));
}
