import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { alsaFileConfig } from '../helpers/alsa.js';
import { PacedFifoSpeaker } from '../helpers/alsa-fifo.js';
import { EvilCloud, type DeviceJson, type EvilSession } from '../helpers/evil-cloud.js';
import { Mosquitto, Probe } from '../helpers/mosquitto.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { RssSampler } from '../helpers/proc-memory.js';
import { runCli } from '../helpers/run-cli.js';
import {
  childrenOf,
  Daemon,
  FifoMic,
  processGone,
  sleep,
  until,
  type LogLine,
} from '../helpers/run-daemon.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// Findings 1-4 of the trust-boundary audit, acted out against `earshot run` as a child
// process: the real arecord on a microphone FIFO, the real wake word, the real ledger,
// MQTT through a real mosquitto, and replies played by the real `aplay`. The cloud is
// hostile (test/helpers/evil-cloud.ts): plain `ws` on https with the test certificates.
// There is no sound card here: aplay plays into an ALSA file PCM whose file is a FIFO
// drained at 32 kB/s (PacedFifoSpeaker), so it blocks like a card that plays in real
// time. Memory is the daemon's own VmRSS from /proc, sampled during each attack.
//
// Bounds: the daemon idles at about 120-150 MiB here (models loaded); an attack may not
// take it past 200 MiB. Before the fixes the ping flood took it to 454 MiB in 20 s and a
// fast reply to 442 MiB in 30 s (as reported in the issue).
const DEVICE = 'adv-device';
const base = `earshot/${DEVICE}`;
const RSS_BOUND_MIB = 200;
const tmp = tempDir('earshot-adv-');
const ledger = join(tmp.dir, 'state', 'ledger.jsonl');
let certs: TestCerts;
let evil: EvilCloud;
let broker: Mosquitto;
let probe: Probe;
let mic: FifoMic;
let speaker: PacedFifoSpeaker;
let daemon: Daemon;
let fixtureRaw: Buffer;

/** What the hostile cloud does with each new connection (switched by the tests). */
let behaviour: (s: EvilSession) => void = serve;
/** What it answers each utterance with, in order; then `shortReply`. */
const replies: Array<(s: EvilSession, end: DeviceJson) => void> = [];
/** Figures for the README's table, printed at the end. */
const figures: Record<string, unknown> = {};

const raw = (wav: string): Buffer => execFileSync('sox', [wav, '-t', 'raw', '-']);

/** A well-behaved cloud: capture.stop at once, a correct ack, then the next reply plan. */
/** Refused unknown acknowledgements: one per logged line, plus the summaries' counts. */
function unknownAckRefusals(logs: LogLine[]): number {
  let n = 0;
  for (const l of logs) {
    if (/^ignored: no utterance/.test(l.msg)) n += 1;
    else if (l.what === 'ack' && l.code === 'E_UNKNOWN_UTTERANCE' && typeof l.unlogged === 'number')
      n += l.unlogged;
  }
  return n;
}

function serve(s: EvilSession): void {
  s.ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    const m = JSON.parse(String(data)) as DeviceJson;
    if (m.type === 'utterance.start') s.send({ type: 'capture.stop', id: m.id });
    if (m.type === 'utterance.end') (replies.shift() ?? shortReply)(s, m);
  });
}

function ack(s: EvilSession, end: DeviceJson): void {
  s.send({
    type: 'utterance.ack',
    id: end.id,
    stored: false,
    bytes: end.bytes,
    sha256: end.sha256,
  });
}

function shortReply(s: EvilSession, end: DeviceJson): void {
  ack(s, end);
  s.send({ type: 'reply.start', id: end.id, format: PCM });
  s.sendAudio(Buffer.alloc(3200));
  s.send({ type: 'reply.end', id: end.id });
}

const PCM = { encoding: 'pcm_s16le', sampleRate: 16_000, channels: 1 };

/**
 * A reply streamed at `bytesPerSecond` (Infinity: as fast as the socket takes it, never
 * more than 4 MiB waiting in the attacker's own buffer), until the session closes or
 * `stop` is called. Resolves the number of bytes sent.
 */
