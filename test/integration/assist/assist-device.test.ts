import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { HaStandin, StandinBehaviour } from '../../../src/ha-standin/server.js';
import { HA_SEGMENTER } from '../../../src/ha-standin/vad.js';
import type { LedgerEntry } from '../../../src/privacy/entry.js';
import { verifyLedger } from '../../../src/privacy/verify.js';
import { runDevice, type DeviceRun } from '../../helpers/device-cloud.js';
import {
  haConfig,
  PacedSink,
  RecordingSink,
  startStandin,
  tokenFile,
} from '../../helpers/ha-standin.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// The device against the Home Assistant stand-in on the fixtures (the real wake word,
// Silero VAD, TLS, the ledger): what it sends, how an utterance ends (HA's VAD or the
// device's, whichever is first), follow-ups, the answer's formats, the device registry.
let certs: TestCerts;
let standin: HaStandin | undefined;
const tmp = tempDir();
let n = 0;

beforeAll(() => {
  certs = makeCerts('kitchen');
});
afterAll(() => {
  certs.cleanup();
  tmp.cleanup();
});
afterEach(async () => {
  await standin?.close();
  standin = undefined;
});

async function act(
  behaviour: Partial<StandinBehaviour>,
  set: string[] = [],
  wav = 'alexa-what-time.wav',
): Promise<{ run: DeviceRun; sink: RecordingSink; entries: LedgerEntry[]; standin: HaStandin }> {
  const s = await startStandin(certs, behaviour);
  standin = s;
  const sink = new RecordingSink();
  const ledger = join(tmp.dir, `ledger-${++n}.jsonl`);
  const run = await runDevice(fixture(wav), haConfig(certs, s, ledger, tokenFile(tmp.dir), set), {
    sink,
  });
  const v = await verifyLedger(ledger);
  expect(v.ok).toBe(true);
  return { run, sink, entries: v.entries, standin: s };
}

const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

describe('what goes to Home Assistant', () => {
  it('the audio after the wake word, exactly what the ledger records (P3, P4)', async () => {
    const c = await act({});
    const [upload] = c.run.of('upload');
    const [wake] = c.run.of('wake');
    const [r] = c.standin.runs;
    // Default for HA: no pre-roll; the audio starts after the frame the wake word fired on.
    expect(upload).toMatchObject({ outcome: 'sent', preRollMs: 0, trigger: 'wake' });
    expect(upload!.audioStartT).toBeCloseTo(wake!.t, 2);
    expect(r!.audio.length).toBe(upload!.bytes);
    expect(sha(r!.audio)).toBe(upload!.sha256);
    expect(c.entries[0]).toMatchObject({ bytes: r!.audio.length, sha256: sha(r!.audio) });
    expect(c.run.of('transcript')[0]!.text).toBe('what time is it');
    expect(c.run.of('reply')[0]).toMatchObject({
      text: 'It is ten past three.',
      continueConversation: false,
    });
    expect(c.run.of('played')[0]).toMatchObject({ sampleRate: 22050, aborted: false });
  });

  it('a pre-roll the owner allows for HA is bounded by audio.preRollMs too', async () => {
    const c = await act({}, ['cloud.assist.preRollMs=2000', 'audio.preRollMs=300']);
    const [upload] = c.run.of('upload');
    const [r] = c.standin.runs;
    expect(upload!.preRollMs).toBe(300);
    expect(r!.audio.length).toBe(upload!.bytes);
    expect(sha(r!.audio)).toBe(upload!.sha256);
  });

  it('held audio: HA answers late, nothing is lost or reordered', async () => {
    const c = await act({ resultDelayMs: 400 });
    const [upload] = c.run.of('upload');
    expect(upload!.outcome).toBe('sent');
    expect(sha(c.standin.runs[0]!.audio)).toBe(upload!.sha256);
    expect(c.run.of('transcript')[0]!.text).toContain('time');
  });

  it('more than the hold bound before run-start fails the request with its code', async () => {
    const c = await act({ resultDelayMs: 3000 }, ['cloud.assist.holdMs=500']);
    const [upload] = c.run.of('upload');
    expect(upload).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/^E_ASSIST_HOLD_OVERFLOW/),
    });
    expect(c.run.summary.finalState).toBe('idle');
  });
});

