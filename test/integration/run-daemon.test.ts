import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { startCloudServer, type CloudServer, type UtteranceRecord } from '../../src/cloud/index.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { runCli } from '../helpers/run-cli.js';
import { childrenOf, Daemon, FifoMic, processGone, sleep, until } from '../helpers/run-daemon.js';
import { NotifyListener } from '../helpers/run-notify.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// `earshot run` as systemd runs it: a process with NOTIFY_SOCKET and WATCHDOG_USEC set,
// JSON logs on stderr (not a terminal), the real `arecord` reading a microphone the
// test speaks into at real time (an ALSA file PCM on a FIFO), the real wake-word
// engine, the reference cloud over mutual TLS on 127.0.0.1, and a real ledger. Only the
// GPIO pins are simulated (there are none here) and replies play into the null sink.
// The steps below run in order on one daemon, as one speaker's day would.
const DEVICE = 'run-test';
const WATCHDOG_USEC = 2_000_000; // the daemon pings at most once a second
const tmp = tempDir('earshot-run-');
const ledger = join(tmp.dir, 'state', 'ledger.jsonl');
const configFile = join(tmp.dir, 'config.yaml');
let certs: TestCerts;
let cloud: CloudServer;
let mic: FifoMic;
let notify: NotifyListener;
let daemon: Daemon;
let fixtureRaw: Buffer;
const utterances: UtteranceRecord[] = [];

function config(patch: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    device: { id: DEVICE, stateDir: join(tmp.dir, 'state') },
    log: { level: 'info' },
    audio: {
      capture: { restart: { initialMs: 200, maxMs: 1000 } },
      playback: { sink: 'null', volume: 80 },
    },
    gpio: { backend: 'simulated' },
    privacy: { ledger },
    cloud: {
      url: cloud.url,
      ca: certs.ca,
      cert: certs.deviceCert,
      key: certs.deviceKey,
      backoff: { initialMs: 100, maxMs: 1000 },
    },
    ...patch,
  };
}

const raw = (wav: string): Buffer => execFileSync('sox', [wav, '-t', 'raw', '-']);
const msg = (text: string) => (l: { msg: string }) => l.msg === text;

beforeAll(async () => {
  certs = makeCerts(DEVICE);
  cloud = await startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    voice: 'tone',
  });
  cloud.events.on('utterance', (u) => utterances.push(u));
  fixtureRaw = raw(fixture('alexa-what-time.wav'));
  mic = new FifoMic(tmp.dir, raw(fixture('noise.wav')));
  mic.start();
  notify = await NotifyListener.start(join(tmp.dir, 'notify.sock'));
  writeFileSync(configFile, stringify(config()));
  daemon = new Daemon(['--config', configFile], {
    ALSA_CONFIG_PATH: mic.alsaConfig,
    NOTIFY_SOCKET: notify.socket,
    WATCHDOG_USEC: String(WATCHDOG_USEC),
  });
}, 60_000);

afterAll(async () => {
  await daemon?.dispose();
  mic?.close();
  notify?.stop();
  await cloud?.close();
  certs?.cleanup();
  tmp.cleanup();
});

