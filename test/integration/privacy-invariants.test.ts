import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureWav, readWavFile } from '../../src/shared/wav.js';
import type { CloudServer } from '../../src/cloud/index.js';
import type { UtteranceRecord } from '../../src/cloud/types.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { loadBoardProfile } from '../../src/config/board-profile.js';
import type { BackendFactory } from '../../src/gpio/index.js';
import { cloudConfig, runDevice, startTestCloud, type DeviceRun } from '../helpers/device-cloud.js';
import { SpiRecorder } from '../helpers/spi-recorder.js';
import { eventually } from '../helpers/wait.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { insideListening, listeningWindows, runSimulate } from '../helpers/simulate.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// Each test tries to make the device break one of the privacy invariants P1–P7 and
// checks that it cannot. The device, the cloud (over mutual TLS) and the ledger are real.
let certs: TestCerts;
let cloud: CloudServer | undefined;
const tmp = tempDir();
let n = 0;
const ledger = (): string => join(tmp.dir, `ledger-${++n}.jsonl`);

beforeAll(() => {
  certs = makeCerts('privacy-device');
});
afterAll(() => {
  certs.cleanup();
  tmp.cleanup();
});
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

function record(c: CloudServer): {
  starts: Array<Record<string, unknown>>;
  done: UtteranceRecord[];
  aborted: Array<{ id: string; bytes: number }>;
  bytes: Map<string, number>;
} {
  const out = {
    starts: [] as Array<Record<string, unknown>>,
    done: [] as UtteranceRecord[],
    aborted: [] as Array<{ id: string; bytes: number }>,
    bytes: new Map<string, number>(),
  };
  c.events.on('message', (_s, m) => {
    if (m.type === 'utterance.start') out.starts.push(m as unknown as Record<string, unknown>);
  });
  c.events.on('utterance', (u) => out.done.push(u));
  c.events.on('aborted', (a) => out.aborted.push(a));
  return out;
}

describe('P1: mute closes the microphone', () => {
  it('a mute press mid-utterance cuts it at the press: nothing after it is sent, the cloud discards it', async () => {
    cloud = await startTestCloud(certs);
    const seen = record(cloud);
    // "Alexa" fires at 2.64 s; the press lands at 3.5 s while the request is spoken.
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger()),
      {
        presses: [{ name: 'mute', seconds: 3.5 }],
      },
    );
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'aborted', reason: 'muted' });
    // Sent audio ends at the press (frames are 80 ms; debounce is 30 ms).
    expect(upload!.audioEndT).toBeLessThanOrEqual(3.5 + 0.08 + 0.04);
    expect(seen.done).toEqual([]);
    expect(seen.aborted).toHaveLength(1);
    expect(seen.aborted[0]!.bytes).toBeLessThanOrEqual(upload!.bytes);
    expect(run.summary.finalState).toBe('muted');
    expect(run.of('wake')).toHaveLength(1);
  });

  it('a wake word exactly when mute is pressed sends nothing complete', async () => {
    cloud = await startTestCloud(certs);
    const seen = record(cloud);
    for (const at of [2.6, 2.7, 2.75]) {
      const run = await runDevice(
        fixture('alexa-what-time.wav'),
        cloudConfig(certs, cloud, ledger()),
        {
          presses: [{ name: 'mute', seconds: at }],
        },
      );
      expect(run.of('upload').filter((u) => u.outcome === 'sent')).toEqual([]);
      expect(run.summary.finalState).toBe('muted');
    }
    expect(seen.done).toEqual([]);
  });
});

/**
 * P2 runs on both kinds of light: GPIO LEDs (the generic board on simulated pins, the
 * windows from the part's LED events) and the ReSpeaker HAT's APA102 chain (the windows
 * decoded from the SPI frames the chain was sent; see SpiRecorder for what is faked).
 */
