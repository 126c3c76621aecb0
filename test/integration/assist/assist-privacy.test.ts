import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadBoardProfile } from '../../../src/config/board-profile.js';
import type { BackendFactory } from '../../../src/gpio/index.js';
import type { HaStandin } from '../../../src/ha-standin/server.js';
import { HA_SEGMENTER } from '../../../src/ha-standin/vad.js';
import { verifyLedger } from '../../../src/privacy/verify.js';
import { runDevice, type DeviceRun } from '../../helpers/device-cloud.js';
import { haConfig, startStandin, tokenFile } from '../../helpers/ha-standin.js';
import { eventually } from '../../helpers/mosquitto.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { insideListening, listeningWindows } from '../../helpers/simulate.js';
import { SpiRecorder } from '../../helpers/spi-recorder.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// The privacy invariant tests of privacy-invariants.test.ts, repeated with Home
// Assistant as the cloud: each tries to make the device send audio it must not, or
// send it unrecorded, and checks at the stand-in (what HA received) that it cannot.
let certs: TestCerts;
let standin: HaStandin | undefined;
const tmp = tempDir();
let n = 0;
const ledger = (): string => join(tmp.dir, `ledger-${++n}.jsonl`);
const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

beforeAll(() => {
  certs = makeCerts('privacy-device');
});
afterAll(() => {
  certs.cleanup();
  tmp.cleanup();
});
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

describe('P1 with Home Assistant: mute closes the microphone', () => {
  it('a mute press mid-utterance cuts it there: HA gets nothing after it and the run is cancelled', async () => {
    const s = (standin = await startStandin(certs, { vad: null }));
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      haConfig(certs, s, ledger(), tokenFile(tmp.dir)),
      { presses: [{ name: 'mute', seconds: 3.5 }] },
    );
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'aborted', reason: 'muted' });
    expect(upload!.audioEndT).toBeLessThanOrEqual(3.5 + 0.08 + 0.04);
    const [r] = s.runs;
    await eventually(() => (r!.sent.includes('run-end') ? true : undefined), 'the run cancelled');
    // No end frame: the audio was never committed; HA heard no more than was recorded.
    expect(r!.endFrame).toBe(false);
    expect(r!.audio.length).toBeLessThanOrEqual(upload!.bytes);
    expect(r!.transcript).toBeUndefined();
    expect(run.summary.finalState).toBe('muted');
  });
});

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
        windows: () => spi.litWindows(pixel, profile.apa102!.count),
      };
    },
  },
];

describe.each(rigs)('P2 with Home Assistant: no light, no upload ($name)', (rig) => {
  const board = `board=${rig.board}`;

  it('sends no audio after HA’s stt-vad-end, however late the frames', async () => {
    const s = (standin = await startStandin(certs, {
      vad: { ...HA_SEGMENTER, silenceSeconds: 0.25 },
    }));
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      haConfig(certs, s, ledger(), tokenFile(tmp.dir), [board]),
      rig.make().options,
    );
    expect(run.of('upload').map((u) => u.reason)).toEqual(['cloud', 'cloud']);
    expect(s.runs).toHaveLength(2);
    for (const r of s.runs) expect(r.bytesAfterEnd).toBe(0);
  });

  it('HA restarting while thinking: nothing more is sent, on any connection', async () => {
    const s = (standin = await startStandin(certs));
    const done = runDevice(
      fixture('alexa-what-time.wav'),
      haConfig(certs, s, ledger(), tokenFile(tmp.dir), [board]),
      rig.make().options,
    );
    await eventually(() => (s.runs[0]?.endFrame ? true : undefined), 'the request sent', 20_000);
    s.restart(300);
    const run = await done;
    expect(run.of('state').map((x) => x.state)).toEqual(
      expect.arrayContaining(['thinking', 'offline']),
    );
    // Audio went over exactly one connection, in one run: the one that was dropped.
    expect(s.runs.filter((r) => r.audio.length > 0)).toHaveLength(1);
    expect(s.runs[0]!.audio.length).toBe(run.of('upload')[0]!.bytes);
  });

  it('every upload lies inside a listening-LED window, follow-ups too', async () => {
    const s = (standin = await startStandin(certs, { continueConversation: () => true }));
    const light = rig.make();
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      haConfig(certs, s, ledger(), tokenFile(tmp.dir), [board]),
      light.options,
    );
    const windows = light.windows(run);
    const uploads = run.of('upload');
    expect(uploads.length).toBeGreaterThanOrEqual(2);
    expect(uploads.map((u) => u.trigger)).toContain('followup');
    expect(windows.length).toBeGreaterThanOrEqual(uploads.length);
    for (const u of uploads) expect(insideListening(windows, u.openT, u.t)).toBe(true);
  });
});

describe('P4 with Home Assistant: a ledger of every upload', () => {
  it('each utterance HA received is in the ledger, byte for byte, written before its end frame', async () => {
    const s = (standin = await startStandin(certs, { continueConversation: () => true }));
    const file = ledger();
    const run = await runDevice(
      fixture('alexa-twice.wav'),
      haConfig(certs, s, file, tokenFile(tmp.dir)),
    );
    const v = await verifyLedger(file);
    expect(v.ok).toBe(true);
    const entries = v.entries.filter((e) => e.type === 'utterance');
    const received = s.runs.filter((r) => r.audio.length > 0);
    expect(received.length).toBeGreaterThanOrEqual(2);
    expect(entries).toHaveLength(run.of('upload').length);
    for (const r of received) {
      const entry = entries.find((e) => e.sha256 === sha(r.audio));
      expect(entry, `run ${String(r.message.id)} is recorded`).toBeDefined();
      expect(entry).toMatchObject({
        bytes: r.audio.length,
        destination: { protocol: 'home-assistant', retentionSent: false },
      });
      if (r.endFrameWall !== undefined)
        expect(Date.parse(entry!.time)).toBeLessThanOrEqual(r.endFrameWall);
    }
  });
});
