import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { renderEarcon } from '../../../src/audio/earcons.js';
import { simulate, type SimEvent } from '../../../src/cli/simulate/run.js';
import type { HaStandin, StandinBehaviour } from '../../../src/ha-standin/server.js';
import type { LedgerEntry } from '../../../src/privacy/entry.js';
import { verifyLedger } from '../../../src/privacy/verify.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { runDevice, type DeviceRun } from '../../helpers/device-cloud.js';
import { haConfig, RecordingSink, startStandin, tokenFile } from '../../helpers/ha-standin.js';
import { eventually } from '../../helpers/mosquitto.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// Every way Home Assistant can fail the speaker, each acted out by the stand-in against
// the real device pipeline (the fixture as the microphone, the real wake word, TLS, the
// ledger): its outcome, its error earcon, its ledger entry with HA's own code, and the
// device back at rest.
let certs: TestCerts;
let standin: HaStandin | undefined;
const tmp = tempDir();
let n = 0;
const ERROR_EARCON_BYTES = renderEarcon('error').length * 2;
/** The link never comes up in these: do not wait the default 10 s for it. */
const QUICK = ['cloud.connectTimeoutMs=1000'];

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

interface Case {
  run: DeviceRun;
  sink: RecordingSink;
  entries: LedgerEntry[];
  /** The last reason the link was down (before the run's own shutdown). */
  linkCause: () => string;
  standin: HaStandin;
}

async function act(
  behaviour: Partial<StandinBehaviour>,
  set: string[] = [],
  token?: string,
): Promise<Case> {
  const s = await startStandin(certs, behaviour);
  standin = s;
  const sink = new RecordingSink();
  const ledger = join(tmp.dir, `ledger-${++n}.jsonl`);
  let cause = '';
  const run = await runDevice(
    fixture('alexa-what-time.wav'),
    haConfig(certs, s, ledger, token ?? tokenFile(tmp.dir), set),
    {
      sink,
      onStarted: (r) => {
        cause = r.status.snapshot().link.cause ?? '';
        r.transport.on('status', (st) => {
          if (st.status === 'down' && st.cause !== 'stopped') cause = st.cause ?? '';
        });
      },
    },
  );
  const v = await verifyLedger(ledger);
  expect(v.ok).toBe(true);
  return { run, sink, entries: v.entries, linkCause: () => cause, standin: s };
}

const errorEarcons = (sink: RecordingSink): number =>
  sink.sounds.filter((x) => x.format.sampleRate === 16000 && x.bytes === ERROR_EARCON_BYTES).length;

/** A request that was sent (its upload recorded), then failed at HA with `code`. */
function expectSentThenFailed(c: Case, code: string): void {
  const [upload] = c.run.of('upload');
  expect(upload).toMatchObject({ outcome: 'sent' });
  expect(c.entries.map((e) => e.type)).toEqual(['utterance', 'failure']);
  expect(c.entries[1]).toMatchObject({ type: 'failure', id: upload!.id, code });
  expect(errorEarcons(c.sink)).toBe(1);
  expect(c.sink.answers).toEqual([]);
  expect(c.run.summary.finalState).toBe('idle');
}

describe('Home Assistant failures: outcome, earcon, ledger entry, back to idle', () => {
  it('auth_invalid: offline and says why; a wake word gets the error earcon, nothing is sent', async () => {
    const c = await act({}, QUICK, tokenFile(tmp.dir, 'not-the-token'));
    expect(c.run.summary.finalState).toBe('offline');
    expect(c.linkCause()).toMatch(/auth_invalid: Invalid access token or password.*E_ASSIST_AUTH/);
    expect(c.run.of('wake')).toEqual([expect.objectContaining({ accepted: false })]);
    expect(errorEarcons(c.sink)).toBe(1);
    expect(c.run.of('upload')).toEqual([]);
    // Nothing left the device: there is no upload to record (P4 records uploads).
    expect(c.entries).toEqual([]);
    expect(c.standin.runs).toEqual([]);
  });

  it('a token file others may read is refused before anything is sent', async () => {
    const c = await act({}, QUICK, tokenFile(tmp.dir, 'standin-token', 0o644));
    expect(c.run.summary.finalState).toBe('offline');
    expect(c.linkCause()).toMatch(/cloud\.tokenFile .*mode 644 lets others read it/);
    expect(c.standin.runs).toEqual([]);
  });

  it('pipeline-not-found: the upload fails while listening, with HA’s code', async () => {
    const c = await act({}, ['cloud.assist.pipeline=no_such_pipeline']);
    const [upload] = c.run.of('upload');
    expect(upload).toMatchObject({
      outcome: 'failed',
      reason: 'pipeline-not-found: Pipeline not found: id=no_such_pipeline',
    });
    expect(c.entries).toEqual([
      expect.objectContaining({ type: 'utterance', outcome: 'failed', reason: upload!.reason }),
    ]);
    expect(errorEarcons(c.sink)).toBe(1);
    expect(c.standin.runs[0]!.sent).toEqual(['result']);
    expect(c.run.summary.finalState).toBe('idle');
  });

  it('stt-no-text-recognized', async () => {
    const c = await act({ fail: 'stt-no-text-recognized' });
    expectSentThenFailed(c, 'stt-no-text-recognized');
    expect(c.run.of('transcript')).toEqual([]);
  });

  it('intent-failed', async () => {
    const c = await act({ fail: 'intent-failed' });
    expectSentThenFailed(c, 'intent-failed');
    expect(c.run.of('transcript')[0]!.text).toContain('time');
  });

  it('tts-failed', async () => {
    const c = await act({ fail: 'tts-failed' });
    expectSentThenFailed(c, 'tts-failed');
    expect(c.run.of('reply')[0]!.text).toBe('It is ten past three.');
  });

  it('the run times out: HA sends run-end, then error timeout', async () => {
    const c = await act({ fail: 'stall' }, ['cloud.assist.runTimeoutMs=4000']);
    expect(c.standin.runs[0]!.message.timeout).toBe(4);
    expect(c.standin.runs[0]!.sent.slice(-2)).toEqual(['run-end', 'error']);
    expectSentThenFailed(c, 'timeout');
  });

  it('a 404 at the TTS URL', async () => {
    const c = await act({ ttsHttp: 404 });
    expectSentThenFailed(c, 'E_ASSIST_TTS_HTTP');
    expect(c.entries[1]).toMatchObject({ message: expect.stringMatching(/HTTP 404/) });
  });

  it('a file at the TTS URL that is not audio', async () => {
    const c = await act({ ttsHttp: 'garbage' });
    expectSentThenFailed(c, 'E_ASSIST_TTS_FORMAT');
  });

  it('an answer larger than the cap is cut off, not buffered', async () => {
    const c = await act({ ttsFormat: 'wav' }, ['cloud.assist.ttsMaxBytes=16384']);
    const [upload] = c.run.of('upload');
    expect(c.entries.at(-1)).toMatchObject({
      type: 'failure',
      id: upload!.id,
      code: 'E_ASSIST_TTS_TOO_LARGE',
    });
    expect(errorEarcons(c.sink)).toBe(1);
    expect(c.run.summary.finalState).toBe('idle');
  });
});