describe('the end of the utterance: HA’s VAD or the device’s, whichever comes first', () => {
  it('HA’s stt-vad-end first: captured audio stops there (capture stop), the end frame follows', async () => {
    // HA's "aggressive" 0.25 s of silence against the device's 0.7 s.
    const c = await act({ vad: { ...HA_SEGMENTER, silenceSeconds: 0.25 } });
    const [upload] = c.run.of('upload');
    const [r] = c.standin.runs;
    expect(upload!.reason).toBe('cloud');
    expect(r!.sent).toContain('stt-vad-end');
    expect(r!.endFrame).toBe(true);
    expect(r!.bytesAfterEnd).toBe(0);
  });

  it('the device’s end of speech first: it sends the end frame, HA’s VAD never ends it', async () => {
    const c = await act({ vad: { ...HA_SEGMENTER, silenceSeconds: 3 } });
    const [upload] = c.run.of('upload');
    const [r] = c.standin.runs;
    expect(upload!.reason).toBe('vad');
    expect(r!.sent).not.toContain('stt-vad-end');
    expect(r!.endFrame).toBe(true);
    expect(c.run.of('transcript')[0]!.text).toContain('time');
  });

  it('both at once: HA’s stt-vad-end arrives after the device’s end frame, and changes nothing', async () => {
    const c = await act({
      vad: { ...HA_SEGMENTER, silenceSeconds: 3 },
      vadEndCrossesEndFrame: true,
    });
    const uploads = c.run.of('upload');
    const [r] = c.standin.runs;
    expect(r!.sent).toContain('stt-vad-end');
    expect(r!.sent.indexOf('stt-vad-end')).toBeLessThan(r!.sent.indexOf('stt-end'));
    // One upload, closed by the device; the late capture stop neither closes it again
    // nor fails the request: the answer plays.
    expect(uploads).toHaveLength(1);
    expect(uploads[0]).toMatchObject({ reason: 'vad', outcome: 'sent' });
    expect(r!.endFrame).toBe(true);
    expect(r!.bytesAfterEnd).toBe(0);
    expect(c.run.of('transcript')[0]!.text).toContain('time');
    expect(c.run.of('played')[0]).toMatchObject({ aborted: false });
    expect(c.run.summary.finalState).toBe('idle');
  });
});

describe('answers', () => {
  it.each(['wav', 'flac'] as const)('a %s answer decodes and plays', async (ttsFormat) => {
    const c = await act({ ttsFormat });
    const [played] = c.run.of('played');
    expect(played).toMatchObject({ sampleRate: 22050, aborted: false });
    expect(played!.seconds).toBeGreaterThan(1.2);
    expect(c.sink.answers[0]!.bytes).toBe(played!.bytes);
  });

  it('a long answer on a sound card that is behind: reading pauses, nothing is refused', async () => {
    const speech =
      'The weather today is mild, with a light breeze from the west, and rain in the evening.';
    const s = (standin = await startStandin(certs, {
      answer: () => ({ speech, responseType: 'query_answer' }),
    }));
    const sink = new PacedSink();
    // A 2 s reply buffer: the answer (about 5 s) decodes far faster than it plays, so
    // without the pause it would overflow (E_REPLY_OVERFLOW) within the first second.
    const run = await runDevice(
      fixture('alexa-what-time.wav'),
      haConfig(certs, s, join(tmp.dir, `ledger-${++n}.jsonl`), tokenFile(tmp.dir), [
        'audio.playback.replyBufferSeconds=2',
      ]),
      { sink },
    );
    const [played] = run.of('played');
    expect(played).toMatchObject({ aborted: false, sampleRate: 22050 });
    expect(played!.seconds).toBeGreaterThan(4);
    const answer = sink.sounds.find((x) => x.format.sampleRate === 22050)!;
    expect(answer).toMatchObject({ aborted: false, ended: true, bytes: played!.bytes });
    expect(run.summary.finalState).toBe('idle');
  }, 30_000);

  it('fetched early when HA streams the answer (tts_start_streaming)', async () => {
    const c = await act({ streamResponse: true });
    expect(c.standin.runs[0]!.sent).toContain('intent-progress');
    expect(c.run.of('played')[0]!.seconds).toBeGreaterThan(1.2);
  });

  it('a follow-up carries the conversation on, without a wake word', async () => {
    // The agent asks back after "turn on the kitchen light"; the device listens again.
    const c = await act({ continueConversation: (t) => /kitchen/.test(t) }, [], 'alexa-twice.wav');
    const runs = c.standin.runs.filter((r) => r.message.start_stage === 'stt');
    expect(runs.length).toBeGreaterThanOrEqual(2);
    const [first, second] = runs;
    expect(first!.transcript).toContain('kitchen');
    expect(c.run.of('reply')[0]).toMatchObject({
      continueConversation: true,
      conversationId: first!.conversationId,
    });
    expect(second!.message.conversation_id).toBe(first!.conversationId);
    expect(second!.message.input).toEqual({ sample_rate: 16000 });
    // Handler ids count up per connection, as HA's do.
    expect(second!.handlerId).toBe(2);
    expect(c.run.of('upload')[1]).toMatchObject({ trigger: 'followup' });
  });
});

describe('the device registry', () => {
  const devices = [
    { id: 'ha-kitchen', identifiers: [['mqtt', 'earshot_kitchen']] as Array<[string, string]> },
  ];

  it('finds the speaker’s HA device by its discovery identifier and passes its id', async () => {
    const c = await act({ devices });
    expect(c.standin.runs[0]!.message.device_id).toBe('ha-kitchen');
  });

  it('a token that may not read it: runs go without a device id, and work', async () => {
    const c = await act({ devices, registry: 'unauthorized' });
    expect(c.standin.runs[0]!.message.device_id).toBeUndefined();
    expect(c.run.of('played')).toHaveLength(1);
  });

  it('a configured pipeline is named in every run', async () => {
    const c = await act({}, ['cloud.assist.pipeline=01JSTANDINPIPELINE00000000']);
    expect(c.standin.runs[0]!.message.pipeline).toBe('01JSTANDINPIPELINE00000000');
    expect(c.run.of('played')).toHaveLength(1);
  });
});
