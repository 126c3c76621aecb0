import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCloudServer, type CloudServer, type UtteranceRecord } from '../../src/cloud/index.js';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { RssSampler } from '../helpers/proc-memory.js';
import { childrenOf, Daemon, FifoMic, sleep, until } from '../helpers/run-daemon.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// Finding 8 of the trust-boundary audit: anybody on an anonymous broker against
// `earshot run` with the default config (remote.* off), the real arecord on a microphone
// FIFO and the reference cloud over mutual TLS. Before the fixes `mute/set OFF`,
// `dont_save_recordings/set OFF` and `command/listen PRESS` opened the microphone and
// uploaded 2.16 s with saving allowed; a 64 MiB payload was buffered whole (RSS
// +100-190 MiB); 20k commands wrote 30,001 log lines (as reported in the issue). The
// parsing of each refusal is tested at the bridge in test/integration/mqtt/mqtt-commands
// .test.ts; here the whole device is attacked and what it did is read from outside.
const DEVICE = 'adv-mqtt';
const base = `earshot/${DEVICE}`;
const RSS_BOUND_MIB = 200;
const tmp = tempDir('earshot-adv-mqtt-');
let certs: TestCerts;
let cloud: CloudServer;
let broker: Mosquitto;
let attacker: Probe;
let mic: FifoMic;
let daemon: Daemon;
const utterances: UtteranceRecord[] = [];
const figures: Record<string, unknown> = {};

const raw = (wav: string): Buffer => execFileSync('sox', [wav, '-t', 'raw', '-']);
const last = (topic: string): string | undefined => attacker.on(`${base}/${topic}`).at(-1)?.payload;
const refusals = (): Array<{ code: string; reason: string }> =>
  attacker
    .on(`${base}/error`)
    .map((m) => JSON.parse(m.payload) as { code: string; reason: string })
    .filter((e) => e.code === 'E_REMOTE_REFUSED');

beforeAll(async () => {
  certs = makeCerts(DEVICE);
  cloud = await startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    voice: 'tone',
  });
  cloud.events.on('utterance', (u) => utterances.push(u));
  broker = await Mosquitto.start();
  attacker = await Probe.connect(broker.url);
  await attacker.subscribe(`${base}/#`);
  mic = new FifoMic(tmp.dir, raw(fixture('noise.wav')));
  mic.start();
  const configFile = join(tmp.dir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify({
      device: { id: DEVICE, stateDir: join(tmp.dir, 'state') },
      log: { level: 'info' },
      audio: { playback: { sink: 'null' } },
      gpio: { backend: 'simulated' },
      cloud: { url: cloud.url, ca: certs.ca, cert: certs.deviceCert, key: certs.deviceKey },
      // An anonymous broker without TLS, as in the report; remote.* left at its defaults.
      mqtt: { url: broker.url, discovery: false },
    }),
  );
  daemon = new Daemon(['--config', configFile], { ALSA_CONFIG_PATH: mic.alsaConfig });
  await daemon.waitForLog((l) => l.msg === 'earshot is running', 'start-up', { timeoutMs: 90_000 });
  await until(() => last('availability') === 'online', 'the device online on MQTT');
  await until(() => childrenOf(daemon.pid, 'arecord').length === 1, 'the microphone open');
}, 120_000);

afterAll(async () => {
  process.stdout.write(`adversarial mqtt figures: ${JSON.stringify(figures)}\n`);
  await daemon?.dispose();
  mic?.close();
  await attacker?.close();
  await broker?.stop();
  await cloud?.close();
  certs?.cleanup();
  tmp.cleanup();
});

describe('anybody on the broker against earshot run', { timeout: 90_000 }, () => {
  it('cannot open the microphone, let the cloud keep recordings, or unmute', async () => {
    const from = daemon.logs.length;
    await attacker.publish(`${base}/dont_save_recordings/set`, 'OFF');
    await attacker.publish(`${base}/command/listen`, 'PRESS');
    await attacker.publish(`${base}/command`, '{"type":"listen"}');
    await until(() => refusals().length >= 3 || undefined, 'three refusals on the error topic');
    // The owner mutes (making the speaker more private is always allowed) …
    await attacker.publish(`${base}/mute/set`, 'ON');
    await daemon.waitForLog((l) => l.msg === 'state' && l.state === 'muted', 'muted', { from });
    await until(() => childrenOf(daemon.pid, 'arecord').length === 0, 'the microphone closed');
    // … and nobody but the button unmutes.
    await attacker.publish(`${base}/mute/set`, 'OFF');
    await until(() => refusals().length >= 4 || undefined, 'the unmute refused');
    await attacker.settle();
    await sleep(2000);

    expect(refusals().map((r) => /remote\.(\w+)/.exec(r.reason)?.[1])).toEqual([
      'allowSaveRecordings',
      'allowListen',
      'allowListen',
      'allowUnmute',
    ]);
    const states = daemon.logs.slice(from).filter((l) => l.msg === 'state');
    expect(states.map((l) => l.state)).toEqual(['muted']);
    expect(childrenOf(daemon.pid, 'arecord')).toEqual([]);
    expect(utterances).toEqual([]);
    expect(last('mute')).toBe('ON');
    expect(last('dont_save_recordings')).toBe('ON');
    figures.remote = { refused: refusals().length, uploads: utterances.length, muted: true };
  });

  it('refuses a 64 MiB packet from its header, without buffering it', async () => {
    const from = daemon.logs.length;
    const rss = new RssSampler(daemon.pid);
    await attacker.client.publishAsync(`${base}/volume/set`, Buffer.alloc(64 * 1024 * 1024, 0x31), {
      qos: 0,
    });
    const dropped = await daemon.waitForLog(
      (l) => l.code === 'E_MQTT_TOO_LARGE',
      'the packet refused',
      { from, timeoutMs: 60_000 },
    );
    await daemon.waitForLog((l) => l.msg === 'MQTT connected', 'reconnected', {
      from: daemon.logs.indexOf(dropped),
      timeoutMs: 60_000,
    });
    const memory = rss.stop();
    expect(memory.max).toBeLessThan(RSS_BOUND_MIB);
    expect(memory.max - memory.first).toBeLessThan(32);
    figures.bigPacket = {
      bytes: 64 * 1024 * 1024,
      rssStartMiB: memory.first,
      rssMaxMiB: memory.max,
    };
  });

  it('takes 20 commands per 10 s and logs the flood in a few lines', async () => {
    const from = daemon.logs.length;
    const t0 = Date.now();
    for (let i = 0; i < 20_000; i++) attacker.client.publish(`${base}/volume/set`, String(i % 100));
    await attacker.settle();
    await sleep(2000);
    const lines = daemon.logs.length - from;
    const applied = daemon.logs.slice(from).filter((l) => l.msg === 'MQTT command').length;
    // At most 20 per window of 10 s; the window is fixed (not sliding), so a burst also
    // meets the one already open.
    const windows = Math.ceil((Date.now() - t0) / 10_000) + 1;
    expect(applied).toBeLessThanOrEqual(20 * windows);
    // A few lines per command taken, one per window for the rest (before: 30,001 lines).
    const said = daemon.logs.slice(from).map((l) => l.msg);
    expect(lines, said.join('\n')).toBeLessThanOrEqual(3 * applied + 2 * windows + 10);
    expect(daemon.running).toBe(true);
    figures.commandFlood = { sent: 20_000, applied, logLines: lines };
  });
});
