import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HaStandin } from '../../../src/ha-standin/server.js';
import { readWavFile } from '../../../src/shared/wav.js';
import { startStandin, tokenFile } from '../../helpers/ha-standin.js';
import { fixture, tempDir } from '../../helpers/paths.js';
import { cleanEnv, runCli, runDoctor, soundCard, writeConfig } from '../../helpers/run-cli.js';
import { runSimulate, type SimLine } from '../../helpers/simulate.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

// The commands a maker runs against Home Assistant, as real processes (dist/), with the
// stand-in over TLS: `earshot ask`, `earshot doctor`, `earshot simulate`, the ledger.
const tmp = tempDir();
let certs: TestCerts;
let standin: HaStandin;
let token: string;
let card = '';

beforeAll(async () => {
  certs = makeCerts('kitchen');
  standin = await startStandin(certs, {
    devices: [{ id: 'ha-kitchen', identifiers: [['mqtt', 'earshot_kitchen']] }],
  });
  token = tokenFile(tmp.dir);
  const raw = join(tmp.dir, 'noise.raw');
  execFileSync('sox', [fixture('noise.wav'), '-t', 'raw', raw]);
  card = soundCard(tmp.dir, 'noise', { infile: raw });
}, 60_000);
afterAll(async () => {
  await standin.close();
  certs.cleanup();
  tmp.cleanup();
});

const ha = (extra: Record<string, unknown> = {}): string[] => [
  '--set',
  'cloud.protocol=home-assistant',
  '--set',
  `cloud.url=${standin.url}`,
  '--set',
  `cloud.ca=${certs.ca}`,
  '--set',
  `cloud.tokenFile=${(extra.tokenFile as string | undefined) ?? token}`,
  '--set',
  'device.id=kitchen',
  '--set',
  'gpio.backend=simulated',
  ...Object.entries(extra)
    .filter(([k]) => k !== 'tokenFile')
    .flatMap(([k, v]) => ['--set', `${k}=${String(v)}`]),
];

describe('earshot ask', () => {
  it('prints the answer and plays it', async () => {
    const out = join(tmp.dir, 'answer.wav');
    const r = await runCli(
      [
        'ask',
        'what time is it',
        '--json',
        ...ha({ 'audio.playback.sink': 'file', 'audio.playback.file': out }),
      ],
      { env: cleanEnv() },
    );
    expect(r.code, r.stderr).toBe(0);
    const answer = JSON.parse(r.stdout) as {
      text: string;
      conversationId?: string;
      played: { seconds: number; sampleRate: number };
    };
    expect(answer.text).toBe('It is ten past three.');
    expect(answer.conversationId).toMatch(/^[0-9A-Z]{26}$/);
    expect(answer.played.sampleRate).toBe(22050);
    expect(answer.played.seconds).toBeGreaterThan(1.2);
    // It went to the sink: the decoded speech, as a WAV at the answer's own rate.
    expect(existsSync(out)).toBe(true);
    const wav = await readWavFile(out);
    expect(wav.sampleRate).toBe(22050);
    expect(wav.samples.length / 22050).toBeCloseTo(answer.played.seconds, 1);
    const run = standin.runs.at(-1)!;
    expect(run.message).toMatchObject({
      start_stage: 'intent',
      end_stage: 'tts',
      input: { text: 'what time is it' },
    });
  }, 60_000);

  it('is refused with the earshot protocol, with its code', async () => {
    const r = await runCli(['ask', 'what time is it', '--set', 'cloud.url=wss://127.0.0.1:9'], {
      env: cleanEnv(),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/E_TEXT_UNSUPPORTED/);
  });

  it('says when the token is refused', async () => {
    const r = await runCli(['ask', 'hi', ...ha({ tokenFile: tokenFile(tmp.dir, 'wrong') })], {
      env: cleanEnv(),
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/E_ASSIST_AUTH|auth_invalid/);
  });
});

describe('earshot doctor with Home Assistant', { timeout: 90_000 }, () => {
  const doctor = async (extra: Record<string, unknown> = {}) => {
    const config = writeConfig(tmp.dir, `c-${Math.random().toString(36).slice(2)}.yaml`, {
      device: { id: 'kitchen', stateDir: join(tmp.dir, 'state') },
    });
    return runDoctor(['--config', config, ...ha(extra)], {
      env: cleanEnv({ ALSA_CONFIG_PATH: card }),
    });
  };

  it('checks the token, the pipeline and a TTS fetch', async () => {
    const run = await doctor();
    const c = run.check('cloud');
    expect(c.status, c.detail).toBe('pass');
    expect(c.detail).toMatch(
      /token accepted; pipeline "Home Assistant" \(preferred\); speech fetched and decoded: \d\.\d s at 22050 Hz; HA device ha-kitchen/,
    );
  });

  it('names the pipelines HA has when the configured one does not exist', async () => {
    const c = (await doctor({ 'cloud.assist.pipeline': 'nope' })).check('cloud');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(
      /pipeline nope not found; HA has: 01JSTANDINPIPELINE00000000 \(Home Assistant\)/,
    );
  });

  it('fails on a refused token with the hint to make one', async () => {
    const c = (await doctor({ tokenFile: tokenFile(tmp.dir, 'wrong') })).check('cloud');
    expect(c.status).toBe('fail');
    expect(c.detail).toMatch(/auth_invalid/);
    expect(c.hint).toMatch(/long-lived access token/);
  });
});

describe('earshot simulate --set cloud.protocol=home-assistant --cloud URL', () => {
  it('prints the transcript, the answer and that it played; the ledger verifies and names HA', async () => {
    const ledger = join(tmp.dir, 'sim-ledger.jsonl');
    const { lines, code, stderr } = await runSimulate([
      '--wav',
      fixture('alexa-what-time.wav'),
      '--cloud',
      standin.url,
      '--ca',
      certs.ca,
      '--ledger',
      ledger,
      '--set',
      'cloud.protocol=home-assistant',
      '--set',
      `cloud.tokenFile=${token}`,
      '--set',
      'audio.playback.sink=null',
    ]);
    expect(code, stderr).toBe(0);
    const of = (e: string): SimLine[] => lines.filter((l) => l.event === e);
    expect(String(of('transcript')[0]!.text)).toContain('time');
    expect(of('reply')[0]).toMatchObject({
      text: 'It is ten past three.',
      continueConversation: false,
    });
    expect(of('reply')[0]!.conversationId).toMatch(/^[0-9A-Z]{26}$/);
    expect(of('played')[0]).toMatchObject({ sampleRate: 22050, aborted: false });
    expect(Number(of('played')[0]!.seconds)).toBeGreaterThan(1.2);
    expect(of('summary')[0]).toMatchObject({
      transport: 'home-assistant',
      finalState: 'idle',
      uploads: 1,
    });

    const verify = await runCli(['ledger', 'verify', '--ledger', ledger], { env: cleanEnv() });
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
    const show = await runCli(['ledger', 'show', '--json', '--ledger', ledger], {
      env: cleanEnv(),
    });
    expect(show.stdout).toContain('"protocol":"home-assistant"');
    expect(show.stdout).toContain('"retentionSent":false');
    const table = await runCli(['ledger', 'show', '--ledger', ledger], { env: cleanEnv() });
    expect(table.stdout).toMatch(/not asked \(home-assistant\)/);
  }, 60_000);
});