/** Runs alexa-twice.wav at real time, so the link can come back before its second request. */
async function realtimeTwice(
  s: HaStandin,
  during: (s: HaStandin) => Promise<void>,
): Promise<{ events: SimEvent[]; entries: LedgerEntry[]; sink: RecordingSink }> {
  const sink = new RecordingSink();
  const ledger = join(tmp.dir, `ledger-${++n}.jsonl`);
  const events: SimEvent[] = [];
  const done = simulate({
    wav: fixture('alexa-twice.wav'),
    config: haConfig(certs, s, ledger, tokenFile(tmp.dir)),
    log: silentLogger(),
    realtime: true,
    sink,
    onEvent: (e) => events.push(e),
    settleMs: 8000,
  });
  await during(s);
  await done;
  const v = await verifyLedger(ledger);
  expect(v.ok).toBe(true);
  return { events, entries: v.entries, sink };
}

const of = <K extends SimEvent['event']>(events: SimEvent[], k: K) =>
  events.filter((e): e is Extract<SimEvent, { event: K }> => e.event === k);

describe('Home Assistant goes away and comes back', () => {
  it('the socket drops mid-utterance: the upload fails there; the next request is answered', async () => {
    const s = await startStandin(certs, { dropAfterAudioBytes: 16000 });
    standin = s;
    const r = await realtimeTwice(s, async (st) => {
      await eventually(() => st.runs[0], 'the first run', 20_000);
      // Only the first request is dropped.
      await eventually(() => (st.runs[0]!.audio.length >= 16000 ? true : undefined), 'dropped');
      st.setBehaviour({ dropAfterAudioBytes: undefined });
    });
    const uploads = of(r.events, 'upload');
    expect(uploads[0]).toMatchObject({
      outcome: 'failed',
      reason: expect.stringMatching(/E_LINK_DOWN|link down/),
    });
    expect(uploads[1]).toMatchObject({ outcome: 'sent' });
    expect(of(r.events, 'state').map((e) => e.state)).toContain('offline');
    expect(of(r.events, 'played')).toHaveLength(1);
    expect(r.sink.sounds.filter((x) => x.bytes === ERROR_EARCON_BYTES)).toHaveLength(1);
    expect(
      r.entries
        .filter((e) => e.type === 'utterance')
        .map((e) => (e as { outcome: string }).outcome),
    ).toEqual(['failed', 'sent']);
    expect(of(r.events, 'summary')[0]!.finalState).toBe('idle');
  }, 60_000);

  it('HA restarts while thinking: the request fails with E_LINK_DOWN; after the restart it answers', async () => {
    const s = await startStandin(certs);
    standin = s;
    const r = await realtimeTwice(s, async (st) => {
      await eventually(
        () => (st.runs[0]?.endFrame ? true : undefined),
        'the first request sent',
        20_000,
      );
      st.restart(1000);
    });
    const uploads = of(r.events, 'upload');
    expect(uploads.map((u) => u.outcome)).toEqual(['sent', 'sent']);
    const failures = r.entries.filter((e) => e.type === 'failure');
    expect(failures).toEqual([
      expect.objectContaining({ id: uploads[0]!.id, code: 'E_LINK_DOWN' }),
    ]);
    expect(of(r.events, 'state').map((e) => e.state)).toContain('offline');
    expect(r.sink.sounds.filter((x) => x.bytes === ERROR_EARCON_BYTES)).toHaveLength(1);
    // The second request, after HA came back, was transcribed and answered.
    expect(of(r.events, 'transcript').at(-1)!.text).toContain('time');
    expect(of(r.events, 'played')).toHaveLength(1);
    expect(of(r.events, 'summary')[0]!.finalState).toBe('idle');
  }, 60_000);
});
