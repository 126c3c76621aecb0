import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderEarcon } from '../../../src/audio/earcons.js';
import { MicSource } from '../../../src/audio/sources/mic-source.js';
import { WavSource } from '../../../src/audio/sources/wav-source.js';
import { loadConfig } from '../../../src/config/load.js';
import { Runtime } from '../../../src/device/wiring.js';
import type { HaStandin } from '../../../src/ha-standin/server.js';
import { verifyLedger } from '../../../src/privacy/verify.js';
import { RealClock } from '../../../src/shared/clock.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { readCaptureWav } from '../../../src/shared/wav.js';
import { PacedFifoMic } from '../../helpers/alsa-fifo.js';
import { startTestCloud } from '../../helpers/device-cloud.js';
import { RecordingSink, startStandin, tokenFile } from '../../helpers/ha-standin.js';
import { eventually, Mosquitto, Probe } from '../../helpers/mosquitto.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// The daemon's path with Home Assistant as the cloud: the real arecord reading
// "Alexa, what time is it" through a paced ALSA file PCM, the real wake word, the
// ledger, MQTT through a real mosquitto, and the HA stand-in over TLS, which transcribes
// what arrives with PocketSphinx and answers with flite as mp3. Only GPIO is simulated
// (no pins) and the sound card is a recorder (none here).
const tmp = tempDir();
const savedAlsa = process.env.ALSA_CONFIG_PATH;
const base = 'earshot/kitchen';
const ledger = join(tmp.dir, 'ledger.jsonl');
let certs: TestCerts;
let standin: HaStandin;
let broker: Mosquitto;
let probe: Probe;
let mic: PacedFifoMic;
let runtime: Runtime;
const sink = new RecordingSink();
const last = (topic: string): string | undefined => probe.on(topic).at(-1)?.payload;

beforeAll(async () => {
  certs = makeCerts('kitchen');
  standin = await startStandin(certs, {
    devices: [
      { id: 'ha-device-of-the-tv', identifiers: [['mqtt', 'earshot_living_room']] },
      { id: 'ha-device-kitchen', identifiers: [['mqtt', 'earshot_kitchen']] },
    ],
  });
  broker = await Mosquitto.start();
  mic = new PacedFifoMic(tmp.dir, fixture('alexa-what-time.wav'));
  process.env.ALSA_CONFIG_PATH = mic.config;
  mic.start();
  const config = loadConfig({
    overrides: [
      'device.id=kitchen',
      'cloud.protocol=home-assistant',
      `cloud.url=${standin.url}`,
      `cloud.tokenFile=${tokenFile(tmp.dir)}`,
      `cloud.ca=${certs.ca}`,
      `mqtt.url=${broker.url}`,
      `privacy.ledger=${ledger}`,
      'gpio.backend=simulated',
    ],
  });
  const clock = new RealClock();
  runtime = new Runtime({
    config,
    log: silentLogger(),
    clock,
    sink,
    source: (device) =>
      new MicSource({ device, restart: config.audio.capture.restart, clock, log: silentLogger() }),
  });
  probe = await Probe.connect(broker.url);
  await probe.subscribe([`${base}/#`, 'homeassistant/#']);
  await runtime.start();
}, 60_000);

