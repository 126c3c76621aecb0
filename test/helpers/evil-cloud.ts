import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { SUBPROTOCOL } from '../../src/link/protocol/index.js';
import type { TestCerts } from './tls-certs.js';

/**
 * A hostile cloud, as an attacker would write it: a few lines of `ws` on
 * `https.createServer` with the test certificates (so the device's mutual TLS and its
 * pinned CA accept it), answering `hello` with `hello.ok` and then doing whatever the
 * test's `onSession` says. It does not use the reference cloud's code on purpose: it
 * follows no limit of its own, reads only when it wants to, and counts what the device
 * answers.
 */
export type DeviceJson = Record<string, unknown> & { type: string };

export class EvilSession {
  /** Every JSON message from the device, in order. */
  readonly messages: DeviceJson[] = [];
  /** Bytes of binary frames (upload audio) from the device. */
  audioBytes = 0;
  readonly closed: Promise<void>;

  constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) => ws.once('close', () => resolve()));
    ws.on('message', (data, isBinary) => {
      const buf = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as Buffer);
      if (isBinary) this.audioBytes += buf.length;
      else {
        try {
          this.messages.push(JSON.parse(buf.toString('utf8')) as DeviceJson);
        } catch {
          // not JSON: the device never sends that
        }
      }
    });
    ws.on('error', () => undefined);
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** The device's `error` answers, by code. */
  errors(code?: string): DeviceJson[] {
    return this.messages.filter(
      (m) => m.type === 'error' && (code === undefined || m.code === code),
    );
  }

  send(message: Record<string, unknown>): void {
    if (this.open) this.ws.send(JSON.stringify(message));
  }

  sendAudio(chunk: Buffer): void {
    if (this.open) this.ws.send(chunk, { binary: true });
  }

  /** Stops reading the socket: what the device sends piles up in the kernel, then in the device. */
  stopReading(): void {
    this.ws.pause();
  }
}

export class EvilCloud {
  readonly sessions: EvilSession[] = [];
  /** What to do with each device once it said hello (hello.ok is already sent). */
  onSession: (s: EvilSession) => void = () => undefined;

  private constructor(
    private readonly https: Server,
    private readonly wss: WebSocketServer,
    readonly url: string,
  ) {}

  static async start(certs: TestCerts): Promise<EvilCloud> {
    const https = createServer({
      cert: readFileSync(certs.serverCert),
      key: readFileSync(certs.serverKey),
      ca: readFileSync(certs.ca),
      requestCert: true,
      rejectUnauthorized: true,
    });
    const wss = new WebSocketServer({
      server: https,
      perMessageDeflate: false,
      handleProtocols: (p) => (p.has(SUBPROTOCOL) ? SUBPROTOCOL : false),
    });
    await new Promise<void>((resolve) => https.listen(0, '127.0.0.1', resolve));
    const port = (https.address() as AddressInfo).port;
    const cloud = new EvilCloud(https, wss, `wss://127.0.0.1:${port}`);
    let n = 0;
    wss.on('connection', (ws) => {
      const session = new EvilSession(ws);
      ws.once('message', (data) => {
        const hello = JSON.parse(String(data)) as DeviceJson;
        if (hello.type !== 'hello') return;
        session.send({ type: 'hello.ok', protocol: 1, sessionId: `evil-${++n}` });
        cloud.sessions.push(session);
        cloud.onSession(session);
      });
    });
    return cloud;
  }

  /** The newest session that said hello after `after` sessions existed. */
  async nextSession(after: number, timeoutMs = 30_000): Promise<EvilSession> {
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.length <= after) {
      if (Date.now() > deadline) throw new Error('the device did not connect');
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.sessions[this.sessions.length - 1]!;
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
    this.https.closeAllConnections();
    await new Promise<void>((resolve) => this.https.close(() => resolve()));
  }
}
