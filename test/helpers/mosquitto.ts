import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { connect, type IClientOptions, type MqttClient } from 'mqtt';
import { eventually, sleep } from './wait.js';

export { eventually, sleep };

/**
 * A real broker for tests: Debian's `mosquitto` as a child process on a free loopback
 * port, with a throw-away config (anonymous access, no persistence, so a restart loses
 * every retained message, which is exactly the case the bridge must repair).
 */
export interface MosquittoTls {
  caFile: string;
  certFile: string;
  keyFile: string;
  /** Ask clients for a certificate signed by the CA (mutual TLS). */
  requireCertificate?: boolean;
}

export class Mosquitto {
  private child: ChildProcess | undefined;
  private log = '';

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly conf: string,
    private readonly tls: boolean,
  ) {}

  static async start(options: { tls?: MosquittoTls } = {}): Promise<Mosquitto> {
    const dir = await mkdtemp(join(tmpdir(), 'earshot-mosquitto-'));
    const port = await freePort();
    const conf = join(dir, 'mosquitto.conf');
    const lines = [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'persistence false'];
    // As root mosquitto would drop to its own user, which cannot read certificate files in
    // a private temp dir; a test broker on loopback may as well stay root.
    if (process.getuid?.() === 0) lines.push('user root');
    const tls = options.tls;
    if (tls) {
      lines.push(`cafile ${tls.caFile}`, `certfile ${tls.certFile}`, `keyfile ${tls.keyFile}`);
      lines.push(`require_certificate ${tls.requireCertificate ? 'true' : 'false'}`);
    }
    await writeFile(conf, `${lines.join('\n')}\n`);
    const broker = new Mosquitto(port, dir, conf, Boolean(tls));
    try {
      await broker.launch();
    } catch (err) {
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
    return broker;
  }

  get url(): string {
    return `${this.tls ? 'mqtts' : 'mqtt'}://127.0.0.1:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  /** What the broker printed, for failure messages. */
  get output(): string {
    return this.log;
  }

  /** Stops the broker (SIGTERM, SIGKILL after 5 s). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child) return;
    this.child = undefined;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  }

  /** Starts it again on the same port, with no retained messages left. */
  async restart(): Promise<void> {
    await this.stop();
    await this.launch();
  }

  /** Stops the broker and deletes its temp dir. */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async launch(): Promise<void> {
    // The port was just released by the previous process or by freePort(); a second try
    // covers the rare moment where the kernel has not let go of it yet.
    for (let tries = 0; ; tries++) {
      try {
        await this.launchOnce();
        return;
      } catch (err) {
        if (tries >= 2) throw err;
        await sleep(300);
      }
    }
  }

  private async launchOnce(): Promise<void> {
    const child = spawn('mosquitto', ['-c', this.conf], { stdio: ['ignore', 'pipe', 'pipe'] });
    const append = (chunk: Buffer): void => {
      this.log = (this.log + chunk.toString()).slice(-16_384);
    };
    child.stdout?.on('data', append);
    child.stderr?.on('data', append);
    let exit: string | undefined;
    child.once('exit', (code, signal) => {
      exit = `mosquitto exited (${signal ?? code})`;
      if (this.child === child) this.child = undefined;
    });
    child.once('error', (err) => {
      exit = `mosquitto did not start: ${err.message}`;
    });
    this.child = child;
    const deadline = Date.now() + 10_000;
    while (!(await accepts(this.port))) {
      if (exit !== undefined || Date.now() > deadline) {
        child.kill('SIGKILL');
        this.child = undefined;
        throw new Error(`${exit ?? 'mosquitto did not listen in time'}\n${this.log}`);
      }
      await sleep(50);
    }
  }
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export interface Received {
  topic: string;
  payload: string;
  /** True when the broker delivered it as a stored retained message. */
  retain: boolean;
}

/**
 * The other side of the wire: a plain MQTT client standing in for Home Assistant, a
 * dashboard or `mosquitto_sub`. It records everything it receives, in order.
 */
export class Probe {
  readonly messages: Received[] = [];

  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) => {
      this.messages.push({ topic, payload: payload.toString('utf8'), retain: packet.retain });
    });
  }

  static async connect(url: string, options: IClientOptions = {}): Promise<Probe> {
    const client = connect(url, { reconnectPeriod: 0, connectTimeout: 5000, ...options });
    await new Promise<void>((resolve, reject) => {
      client.once('connect', () => resolve());
      client.once('error', reject);
      client.once('close', () => reject(new Error('probe could not connect')));
    });
    client.on('error', () => undefined);
    return new Probe(client);
  }

  async subscribe(filter: string | string[]): Promise<void> {
    await this.client.subscribeAsync(filter, { qos: 1 });
  }

  async publish(topic: string, payload: string | Buffer, retain = false): Promise<void> {
    await this.client.publishAsync(topic, payload, { qos: 1, retain });
  }

  on(topic: string): Received[] {
    return this.messages.filter((m) => m.topic === topic);
  }

  /** Waits for a message (received from now on or already recorded) matching `match`. */
  waitFor(match: (m: Received) => boolean, what: string, timeoutMs = 10_000): Promise<Received> {
    return eventually(() => this.messages.find(match), what, timeoutMs);
  }

  /**
   * Waits until everything the broker sent before this call has arrived: a marker
   * published by this client comes back after all messages queued ahead of it.
   */
  async settle(): Promise<void> {
    const marker = `earshot-test/marker/${Math.random().toString(36).slice(2)}`;
    await this.subscribe(marker);
    await this.publish(marker, 'x');
    await this.waitFor((m) => m.topic === marker, 'the marker');
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

/**
 * What a late subscriber sees: the retained message per topic under `filter`, as a
 * dashboard gets them when it connects.
 */
export async function retainedMessages(
  url: string,
  filter: string | string[],
  options: IClientOptions = {},
): Promise<Map<string, string>> {
  const probe = await Probe.connect(url, options);
  try {
    await probe.subscribe(filter);
    await probe.settle();
    const out = new Map<string, string>();
    for (const m of probe.messages) if (m.retain) out.set(m.topic, m.payload);
    return out;
  } finally {
    await probe.close();
  }
}

const run = promisify(execFile);

export interface TestPki {
  caFile: string;
  serverCertFile: string;
  serverKeyFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

/** A throw-away CA with a server certificate for 127.0.0.1 and a client certificate. */
export async function makeTestPki(dir: string): Promise<TestPki> {
  const f = (name: string): string => join(dir, name);
  const openssl = (...args: string[]) => run('openssl', args);
  await openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    '/CN=earshot test CA',
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.crt'),
  );
  await writeFile(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const who of ['server', 'client']) {
    await openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      `/CN=earshot test ${who}`,
      '-keyout',
      f(`${who}.key`),
      '-out',
      f(`${who}.csr`),
    );
    await openssl(
      'x509',
      '-req',
      '-in',
      f(`${who}.csr`),
      '-CA',
      f('ca.crt'),
      '-CAkey',
      f('ca.key'),
      '-CAcreateserial',
      '-days',
      '2',
      '-out',
      f(`${who}.crt`),
      ...(who === 'server' ? ['-extfile', f('server.ext')] : []),
    );
  }
  return {
    caFile: f('ca.crt'),
    serverCertFile: f('server.crt'),
    serverKeyFile: f('server.key'),
    clientCertFile: f('client.crt'),
    clientKeyFile: f('client.key'),
  };
}