afterAll(async () => {
  await runtime?.stop();
  mic?.stop();
  await probe?.close();
  await broker?.stop();
  await standin?.close();
  if (savedAlsa === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsa;
  certs?.cleanup();
  tmp.cleanup();
});

describe('Home Assistant as the cloud, through the real microphone path', () => {
  it('hears "what time is it", plays the spoken answer and records where it went', async () => {
    const run = await eventually(
      () => standin.runs.find((r) => r.transcript !== undefined),
      'a transcribed run',
      30_000,
    );
    // Real speech arrived: PocketSphinx heard the question, not the wake word.
    expect(run.transcript).toContain('time');
    expect(run.transcript).not.toContain('alexa');
    expect(run.message).toMatchObject({
      type: 'assist_pipeline/run',
      start_stage: 'stt',
      end_stage: 'tts',
      input: { sample_rate: 16000, wake_word_phrase: 'Alexa' },
      // The speaker's own HA device, found by its MQTT discovery identifier.
      device_id: 'ha-device-kitchen',
    });
    expect(run.message.pipeline).toBeUndefined();
    expect(run.handlerId).toBe(1);
    // The stand-in's VAD (HA's 0.7 s) or the device's ended it; the end frame came after.
    expect(run.endFrame).toBe(true);
    expect(run.bytesAfterEnd).toBe(0);
    const answer = await eventually(
      () => (sink.answers[0]?.ended ? sink.answers[0] : undefined),
      'the whole answer at the sink',
      20_000,
    );
    expect(answer.format).toEqual({ sampleRate: 22050, channels: 1, bitsPerSample: 16 });
    // "It is ten past three." is about 1.6 s: all of it was decoded and played.
    expect(answer.bytes / 2 / 22050).toBeGreaterThan(1.2);

    await eventually(async () => {
      const v = await verifyLedger(ledger);
      return v.entries.some((e) => e.type === 'utterance') ? v : undefined;
    }, 'the ledger entry');
    const v = await verifyLedger(ledger);
    expect(v.ok).toBe(true);
    const entry = v.entries.find((e) => e.type === 'utterance');
    expect(entry).toMatchObject({
      outcome: 'sent',
      preRollMs: 0,
      bytes: run.audio.length,
      destination: {
        protocol: 'home-assistant',
        host: new URL(standin.url).host,
        retentionSent: false,
      },
    });

    // MQTT says it too, retained: P7 cannot be sent to this destination.
    await eventually(() => last(`${base}/destination`), 'the destination state');
    expect(JSON.parse(last(`${base}/destination`)!)).toEqual({
      protocol: 'home-assistant',
      host: new URL(standin.url).host,
      retentionSent: false,
    });
    const notify = probe.on('homeassistant/notify/kitchen/announce/config').at(-1);
    expect(JSON.parse(notify!.payload)).toMatchObject({
      command_topic: `${base}/command/announce`,
    });
  }, 60_000);

  it('an announcement while muted plays after its earcon; the microphone stays closed', async () => {
    const source = runtime.loop.source as MicSource;
    await probe.publish(`${base}/mute/set`, 'ON');
    await eventually(() => (last(`${base}/state`) === 'muted' ? true : undefined), 'muted');
    await eventually(() => (source.pid === undefined ? true : undefined), 'arecord gone');
    const sttRuns = standin.runs.filter((r) => r.message.start_stage === 'stt').length;
    const uploads = (await verifyLedger(ledger)).entries.length;
    const answers = sink.answers.length;

    await probe.publish(`${base}/command/announce`, 'Dinner is ready');
    const run = await eventually(
      () => standin.runs.find((r) => r.message.start_stage === 'tts'),
      'the announcement run',
      20_000,
    );
    expect(run.message).toMatchObject({ end_stage: 'tts', input: { text: 'Dinner is ready' } });
    await eventually(
      () => (sink.answers.length > answers && sink.answers.at(-1)!.ended ? true : undefined),
      'played',
      20_000,
    );
    const played = sink.sounds.at(-1)!;
    expect(played.format.sampleRate).toBe(22050);
    expect(played.bytes).toBeGreaterThan(22050);
    // The sound before it is the announcement's earcon.
    expect(sink.sounds.at(-2)!.bytes).toBe(renderEarcon('announce').length * 2);
    // Still muted: no capture process, no upload, no speech run.
    expect(last(`${base}/state`)).toBe('muted');
    expect(source.pid).toBeUndefined();
    expect(standin.runs.filter((r) => r.message.start_stage === 'stt').length).toBe(sttRuns);
    expect((await verifyLedger(ledger)).entries.length).toBe(uploads);
  }, 60_000);
});

describe('announcements with the earshot protocol', () => {
  it('are refused, answered on the MQTT error topic with their code', async () => {
    const cloud = await startTestCloud(certs);
    const samples = await readCaptureWav(fixture('noise.wav'));
    const config = loadConfig({
      overrides: [
        'device.id=hall',
        `cloud.url=${cloud.url}`,
        `cloud.ca=${certs.ca}`,
        `cloud.cert=${certs.deviceCert}`,
        `cloud.key=${certs.deviceKey}`,
        `mqtt.url=${broker.url}`,
        `privacy.ledger=${join(tmp.dir, 'hall.jsonl')}`,
        'gpio.backend=simulated',
      ],
    });
    const hall = new Runtime({
      config,
      log: silentLogger(),
      clock: new RealClock(),
      sink: new RecordingSink(),
      source: new WavSource({ samples, pace: 'realtime' }),
    });
    const p = await Probe.connect(broker.url);
    try {
      await p.subscribe('earshot/hall/#');
      await hall.start();
      await p.waitFor((m) => m.topic === 'earshot/hall/state' && m.payload === 'idle', 'idle');
      await p.publish('earshot/hall/command/announce', 'Dinner is ready');
      const error = await p.waitFor((m) => m.topic === 'earshot/hall/error', 'the refusal');
      expect(JSON.parse(error.payload)).toMatchObject({
        topic: 'earshot/hall/command/announce',
        payload: 'Dinner is ready',
        code: 'E_TEXT_UNSUPPORTED',
      });
      expect(JSON.parse(p.on('earshot/hall/destination').at(-1)!.payload)).toMatchObject({
        protocol: 'earshot',
        retentionSent: true,
      });
    } finally {
      await hall.stop();
      await p.close();
      await cloud.close();
    }
  }, 60_000);
});