interface LightRig {
  name: string;
  board: string;
  make(): {
    options: { gpioBackendFactory?: BackendFactory };
    windows(run: DeviceRun): Array<[number, number]>;
  };
}
const rigs: LightRig[] = [
  {
    name: 'GPIO LEDs',
    board: 'generic',
    make: () => ({ options: {}, windows: (run) => listeningWindows(run.events) }),
  },
  {
    name: 'APA102 LEDs on SPI',
    board: 'respeaker-2mic',
    make: () => {
      const spi = new SpiRecorder();
      const profile = loadBoardProfile('respeaker-2mic');
      const pixel = profile.leds.listening!.pixels![0]!;
      return {
        options: { gpioBackendFactory: spi.factory() },
        windows: () => {
          expect(spi.frames.length).toBeGreaterThan(2);
          return spi.litWindows(pixel, profile.apa102!.count);
        },
      };
    },
  },
];

describe.each(rigs)('P2: no light, no upload ($name)', (rig) => {
  const board = `board=${rig.board}`;
  it('sends no audio after capture.stop, however late the frames', async () => {
    cloud = await startTestCloud(certs, { captureStopAfterMs: 600 });
    const c = cloud;
    const after: number[] = [];
    let ended = false;
    c.events.on('message', (_s, m) => {
      if (m.type === 'utterance.end') ended = true;
      if (m.type === 'utterance.start') ended = false;
    });
    c.events.on('audio', (_s, chunk) => {
      if (ended) after.push(chunk.length);
    });
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      cloudConfig(certs, c, ledger(), [board]),
      rig.make().options,
    );
    expect(run.of('upload').map((u) => u.reason)).toEqual(['cloud', 'cloud']);
    expect(after).toEqual([]);
  });

  it('a reconnect while thinking sends nothing', async () => {
    cloud = await startTestCloud(certs, { replyDelayMs: 2000 });
    const c = cloud;
    const sessions = new Map<string, number>();
    c.events.on('audio', (s, chunk) => sessions.set(s, (sessions.get(s) ?? 0) + chunk.length));
    let dropped = false;
    c.events.on('utterance', () => {
      if (!dropped) {
        dropped = true;
        c.dropAll();
      }
    });
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, c, ledger(), [board]),
      rig.make().options,
    );
    const states = run.of('state').map((s) => s.state);
    expect(states).toEqual(expect.arrayContaining(['thinking', 'offline']));
    // Audio went over exactly one connection: the one that was dropped.
    expect(sessions.size).toBe(1);
    expect([...sessions.values()][0]).toBe(run.of('upload')[0]!.bytes);
  });

  it('every upload lies inside a listening-LED window', async () => {
    cloud = await startTestCloud(certs, { expectSpeech: true });
    const light = rig.make();
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      cloudConfig(certs, cloud, ledger(), [board]),
      light.options,
    );
    const windows = light.windows(run);
    expect(windows.length).toBeGreaterThanOrEqual(2);
    expect(run.of('upload').length).toBeGreaterThanOrEqual(2);
    for (const u of run.of('upload')) expect(insideListening(windows, u.openT, u.t)).toBe(true);
  });
});

describe('P3: bounded pre-roll', () => {
  it('sends exactly the configured pre-roll, up to the hard maximum of 2 s', async () => {
    cloud = await startTestCloud(certs);
    const seen = record(cloud);
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger(), ['audio.preRollMs=2000']),
    );
    const [upload] = run.of('upload');
    const [wake] = run.of('wake');
    expect(upload!.preRollMs).toBe(2000);
    expect(upload!.audioStartT).toBeCloseTo(wake!.t - 2, 3);
    const samples = await readCaptureWav(fixture('alexa-what-time.wav'));
    const from = Math.round(upload!.audioStartT * 16000);
    expect(
      seen.done[0]!.audio.subarray(0, 64000).equals(Buffer.from(samples.buffer, from * 2, 64000)),
    ).toBe(true);
  });

  it('refuses a pre-roll above 2 s at config time', () => {
    expect(() => loadConfig({ overrides: ['audio.preRollMs=2500'] })).toThrow(ConfigError);
  });
});