function streamReply(
  s: EvilSession,
  end: DeviceJson,
  bytesPerSecond: number,
): { stop: () => void; sent: () => number; maxBuffered: () => number } {
  ack(s, end);
  s.send({ type: 'reply.start', id: end.id, format: PCM, text: 'a very long answer' });
  let sent = 0;
  let maxBuffered = 0;
  const t0 = Date.now();
  const timer = setInterval(() => {
    if (!s.open) return clearInterval(timer);
    const due =
      bytesPerSecond === Infinity ? Infinity : ((Date.now() - t0) / 1000) * bytesPerSecond;
    while (sent < due && s.ws.bufferedAmount < 4 * 1024 * 1024) {
      s.sendAudio(Buffer.alloc(3200, 1));
      sent += 3200;
    }
    maxBuffered = Math.max(maxBuffered, s.ws.bufferedAmount);
  }, 20);
  // Once done (refused, stopped), the reply is ended: its frames carry no id, so the
  // device drops them until reply.end and takes no other reply on this connection.
  const stop = (): void => {
    clearInterval(timer);
    s.send({ type: 'reply.end', id: end.id });
  };
  return { stop, sent: () => sent, maxBuffered: () => maxBuffered };
}

/** Starts an utterance from MQTT (the owner allowed it here) and waits for the reply to play. */
async function askAndWaitForReply(): Promise<number> {
  const from = daemon.logs.length;
  await probe.publish(`${base}/command/listen`, 'PRESS');
  await daemon.waitForLog((l) => l.msg === 'state' && l.state === 'speaking', 'speaking', { from });
  const [pid] = await until(() => {
    const a = childrenOf(daemon.pid, 'aplay');
    return a.length > 0 && a;
  }, 'aplay playing the reply');
  const played = speaker.played;
  await until(() => speaker.played > played + 8000, 'the reply reaching the sound card');
  return pid!;
}

/** Drops the current connection so that the device reconnects into `next`. */
async function reconnectInto(next: (s: EvilSession) => void): Promise<EvilSession> {
  behaviour = next;
  const before = evil.sessions.length;
  for (const s of evil.sessions) s.ws.terminate();
  return evil.nextSession(before);
}

async function idle(from: number): Promise<void> {
  await daemon.waitForLog((l) => l.msg === 'state' && l.state === 'idle', 'idle', { from });
}

beforeAll(async () => {
  certs = makeCerts(DEVICE);
  evil = await EvilCloud.start(certs);
  evil.onSession = (s) => behaviour(s);
  broker = await Mosquitto.start();
  probe = await Probe.connect(broker.url);
  await probe.subscribe(`${base}/#`);
  fixtureRaw = raw(fixture('alexa-what-time.wav'));
  mic = new FifoMic(tmp.dir, raw(fixture('noise.wav')));
  mic.start();
  speaker = new PacedFifoSpeaker(tmp.dir);
  const alsaDir = join(tmp.dir, 'alsa');
  mkdirSync(alsaDir);
  // The microphone is `default` and the speaker a PCM of its own: ALSA's file plugin
  // also writes what is captured into its output file, which must not be the speaker.
  const alsa = alsaFileConfig(alsaDir, { infile: mic.fifo });
  appendFileSync(
    alsa,
    `pcm.speaker {\n  type file\n  slave.pcm { type null }\n  file "${speaker.fifo}"\n  format "raw"\n}\n`,
  );
  const configFile = join(tmp.dir, 'config.yaml');
  writeFileSync(
    configFile,
    stringify({
      device: { id: DEVICE, stateDir: join(tmp.dir, 'state') },
      log: { level: 'info' },
      audio: {
        playback: {
          sink: 'aplay',
          device: 'speaker',
          volume: 100,
          maxReplySeconds: 8,
          replyBufferSeconds: 4,
        },
      },
      gpio: { backend: 'simulated' },
      privacy: { ledger },
      cloud: {
        url: evil.url,
        ca: certs.ca,
        cert: certs.deviceCert,
        key: certs.deviceKey,
        backoff: { initialMs: 100, maxMs: 1000 },
      },
      mqtt: { url: broker.url, discovery: false },
      // The owner allowed these remote commands, so that the test can start utterances
      // and unmute from MQTT (both are off by default: see mqtt-remote.test.ts).
      remote: { allowListen: true, allowUnmute: true },
    }),
  );
  daemon = new Daemon(['--config', configFile], { ALSA_CONFIG_PATH: alsa });
  await daemon.waitForLog((l) => l.msg === 'earshot is running', 'start-up', { timeoutMs: 90_000 });
  await evil.nextSession(0);
  await idle(0);
}, 120_000);

