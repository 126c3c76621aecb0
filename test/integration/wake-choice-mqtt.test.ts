import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Runtime } from '../../src/device/wiring.js';
import { PacedFifoMic } from '../helpers/alsa-fifo.js';
import { micRuntime, stopMicRig } from '../helpers/mic-runtime.js';
import { eventually, Mosquitto, Probe, type Received } from '../helpers/mosquitto.js';
import { fixture, tempDir } from '../helpers/paths.js';

// The wake word chosen from Home Assistant, on the whole daemon: real arecord on a paced
// ALSA file PCM, the real openWakeWord models, a real mosquitto. The microphone hears a
// loop of a real speaker saying "Alexa" twice, then "Hey Jarvis" (flite's awb voice,
// generated here: no recording of it ships). Which of them wakes the speaker must follow
// the select, without a restart, and the select must show what is in use.
const tmp = tempDir();
const savedAlsa = process.env.ALSA_CONFIG_PATH;
let broker: Mosquitto;
let probe: Probe;
let mic: PacedFifoMic;
let runtime: Runtime;
const base = 'earshot/den';

/** alexa-twice.wav (12 s, "Alexa" at about 2 s and 7.4 s), then "Hey Jarvis" at about 13 s. */
function loopWithBothWords(): string {
  const jarvis = join(tmp.dir, 'jarvis.wav');
  const loop = join(tmp.dir, 'loop.wav');
  execFileSync('flite', ['-voice', 'awb', '-t', 'hey jarvis', '-o', join(tmp.dir, 'tts.wav')]);
  execFileSync('sox', [join(tmp.dir, 'tts.wav'), '-r', '16000', jarvis, 'pad', '1', '2.5']);
  execFileSync('sox', [fixture('alexa-twice.wav'), jarvis, loop]);
  return loop;
}

const wakes = (from = 0): Array<{ keyword: string }> =>
  probe.messages
    .slice(from)
    .filter((m) => m.topic === `${base}/wake/last` && !m.retain)
    .map((m) => JSON.parse(m.payload) as { keyword: string });

const indexOf = (m: Received): number => probe.messages.indexOf(m);

beforeAll(async () => {
  broker = await Mosquitto.start();
  mic = new PacedFifoMic(tmp.dir, loopWithBothWords());
  process.env.ALSA_CONFIG_PATH = mic.config;
  mic.start();
  runtime = micRuntime([
    'device.id=den',
    `mqtt.url=${broker.url}`,
    `privacy.ledger=${join(tmp.dir, 'ledger.jsonl')}`,
    'utterance.noSpeechTimeoutMs=1000',
  ]);
  probe = await Probe.connect(broker.url);
  await probe.subscribe([`${base}/#`, 'homeassistant/select/den/+/config']);
  await runtime.start();
}, 60_000);

afterAll(async () => {
  await stopMicRig({ runtime, mic, probe, broker }, savedAlsa);
  tmp.cleanup();
});

describe('the wake word chosen over MQTT', () => {
  it('offers the choices as a select and reports the one in use', async () => {
    const config = await probe.waitFor(
      (m) => m.topic === 'homeassistant/select/den/wake_word/config',
      'the select discovery',
    );
    expect(JSON.parse(config.payload)).toMatchObject({
      options: ['alexa', 'hey_jarvis', 'hey_mycroft', 'hey_rhasspy'],
      state_topic: `${base}/wake_word`,
      command_topic: `${base}/wake_word/set`,
    });
    await probe.waitFor((m) => m.topic === `${base}/wake_word` && m.payload === 'alexa', 'alexa');
  });

  it('switches which word wakes the speaker, without a restart', async () => {
    await eventually(
      () => (wakes().some((w) => w.keyword === 'alexa') ? true : undefined),
      'a wake on "Alexa"',
      30_000,
    );
    await probe.publish(`${base}/wake_word/set`, 'hey_jarvis');
    const switched = await probe.waitFor(
      (m) => m.topic === `${base}/wake_word` && m.payload === 'hey_jarvis',
      'the switch reported',
      20_000,
    );
    const after = indexOf(switched);
    // Two "Hey Jarvis" wakes: a whole loop, with both "Alexa"s in it, heard after the switch.
    await eventually(
      () => (wakes(after).filter((w) => w.keyword === 'hey_jarvis').length >= 2 ? true : undefined),
      'two wakes on "Hey Jarvis"',
      60_000,
    );
    expect(wakes(after).map((w) => w.keyword)).not.toContain('alexa');
    expect(runtime.wake.keywords).toEqual(['hey_jarvis']);
  }, 120_000);

  it('refuses a word that is not among the choices and keeps listening for the current one', async () => {
    await probe.publish(`${base}/wake_word/set`, 'ok_computer');
    const error = await probe.waitFor(
      (m) => m.topic === `${base}/error` && m.payload.includes('ok_computer'),
      'the refusal',
    );
    expect(JSON.parse(error.payload)).toMatchObject({
      code: 'E_WAKE_CHOICE',
      topic: `${base}/wake_word/set`,
    });
    expect(probe.on(`${base}/wake_word`).at(-1)?.payload).toBe('hey_jarvis');
    expect(runtime.wake.keywords).toEqual(['hey_jarvis']);
  });
});
