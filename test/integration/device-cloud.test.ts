import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readCaptureWav } from '../../src/shared/wav.js';
import type { CloudServer } from '../../src/cloud/index.js';
import type { UtteranceRecord } from '../../src/cloud/types.js';
import { verifyLedger } from '../../src/privacy/verify.js';
import { cloudConfig, runDevice, SlowSoundCard, startTestCloud } from '../helpers/device-cloud.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// The real device (openWakeWord, state machine, uploader, ledger) on a fixture, talking
// to the real reference cloud over mutual TLS on 127.0.0.1. Only the sound card is a
// stand-in where a test needs a reply to take time.
let certs: TestCerts;
let cloud: CloudServer | undefined;
const tmp = tempDir();
let n = 0;
const ledger = (): string => join(tmp.dir, `ledger-${++n}.jsonl`);

beforeAll(() => {
  certs = makeCerts('device-under-test');
});
afterAll(() => {
  certs.cleanup();
  tmp.cleanup();
});
afterEach(async () => {
  await cloud?.close();
  cloud = undefined;
});

function collect(c: CloudServer): UtteranceRecord[] {
  const got: UtteranceRecord[] = [];
  c.events.on('utterance', (u) => got.push(u));
  return got;
}

describe('device and cloud', () => {
  it('sends exactly the fixture from (wake − pre-roll) to the end of speech, byte for byte', async () => {
    cloud = await startTestCloud(certs);
    const received = collect(cloud);
    const file = ledger();
    const run = await runDevice(fixture('alexa-what-time.wav'), cloudConfig(certs, cloud, file));
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'sent', preRollMs: 500, reason: 'vad' });
    expect(upload!.ack).toEqual({ stored: false, t: expect.any(Number) });
    expect(received).toHaveLength(1);
    const samples = await readCaptureWav(fixture('alexa-what-time.wav'));
    const from = Math.round(upload!.audioStartT * 16000);
    const to = Math.round(upload!.audioEndT * 16000);
    const expected = Buffer.from(samples.buffer, samples.byteOffset + from * 2, (to - from) * 2);
    expect(received[0]!.audio.equals(expected)).toBe(true);
    expect(received[0]!.integrityOk).toBe(true);
    expect(received[0]!.sha256).toBe(upload!.sha256);
    expect(run.summary.finalState).toBe('idle');
    expect(run.of('state').map((s) => s.state)).toEqual([
      'idle',
      'listening',
      'thinking',
      'speaking',
      'idle',
    ]);
    const verified = await verifyLedger(file);
    expect(verified.ok).toBe(true);
    expect(verified.entries.map((e) => e.type)).toEqual(['utterance', 'ack']);
  });

  it('ends the utterance when the cloud says capture.stop', async () => {
    cloud = await startTestCloud(certs, { captureStopAfterMs: 900 });
    const received = collect(cloud);
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger()),
    );
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'sent', reason: 'cloud' });
    // The pre-roll and ~0.9 s of audio, give or take the frames already in flight.
    expect(upload!.bytes).toBeLessThan(32000 * 1.8);
    expect(received).toHaveLength(1);
  });

  it('listens again without a wake word when the reply expects speech (follow-up)', async () => {
    cloud = await startTestCloud(certs, { expectSpeech: true });
    const run = await runDevice(fixture('alexa-twice.wav'), cloudConfig(certs, cloud, ledger()));
    const triggers = run.of('upload').map((u) => u.trigger);
    expect(triggers[0]).toBe('wake');
    expect(triggers[1]).toBe('followup');
    const states = run.of('state').map((s) => s.state);
    const speaking = states.indexOf('speaking');
    expect(states[speaking + 1]).toBe('listening');
    // The listening LED came on for the follow-up too (P2).
    const followup = run.of('upload')[1]!;
    const leds = run
      .of('led')
      .filter((l) => l.name === 'listening' && l.on && l.t <= followup.openT);
    expect(leds.length).toBeGreaterThanOrEqual(2);
  });

  it('a drop mid-utterance fails that utterance, replays nothing, and the next request works', async () => {
    cloud = await startTestCloud(certs, { dropAfterMs: 700 });
    const c = cloud;
    const received = collect(c);
    // Only the first utterance is dropped.
    c.events.on('disconnect', () => c.setBehaviour({ dropAfterMs: undefined }));
    const run = await runDevice(fixture('alexa-twice.wav'), cloudConfig(certs, c, ledger()));
    const uploads = run.of('upload');
    expect(uploads[0]).toMatchObject({ outcome: 'failed', reason: 'link down' });
    expect(uploads[1]).toMatchObject({ outcome: 'sent' });
    expect(received).toHaveLength(1);
    expect(received[0]!.id).toBe(uploads[1]!.id);
    expect(run.of('state').map((s) => s.state)).toContain('offline');
    expect(run.summary.finalState).toBe('idle');
  });

  it('a cloud that cannot keep up aborts the utterance (backpressure) without stalling the audio loop', async () => {
    cloud = await startTestCloud(certs, { stopReading: true });
    const sink = new SlowSoundCard();
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      cloudConfig(certs, cloud, ledger(), ['cloud.maxBufferedBytes=4096']),
      { sink },
    );
    const [upload] = run.of('upload');
    expect(upload).toMatchObject({ outcome: 'failed' });
    expect(upload!.reason).toMatch(/E_BACKPRESSURE/);
    expect(run.summary.droppedFrames).toBe(0);
    // The owner hears the error earcon.
    expect(sink.sounds.length).toBeGreaterThanOrEqual(1);
  });

  it('survives malformed, unknown and oversized messages and still completes a request', async () => {
    cloud = await startTestCloud(certs, {
      garbage: ['malformed-json', 'unknown-type', 'invalid-fields', 'stray-audio', 'oversized'],
    });
    const c = cloud;
    const errors: string[] = [];
    c.events.on('message', (_s, m) => {
      if (m.type === 'error') errors.push((m as { code: string }).code);
    });
    // The oversized frame closes the connection (maxPayload); after the reconnect the
    // cloud behaves.
    c.events.on('disconnect', () => c.setBehaviour({ garbage: [] }));
    const run = await runDevice(fixture('alexa-what-time.wav'), cloudConfig(certs, c, ledger()));
    expect(run.of('upload')[0]).toMatchObject({ outcome: 'sent' });
    expect(errors.length).toBeGreaterThanOrEqual(3);
  });

  it('a wake word during a reply stops it and listens again (barge-in)', async () => {
    cloud = await startTestCloud(certs, { reply: 'speech' });
    // A slow "speaker": the reply still plays when "Alexa" is said again.
    const sink = new SlowSoundCard(4);
    const run = await runDevice(fixture('alexa-twice.wav'), cloudConfig(certs, cloud, ledger()), {
      sink,
    });
    const states = run.of('state').map((s) => s.state);
    const speaking = states.indexOf('speaking');
    expect(speaking).toBeGreaterThan(0);
    expect(states[speaking + 1]).toBe('listening');
    expect(run.of('upload').map((u) => u.trigger)).toEqual(['wake', 'wake']);
    expect(sink.sounds.some((s) => s.aborted)).toBe(true);
  });

  it('a wake word while the cloud is unreachable plays an error and records nothing', async () => {
    cloud = await startTestCloud(certs);
    const config = cloudConfig(certs, cloud, ledger(), ['cloud.connectTimeoutMs=1000']);
    await cloud.close();
    cloud = undefined;
    const sink = new SlowSoundCard();
    const run = await runDevice(fixture('alexa-what-time.wav'), config, { sink });
    expect(run.of('wake')).toHaveLength(1);
    expect(run.of('upload').filter((u) => u.outcome === 'sent')).toEqual([]);
    expect(run.of('state').map((s) => s.state)).toContain('offline');
    expect(sink.sounds.length).toBeGreaterThanOrEqual(1);
  });

  it('tells the cloud its state, and takes the volume the cloud sets through the config schema', async () => {
    cloud = await startTestCloud(certs);
    const c = cloud;
    const states: Array<{ state: string; muted: boolean }> = [];
    c.events.on(
      'message',
      (_session: string, m: { type: string; state?: string; muted?: boolean }) => {
        if (m.type !== 'state') return;
        if (states.length === 0) {
          // "Turn it down": the cloud's settings, answered to the first state report.
          c.broadcast(JSON.stringify({ type: 'settings', settings: { volume: 30 } }));
        }
        states.push({ state: m.state!, muted: m.muted! });
      },
    );
    let volume: (() => number) | undefined;
    const run = await runDevice(fixture('alexa-what-time.wav'), cloudConfig(certs, c, ledger()), {
      onStarted: (runtime) => {
        volume = () => runtime.player.volume;
      },
    });
    expect(run.of('upload').filter((u) => u.outcome === 'sent')).toHaveLength(1);
    expect(states.map((s) => s.state)).toEqual(
      expect.arrayContaining(['idle', 'listening', 'thinking']),
    );
    expect(states.every((s) => s.muted === false)).toBe(true);
    expect(volume?.()).toBe(30);
  });
});