afterAll(async () => {
  process.stdout.write(`adversarial device figures: ${JSON.stringify(figures)}\n`);
  if (process.env.ADV_LOG) writeFileSync(process.env.ADV_LOG, daemon.logText);
  await daemon?.dispose();
  mic?.close();
  speaker?.close();
  await probe?.close();
  await broker?.stop();
  await evil?.close();
  certs?.cleanup();
  tmp.cleanup();
});

describe('a hostile cloud against earshot run', { timeout: 90_000 }, () => {
  it('1. a cloud that stops reading and floods pings is dropped; memory stays bounded', async () => {
    const from = daemon.logs.length;
    let pings = 0;
    const flooded = await reconnectInto((s) => {
      s.stopReading();
      const timer = setInterval(() => {
        if (!s.open) return clearInterval(timer);
        for (let i = 0; i < 2000; i++) s.send({ type: 'ping', nonce: `n${i}` });
        pings += 2000;
      }, 10);
      s.closed.then(() => clearInterval(timer));
    });
    const first = evil.sessions.indexOf(flooded);
    const rss = new RssSampler(daemon.pid);
    await sleep(20_000);
    const memory = rss.stop();
    behaviour = serve;
    const sessions = evil.sessions.slice(first);
    // Every flooding connection was dropped by the device (none is left open for long).
    await until(() => sessions.every((s) => !s.open), 'the device dropping every flood');
    const drop = daemon.logs
      .slice(from)
      .find(
        (l) => l.msg === 'cloud link down' && /E_PEER_(FLOOD|NOT_READING)/.test(String(l.cause)),
      );
    expect(drop, daemon.logText.slice(-3000)).toBeDefined();
    expect(memory.max).toBeLessThan(RSS_BOUND_MIB);
    const dropped = daemon.logs
      .slice(from)
      .filter((l) => l.msg === 'audio frames dropped: consumer too slow');
    figures.pingFlood = {
      seconds: 20,
      pingsSent: pings,
      connections: sessions.length,
      rssStartMiB: memory.first,
      rssMaxMiB: memory.max,
      cause: drop?.cause,
      // Not asserted: on this shared machine the two CPUs are also busy with the tests.
      audioFramesDropped: dropped.at(-1)?.dropped ?? 0,
    };
    // The device comes back to a cloud that behaves.
    await evil.nextSession(evil.sessions.length - 1);
    await until(() => evil.sessions.at(-1)!.open && evil.sessions.at(-1), 'a new session');
  });

  it('3a. a reply far ahead of the sound card is refused (E_REPLY_OVERFLOW); memory stays bounded', async () => {
    let session: EvilSession | undefined;
    replies.push((s, end) => {
      session = s;
      ack(s, end);
      s.send({ type: 'reply.start', id: end.id, format: PCM });
      // 4 frames of 6 s each at once (24 s of audio), as fast as the socket takes them:
      // each one alone is more than the 4 s the device buffers ahead of its card.
      for (let i = 0; i < 4; i++) s.sendAudio(Buffer.alloc(192 * 1024, 1));
      s.send({ type: 'reply.end', id: end.id });
    });
    const from = daemon.logs.length;
    const rss = new RssSampler(daemon.pid);
    await probe.publish(`${base}/command/listen`, 'PRESS');
    const refusal = await until(
      () => session?.errors('E_REPLY_OVERFLOW')[0],
      'E_REPLY_OVERFLOW at the cloud',
    );
    await idle(from);
    const memory = rss.stop();
    expect(refusal.message).toMatch(/faster than it plays/);
    expect(memory.max).toBeLessThan(RSS_BOUND_MIB);
    await until(() => childrenOf(daemon.pid, 'aplay').length === 0, 'no aplay left');
    figures.replyBurst = {
      sentBytes: 4 * 512 * 1024,
      rssStartMiB: memory.first,
      rssMaxMiB: memory.max,
    };
  });

  it('3b. a reply streamed faster than real time: the device stops reading, then cuts it (E_REPLY_TOO_LONG)', async () => {
    let stream: ReturnType<typeof streamReply> | undefined;
    let session: EvilSession | undefined;
    replies.push((s, end) => {
      session = s;
      stream = streamReply(s, end, Infinity);
    });
    const from = daemon.logs.length;
    const played = speaker.played;
    const rss = new RssSampler(daemon.pid);
    await probe.publish(`${base}/command/listen`, 'PRESS');
    const refusal = await until(
      () => session?.errors('E_REPLY_TOO_LONG')[0],
      'E_REPLY_TOO_LONG',
      40_000,
    );
    stream!.stop();
    await idle(from);
    const memory = rss.stop();
    expect(refusal.message).toMatch(/longer than 8000 ms/);
    expect(memory.max).toBeLessThan(RSS_BOUND_MIB);
    // The device stopped reading: the attacker's own send buffer filled up (it could not
    // push the reply into the device), and the card got no more than the longest reply.
    expect(stream!.maxBuffered()).toBeGreaterThan(1024 * 1024);
    expect(speaker.played - played).toBeLessThanOrEqual(8 * 32_000 + 65_536);
    await until(() => childrenOf(daemon.pid, 'aplay').length === 0, 'no aplay left');
    const cut = daemon.logs
      .slice(from)
      .find((l) => l.code === 'E_REPLY_TOO_LONG' && l.part === 'audio');
    figures.replyStream = {
      receivedBeforeCutBytes: cut?.bytes,
      sentBytes: stream!.sent(),
      playedBytes: speaker.played - played,
      attackerBufferedMaxBytes: stream!.maxBuffered(),
      rssStartMiB: memory.first,
      rssMaxMiB: memory.max,
    };
  });

  it('2. forged acknowledgements never reach the ledger; the device is not in error', async () => {
    let from = daemon.logs.length;
    const forger = await reconnectInto((s) => {
      serve(s);
      for (let i = 0; i < 100; i++) {
        s.send({ type: 'utterance.ack', id: `forged-${i}`, stored: true, bytes: 1 });
      }
    });
    // Refusals are logged 20 per 10 s per kind; the rest are counted in one summary line
    // when the window ends (the device's LogBudget).
    await until(
      () => unknownAckRefusals(daemon.logs.slice(from)) >= 100,
      'the device refusing 100 acknowledgements',
      30_000,
    );
    // The forger is told, within the device's answer budget (20 per 10 s and code).
    const answeredFlood = forger.errors('E_UNKNOWN_UTTERANCE').length;
    expect(answeredFlood).toBeGreaterThan(0);
    expect(answeredFlood).toBeLessThanOrEqual(20);
    await idle(from);
    // A real utterance: the forger then acknowledges it with the wrong hash, rightly,
    // and once more (an acknowledgement is taken once).
    let real: DeviceJson | undefined;
    replies.push((s, end) => {
      real = end;
      s.send({
        type: 'utterance.ack',
        id: end.id,
        stored: true,
        bytes: end.bytes,
        sha256: 'f'.repeat(64),
      });
      shortReply(s, end);
      ack(s, end);
    });
    from = daemon.logs.length;
    await probe.publish(`${base}/command/listen`, 'PRESS');
    await until(() => real, 'the utterance at the cloud');
    await idle(from);
    await until(
      () => readFileSync(ledger, 'utf8').includes(`"type":"ack","id":"${String(real!.id)}"`),
      'the ack in the ledger',
    );

    const entries = readFileSync(ledger, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string; id: string; stored?: boolean });
    expect(entries.filter((e) => e.id.startsWith('forged-'))).toEqual([]);
    const acks = entries.filter((e) => e.type === 'ack' && e.id === real!.id);
    expect(acks).toHaveLength(1);
    expect(acks[0]!.stored).toBe(false);
    const verify = await runCli(['ledger', 'verify', '--ledger', ledger]);
    expect(verify.code, verify.stderr).toBe(0);

    const logs = daemon.logs.slice(0);
    expect(
      logs.find((l) => /ledger write failed/.test(l.msg) || l.code === 'E_LEDGER_BUSY'),
    ).toBeUndefined();
    expect(logs.filter((l) => l.msg === 'state').at(-1)?.state).toBe('idle');
    const refusedUnknown = unknownAckRefusals(logs);
    const linesUnknown = logs.filter((l) => /^ignored: no utterance/.test(l.msg)).length;
    // A flood of refusals does not flood the log: at most 20 lines per 10 s window.
    expect(linesUnknown).toBeLessThan(refusedUnknown);
    const refusedIntegrity = logs.filter(
      (l) => l.msg.startsWith('ignored:') && l.code === 'E_INTEGRITY',
    ).length;
    expect(refusedUnknown).toBe(101); // 100 forged, 1 duplicate
    expect(refusedIntegrity).toBe(1);
    // The repeated real ack comes a window later (the refusals' summary line takes one
    // window): at most one answer more.
    const answered = forger.errors('E_UNKNOWN_UTTERANCE').length;
    expect(answered - answeredFlood).toBeLessThanOrEqual(1);
    figures.forgedAcks = {
      sent: 100,
      inLedger: 0,
      refusedLogged: refusedUnknown + refusedIntegrity,
      answered,
      lastState: 'idle',
    };
  });

  it('4a. stop during a streamed reply leaves no aplay behind', async () => {
    let stream: ReturnType<typeof streamReply> | undefined;
    replies.push((s, end) => (stream = streamReply(s, end, 64_000)));
    const pid = await askAndWaitForReply();
    const from = daemon.logs.length;
    await probe.publish(`${base}/command/stop`, 'PRESS');
    await idle(from);
    stream!.stop();
    await until(() => processGone(pid), `aplay ${pid} gone after stop`);
    await until(() => childrenOf(daemon.pid, 'aplay').length === 0, 'no aplay left');
  });

  it('4c. a wake word during a streamed reply (barge-in) leaves no aplay of the reply behind', async () => {
    let stream: ReturnType<typeof streamReply> | undefined;
    replies.push((s, end) => (stream = streamReply(s, end, 64_000)));
    const pid = await askAndWaitForReply();
    const from = daemon.logs.length;
    mic.play(fixtureRaw);
    await daemon.waitForLog((l) => l.msg === 'state' && l.state === 'listening', 'barge-in', {
      from,
    });
    stream!.stop();
    await until(() => processGone(pid), `aplay ${pid} gone after the barge-in`);
    await idle(from);
    await until(() => childrenOf(daemon.pid, 'aplay').length === 0, 'no aplay left');
  });

  it('4b. mute during a streamed reply leaves no aplay behind', async () => {
    let stream: ReturnType<typeof streamReply> | undefined;
    replies.push((s, end) => (stream = streamReply(s, end, 64_000)));
    const pid = await askAndWaitForReply();
    let from = daemon.logs.length;
    await probe.publish(`${base}/mute/set`, 'ON');
    await daemon.waitForLog((l) => l.msg === 'state' && l.state === 'muted', 'muted', { from });
    stream!.stop();
    await until(() => processGone(pid), `aplay ${pid} gone after mute`);
    await until(() => childrenOf(daemon.pid, 'aplay').length === 0, 'no aplay left');
    await until(() => childrenOf(daemon.pid, 'arecord').length === 0, 'the microphone closed');
    from = daemon.logs.length;
    await probe.publish(`${base}/mute/set`, 'OFF');
    await idle(from);
  });

  it('4d. shutdown during a streamed reply exits 0 and leaves no child behind', async () => {
    let stream: ReturnType<typeof streamReply> | undefined;
    replies.push((s, end) => (stream = streamReply(s, end, 64_000)));
    const pid = await askAndWaitForReply();
    const arecords = childrenOf(daemon.pid, 'arecord');
    const t0 = Date.now();
    daemon.kill('SIGTERM');
    // systemd's TimeoutStopSec in the unit is 15 s; the daemon's own deadline is 5 s.
    const exit = await Promise.race([daemon.exited, sleep(15_000).then(() => 'timeout' as const)]);
    expect(exit, daemon.logText.slice(-3000)).toEqual({ code: 0, signal: null });
    expect(processGone(pid)).toBe(true);
    for (const a of arecords) expect(processGone(a)).toBe(true);
    stream!.stop();
    figures.shutdown = { exit, seconds: (Date.now() - t0) / 1000 };
  });
});
