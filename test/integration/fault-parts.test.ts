import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CloudServer } from '../../src/cloud/index.js';
import {
  LEVEL,
  composeWav,
  deviceConfig,
  faultCloud,
  inOrder,
  logged,
  memoryLogger,
  runDevice,
  watchCloud,
  type CloudLog,
  type Upload,
} from '../helpers/fault-harness.js';
import { eventually, Mosquitto, retainedMessages } from '../helpers/mosquitto.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * Faults in the parts around the request path: the speaker that cannot be opened and
 * the MQTT broker that goes away. Neither may stop the device from serving: the reply
 * fails audibly (error earcon) and the device goes back to idle; MQTT reconnects and
 * tells a fresh broker everything again.
 */
let certs: TestCerts;
let cloud: CloudServer | undefined;
let broker: Mosquitto | undefined;
const tmp = tempDir('earshot-fault-parts-');

beforeAll(() => {
  certs = makeCerts('fault-parts');
});
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
  await broker?.dispose();
  broker = undefined;
});
afterAll(() => {
  certs?.cleanup();
  tmp.cleanup();
});

function expectServed(upload: Upload | undefined, seen: CloudLog): void {
  expect(upload).toMatchObject({ outcome: 'sent', ack: { stored: false } });
  expect(seen.utterances.map((u) => [u.id, u.integrityOk])).toContainEqual([upload!.id, true]);
}

describe('fault injection: parts around the request path', () => {
  it('the speaker cannot be opened: reply fails, error earcon attempted, idle, next request uploaded', async () => {
    cloud = await faultCloud(certs);
    const seen = watchCloud(cloud);
    const { log, lines } = memoryLogger();
    const wav = await composeWav(tmp.dir, 'speaker.wav', [
      'alexa-what-time.wav',
      2,
      'alexa-what-time.wav',
    ]);
    const run = await runDevice({
      wav,
      config: deviceConfig(certs, cloud, join(tmp.dir, 'speaker.jsonl'), {
        'audio.playback.sink': 'aplay',
        'audio.playback.device': 'nosuchdevice',
      }),
      log,
    });

    const failures = logged(lines, /^reply playback failed$/, LEVEL.error);
    expect(failures).toHaveLength(2);
    expect(failures[0]?.err).toMatch(/aplay failed \(exit 1\)/);
    // The error earcon is attempted (it fails on the same missing device, quietly).
    const earcons = logged(lines, /^earcon could not be played$/, LEVEL.warn);
    expect(earcons.map((l) => l.earcon)).toEqual(['error', 'error']);
    // Each request: speaking ends (failed) and the device is back at idle.
    expect(run.states).toEqual([
      'idle',
      ...['listening', 'thinking', 'speaking', 'idle'],
      ...['listening', 'thinking', 'speaking', 'idle'],
    ]);
    const [first, second] = run.uploads;
    expectServed(first, seen);
    expectServed(second, seen);
    expect(run.summary.finalState).toBe('idle');
  }, 60_000);

  it('the MQTT broker disappears and returns: requests go on, state is published again', async () => {
    broker = await Mosquitto.start();
    const b = broker;
    cloud = await faultCloud(certs);
    const seen = watchCloud(cloud);
    const { log, lines } = memoryLogger();
    const wav = await composeWav(tmp.dir, 'broker.wav', [
      'alexa-what-time.wav',
      5,
      'alexa-what-time.wav',
    ]);
    const base = `earshot/${certs.deviceId}`;
    let whileDown: string | undefined;
    let retained = new Map<string, string>();
    const run = await runDevice({
      wav,
      config: deviceConfig(certs, cloud, join(tmp.dir, 'broker.jsonl'), {
        'mqtt.url': b.url,
        'mqtt.discovery': false,
        'mqtt.backoff.initialMs': 100,
        'mqtt.backoff.maxMs': 500,
      }),
      log,
      // At real time, so the broker is away for the whole second request.
      realtime: true,
      // The runtime keeps running until this script returns.
      onStarted: async (runtime) => {
        const mqtt = runtime.mqtt!;
        expect(await mqtt.waitUntilUp(10_000)).toBe(true);
        await eventually(() => (seen.replied.length >= 1 ? true : undefined), 'reply 1', 20_000);
        await b.stop();
        await eventually(
          () => (seen.utterances.length >= 2 ? true : undefined),
          'upload 2',
          20_000,
        );
        whileDown = mqtt.status.status;
        await b.restart();
        expect(await mqtt.waitUntilUp(10_000)).toBe(true);
        // A fresh broker (no persistence) learns the retained state again.
        retained = await eventually(async () => {
          const r = await retainedMessages(b.url, `${base}/#`);
          return JSON.parse(r.get(`${base}/counters`) ?? '{}').uploads === 2 ? r : undefined;
        }, 'the counters republished');
      },
    });

    expect(whileDown).not.toBe('up');
    expect(logged(lines, /^MQTT connection lost$/, LEVEL.warn)).toHaveLength(1);
    expect(logged(lines, /^MQTT connected$/)).toHaveLength(2);
    expect(retained.get(`${base}/availability`)).toBe('online');
    expect(retained.get(`${base}/state`)).toMatch(/^(idle|thinking|speaking)$/);
    const [first, second] = run.uploads;
    expectServed(first, seen);
    expectServed(second, seen);
    expect(
      inOrder(
        run.states,
        ['listening', 'thinking', 'speaking', 'idle'].concat(['listening', 'thinking']),
      ),
    ).toBe(true);
    expect(run.summary.finalState).toBe('idle');
  }, 90_000);

  it('an aborted upload the cloud acknowledges is reported once', async () => {
    // The cloud acknowledges an abort (aborted: true); simulate printed the upload
    // when it ended and again when that acknowledgement arrived.
    cloud = await faultCloud(certs);
    const seen = watchCloud(cloud);
    const { log } = memoryLogger();
    const run = await runDevice({
      wav: fixture('alexa-what-time.wav'),
      config: deviceConfig(certs, cloud, join(tmp.dir, 'muted.jsonl')),
      log,
      // Mute while the request is being spoken: the upload is aborted.
      presses: [{ name: 'mute', seconds: 3.5 }],
    });
    expect(seen.aborted).toHaveLength(1);
    expect(run.uploads.map((u) => [u.outcome, u.reason])).toEqual([['aborted', 'muted']]);
  }, 60_000);
});