describe('earshot run under a service manager', { timeout: 60_000 }, () => {
  it('sends READY=1 with a status line once every part is up', async () => {
    const ready = await notify.waitFor((l) => l === 'READY=1', 'READY=1', { timeoutMs: 60_000 });
    expect(ready.lines[1], ready.lines.join('|')).toMatch(/^STATUS=(idle|offline); cloud /);
    const running = await daemon.waitForLog(msg('earshot is running'), '"earshot is running"');
    expect(running).toMatchObject({ device: DEVICE, level: 30 });
    expect(childrenOf(daemon.pid, 'arecord')).toHaveLength(1);
  }, 90_000);

  it('streams the wake word it hears to the cloud, and reports the states', async () => {
    await notify.waitFor((l) => /^STATUS=idle; cloud up/.test(l), 'idle with the cloud up');
    const t0 = Date.now();
    mic.play(fixtureRaw);
    const [u] = await until(() => utterances.length > 0 && utterances, 'an utterance at the cloud');
    expect(u!.deviceId).toBe(DEVICE);
    expect(u!.integrityOk).toBe(true);
    // About 2.5 s of audio: 500 ms of pre-roll, "Alexa", and "what time is it?".
    expect(u!.audio.length).toBeGreaterThan(1.5 * 32_000);
    expect(u!.audio.length).toBeLessThan(5 * 32_000);
    expect(u!.start.trigger).toMatchObject({ kind: 'wake' });
    const states = notify
      .since('STATUS', t0)
      .map((m) => m.lines.find((l) => l.startsWith('STATUS=')));
    expect(states.some((s) => /^STATUS=listening; cloud up; 1 wakes; 0 uploads/.test(s!))).toBe(
      true,
    );
    await notify.waitFor(
      (l) => /^STATUS=idle; cloud up; 1 wakes; 1 uploads/.test(l),
      'idle again',
      {
        after: t0,
      },
    );
  }, 60_000);

  it('feeds the watchdog while frames flow, and only then', async () => {
    const flowing = Date.now();
    await notify.waitFor((l) => l === 'WATCHDOG=1', 'a ping while frames flow', { after: flowing });
    mic.pause();
    // The queue between capture and detector holds at most 2 s of audio: after 3 s
    // nothing is left to go through the loop, and a wedged audio path gets no pings.
    await sleep(3000);
    const stalled = Date.now();
    await sleep(3000);
    expect(notify.since('WATCHDOG', stalled)).toEqual([]);
    expect(daemon.running).toBe(true);
    const resumed = Date.now();
    mic.resume();
    await notify.waitFor((l) => l === 'WATCHDOG=1', 'a ping once frames flow again', {
      after: resumed,
    });
  }, 60_000);

  it('logs a capture process that dies and starts a new one', async () => {
    const [first] = childrenOf(daemon.pid, 'arecord');
    expect(first).toBeDefined();
    const from = daemon.logs.length;
    process.kill(first!, 'SIGKILL');
    const failed = await daemon.waitForLog(msg('capture stopped unexpectedly'), 'the failure', {
      from,
    });
    expect(failed).toMatchObject({ level: 50, part: 'audio' });
    expect(failed.cause).toMatch(/^arecord exited \(SIGKILL\)/);
    const started = await daemon.waitForLog(msg('capture started'), 'the restart', { from });
    const second = await until(() => childrenOf(daemon.pid, 'arecord')[0], 'a new arecord');
    expect(second).not.toBe(first);
    expect(started.pid).toBe(second);
    expect(processGone(first!)).toBe(true);
    // The new process delivers frames: the watchdog is fed again.
    const after = Date.now();
    await notify.waitFor((l) => l === 'WATCHDOG=1', 'a ping from the new capture', { after });
  }, 60_000);

  it('refuses a reload with an invalid config and keeps running; applies a valid one', async () => {
    const good = readFileSync(configFile, 'utf8');
    writeFileSync(configFile, stringify(config({ audio: { preRollMs: 5000 } })));
    let from = daemon.logs.length;
    daemon.kill('SIGHUP');
    const refused = await daemon.waitForLog(
      (l) => l.msg.startsWith('reload refused'),
      'the refused reload',
      { from },
    );
    expect(refused.level).toBe(50);
    expect(refused.err).toMatch(/audio\.preRollMs/);
    await sleep(500);
    expect(daemon.running).toBe(true);
    const after = Date.now();
    await notify.waitFor((l) => l === 'WATCHDOG=1', 'a ping after the refused reload', { after });

    writeFileSync(configFile, good.replace('volume: 80', 'volume: 40'));
    from = daemon.logs.length;
    daemon.kill('SIGHUP');
    const applied = await daemon.waitForLog(
      (l) => l.msg.startsWith('config reloaded'),
      'a reload',
      {
        from,
      },
    );
    expect(applied.needsRestart).toEqual([]);
  }, 60_000);

  it('on SIGTERM sends STOPPING=1, stops arecord and exits 0', async () => {
    const arecords = childrenOf(daemon.pid, 'arecord');
    const t0 = Date.now();
    daemon.kill('SIGTERM');
    await notify.waitFor((l) => l === 'STOPPING=1', 'STOPPING=1', { after: t0 });
    // systemd's TimeoutStopSec in the unit is 15 s.
    const exit = await Promise.race([daemon.exited, sleep(15_000).then(() => 'timeout' as const)]);
    expect(exit).toEqual({ code: 0, signal: null });
    for (const pid of arecords) expect(processGone(pid)).toBe(true);
    expect(daemon.logs.find(msg('stopping'))).toMatchObject({ signal: 'SIGTERM' });
  }, 30_000);

  it('wrote JSON logs only, and a ledger that verifies and matches what the cloud got', async () => {
    expect(daemon.nonJson).toEqual([]);
    for (const l of daemon.logs)
      expect(l).toMatchObject({ level: expect.any(Number), time: expect.any(Number) });
    const r = await runCli(['ledger', 'verify', '--ledger', ledger]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/: ok, 2 entries \(1 utterances\)/);
    const entries = readFileSync(ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries[0]).toMatchObject({ type: 'utterance', sha256: utterances[0]!.sha256 });
    expect(entries[1]).toMatchObject({ type: 'ack', stored: false });
  });
});

describe('earshot run with a bad config', { timeout: 60_000 }, () => {
  it('exits 78 (EX_CONFIG) naming the bad key, before starting anything', async () => {
    const bad = join(tmp.dir, 'bad.yaml');
    writeFileSync(bad, stringify({ audio: { preRollMs: 5000 }, gpio: { backend: 'gpiod' } }));
    const r = await runCli(['run', '--config', bad]);
    expect(r.code).toBe(78);
    expect(r.stderr).toMatch(/audio\.preRollMs/);
    expect(r.stderr).toMatch(/gpio\.backend/);
    expect(r.stderr).not.toMatch(/capture started/);
  });
});
