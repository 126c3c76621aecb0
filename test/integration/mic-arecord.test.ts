import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameQueue } from '../../src/audio/frame-queue.js';
import { MicSource } from '../../src/audio/sources/mic-source.js';
import { readCaptureWav } from '../../src/shared/wav.js';
import { FRAME_SAMPLES, type Frame } from '../../src/shared/audio-format.js';
import { RealClock } from '../../src/shared/clock.js';
import { silentLogger } from '../../src/shared/logger.js';
import { alsaFileConfig } from '../helpers/alsa.js';
import { fixture, tempDir } from '../helpers/paths.js';

// The real capture path: node-record-lpcm16 spawns the real `arecord`, which reads a
// fixture through an ALSA `type file` PCM (there is no sound card on this machine).
const tmp = tempDir();
let fixtureSamples: Int16Array;
const savedAlsa = process.env.ALSA_CONFIG_PATH;

beforeAll(async () => {
  fixtureSamples = await readCaptureWav(fixture('alexa-what-time.wav'));
  const raw = join(tmp.dir, 'fixture.raw');
  execFileSync('sox', [fixture('alexa-what-time.wav'), '-t', 'raw', raw]);
  process.env.ALSA_CONFIG_PATH = alsaFileConfig(tmp.dir, { infile: raw });
});

afterAll(() => {
  if (savedAlsa === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsa;
  tmp.cleanup();
});

let source: MicSource | undefined;
afterEach(async () => {
  await source?.stop();
  source = undefined;
});

function mic(): MicSource {
  source = new MicSource({
    device: 'default',
    restart: { initialMs: 50, maxMs: 200 },
    clock: new RealClock(),
    log: silentLogger(),
    random: () => 0.5,
  });
  return source;
}

async function take(q: FrameQueue, n: number): Promise<Frame[]> {
  const out: Frame[] = [];
  while (out.length < n) {
    const f = await q.next();
    if (!f) break;
    out.push(f);
  }
  return out;
}

describe('microphone through arecord', () => {
  it('delivers the fixture sample for sample, in fixed frames', async () => {
    const q = new FrameQueue(256);
    await mic().start(q);
    // arecord reads the file PCM unpaced and repeats stale data past its end: read
    // exactly the fixture's whole frames.
    const n = Math.floor(fixtureSamples.length / FRAME_SAMPLES);
    const frames = await take(q, n);
    expect(frames.map((f) => f.index)).toEqual([...Array(n).keys()]);
    const got = new Int16Array(n * FRAME_SAMPLES);
    frames.forEach((f, i) => got.set(f.samples, i * FRAME_SAMPLES));
    expect(
      Buffer.from(got.buffer).equals(Buffer.from(fixtureSamples.buffer, 0, got.byteLength)),
    ).toBe(true);
  });

  it('stop() ends arecord and is not reported as a failure', async () => {
    const q = new FrameQueue(256);
    const m = mic();
    const statuses: string[] = [];
    m.on('status', (s) => statuses.push(s.running ? 'up' : `down:${s.cause}`));
    await m.start(q);
    await take(q, 2);
    const pid = m.pid!;
    expect(existsSync(`/proc/${pid}`)).toBe(true);
    await m.stop();
    expect(processGone(pid)).toBe(true);
    expect(m.pid).toBeUndefined();
    expect(statuses).toEqual(['up', 'down:stopped']);
    expect(m.restartCount).toBe(0);
  });

  it('a capture process that dies is detected, logged and restarted with backoff', async () => {
    const q = new FrameQueue(1024);
    const m = mic();
    const statuses: string[] = [];
    m.on('status', (s) => statuses.push(s.running ? 'up' : `down`));
    await m.start(q);
    await take(q, 2);
    const firstPid = m.pid!;
    process.kill(firstPid, 'SIGKILL');
    await waitFor(() => m.pid !== undefined && m.pid !== firstPid, 5000);
    expect(m.restartCount).toBe(1);
    expect(statuses.slice(0, 3)).toEqual(['up', 'down', 'up']);
    // The new process delivers frames again, with indexes continuing the time line.
    q.clear();
    const [next] = await take(q, 1);
    expect(next!.index).toBeGreaterThan(1);
  });

  it('reports a device that cannot be opened and keeps retrying', async () => {
    const m = new MicSource({
      device: 'no_such_device',
      restart: { initialMs: 20, maxMs: 40 },
      clock: new RealClock(),
      log: silentLogger(),
    });
    source = m;
    const causes: string[] = [];
    m.on('status', (s) => !s.running && s.cause && causes.push(s.cause));
    await m.start(new FrameQueue(4));
    await waitFor(() => causes.length >= 2, 5000);
    expect(causes[0]).toMatch(/arecord exited/);
    expect(causes[0]).toMatch(/Unknown PCM no_such_device/);
    expect(causes[0]).toMatch(/audio open error/);
  });
});

function processGone(pid: number): boolean {
  if (!existsSync(`/proc/${pid}`)) return true;
  // A zombie still has a /proc entry until reaped; it is not running.
  return /State:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'));
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