describe('P5: no audio at rest', () => {
  function audioFiles(dir: string): string[] {
    const out: string[] = [];
    const walk = (d: string): void => {
      let entries: string[];
      try {
        entries = readdirSync(d);
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(d, e);
        let st;
        try {
          st = statSync(p);
        } catch {
          continue;
        }
        if (st.isDirectory()) walk(p);
        else if (/\.(wav|raw|pcm|flac|ogg|opus)$/i.test(e) && st.mtimeMs >= started) out.push(p);
      }
    };
    walk(dir);
    return out;
  }
  let started = 0;

  it('writes no audio file in the state or temp directories during a run (debug option off)', async () => {
    started = Date.now();
    const state = join(tmp.dir, 'state');
    const privateTmp = join(tmp.dir, 'tmp');
    mkdirSync(privateTmp);
    const { code, lines } = await runSimulate(
      [
        '--wav',
        fixture('alexa-twice.wav'),
        '--set',
        `device.stateDir=${state}`,
        '--set',
        'audio.playback.sink=null',
      ],
      { TMPDIR: privateTmp },
    );
    expect(code).toBe(0);
    expect(lines.filter((l) => l.event === 'upload')).toHaveLength(2);
    expect(audioFiles(state)).toEqual([]);
    expect(audioFiles(privateTmp)).toEqual([]);
  });

  it('writes audio only when the debug option says so, and then exactly what was sent', async () => {
    const dir = join(tmp.dir, 'debug-audio');
    cloud = await startTestCloud(certs);
    const seen = record(cloud);
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger(), [`audio.debugSaveAudioDir=${dir}`]),
    );
    const [upload] = run.of('upload');
    // The debug copy is written off the audio path, after the upload closed.
    const file = join(dir, `${upload!.id}.wav`);
    await eventually(() => (existsSync(file) && statSync(file).size > 44) || undefined, file);
    const wav = await readWavFile(file);
    expect(
      Buffer.from(wav.samples.buffer, wav.samples.byteOffset, wav.samples.byteLength).equals(
        seen.done[0]!.audio,
      ),
    ).toBe(true);
  });
});

describe('P6: TLS only', () => {
  it('refuses ws:// without the insecure flag, naming it', async () => {
    const { code, stderr } = await runSimulate([
      '--wav',
      fixture('noise.wav'),
      '--cloud',
      'ws://127.0.0.1:9',
    ]);
    expect(code).not.toBe(0);
    expect(stderr).toMatch(/insecure/);
  });
});

describe('P7: the retention choice travels with every request', () => {
  it('is in every utterance.start of a long run, and the cloud keeps nothing', async () => {
    const store = join(tmp.dir, 'store-a');
    cloud = await (
      await import('../../src/cloud/index.js')
    ).startCloudServer({
      cert: certs.serverCert,
      key: certs.serverKey,
      ca: certs.ca,
      store,
      behaviour: { reply: 'none' },
    });
    const seen = record(cloud);
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      cloudConfig(certs, cloud, ledger(), ['utterance.replyTimeoutMs=500']),
    );
    expect(run.of('upload').length).toBe(2);
    expect(seen.starts).toHaveLength(2);
    for (const s of seen.starts) expect(s.dontSaveRecordings).toBe(true);
    expect(seen.done).toHaveLength(2);
    expect(seen.done.every((u) => u.storedPath === undefined)).toBe(true);
  });

  it('an owner who allows saving has recordings stored, and says so in every request', async () => {
    const store = join(tmp.dir, 'store-b');
    cloud = await (
      await import('../../src/cloud/index.js')
    ).startCloudServer({
      cert: certs.serverCert,
      key: certs.serverKey,
      ca: certs.ca,
      store,
      behaviour: { reply: 'none' },
    });
    const seen = record(cloud);
    await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger(), [
        'privacy.dontSaveRecordings=false',
        'utterance.replyTimeoutMs=500',
      ]),
    );
    expect(seen.starts.length).toBeGreaterThan(0);
    expect(seen.starts.every((s) => s.dontSaveRecordings === false)).toBe(true);
    expect(seen.done[0]!.storedPath).toBeDefined();
  });
});
