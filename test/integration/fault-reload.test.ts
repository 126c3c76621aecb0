import { execFileSync } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { DEFAULT_CONFIG_FILE } from '../../src/cli/config-options.js';
import type { CloudServer } from '../../src/cloud/index.js';
import { faultCloud, watchCloud, type CloudLog } from '../helpers/fault-harness.js';
import { fixture, tempDir } from '../helpers/paths.js';
import { Daemon, FifoMic, until } from '../helpers/run-daemon.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * The config file turns bad under a running daemon, and the owner sends SIGHUP: a file
 * that is not YAML, an unknown key, a value out of range, a file that is gone. Each
 * reload must be refused with one clear line that names the key (or the file), the
 * running configuration must stay, and the daemon must go on serving: the next
 * "Alexa" after all of them is uploaded and answered, a good file is still applied,
 * and SIGTERM still ends it with exit code 0.
 *
 * `earshot run` is the real process with the real arecord, reading a FIFO the test
 * speaks into at real time (an ALSA file PCM; there is no sound card here).
 */
const tmp = tempDir('earshot-fault-reload-');
const configFile = join(tmp.dir, 'config.yaml');
let certs: TestCerts;
let cloud: CloudServer;
let seen: CloudLog;
let mic: FifoMic;
let daemon: Daemon | undefined;

function goodConfig(volume = 80): string {
  return stringify({
    device: { id: certs.deviceId, stateDir: join(tmp.dir, 'state') },
    log: { level: 'info' },
    audio: { playback: { sink: 'null', volume } },
    gpio: { backend: 'simulated' },
    privacy: { ledger: join(tmp.dir, 'ledger.jsonl') },
    cloud: {
      url: cloud.url,
      ca: certs.ca,
      cert: certs.deviceCert,
      key: certs.deviceKey,
      backoff: { initialMs: 100, maxMs: 1000 },
    },
  });
}

beforeAll(async () => {
  certs = makeCerts('fault-reload');
  cloud = await faultCloud(certs);
  seen = watchCloud(cloud);
  // The room: near-silence between requests.
  mic = new FifoMic(tmp.dir, Buffer.alloc(32_000));
  mic.start();
});
afterAll(async () => {
  await daemon?.dispose();
  mic?.close();
  await cloud?.close();
  certs?.cleanup();
  tmp.cleanup();
});

/** Each bad file, and what its refusal must name. */
const BAD: Array<{ name: string; write: () => void; names: RegExp }> = [
  {
    name: 'not YAML',
    write: () => writeFileSync(configFile, 'audio: [preRollMs: 300\n  oops: {'),
    names: /config\.yaml is not valid YAML/,
  },
  {
    name: 'an unknown key',
    write: () => writeFileSync(configFile, `${goodConfig()}wakeword: alexa\n`),
    names: /wakeword: unknown key/,
  },
  {
    name: 'a value out of range',
    write: () =>
      writeFileSync(
        configFile,
        goodConfig().replace('volume: 80', 'volume: 80\n  preRollMs: 5000'),
      ),
    names: /audio\.preRollMs/,
  },
  {
    name: 'a file that is gone',
    write: () => rmSync(configFile),
    names: /cannot read .*config\.yaml: ENOENT/,
  },
];

describe('fault injection: the config becomes invalid, then SIGHUP', () => {
  it('refuses every bad reload with a line naming the key, keeps serving, exits 0 on SIGTERM', async () => {
    writeFileSync(configFile, goodConfig());
    const d = new Daemon(['--config', configFile], { ALSA_CONFIG_PATH: mic.alsaConfig });
    daemon = d;
    await d.waitForLog((l) => l.msg === 'cloud link up', 'the cloud link', { timeoutMs: 30_000 });

    for (const bad of BAD) {
      bad.write();
      const from = d.logs.length;
      d.kill('SIGHUP');
      const refused = await d.waitForLog((l) => l.msg.startsWith('reload refused'), bad.name, {
        from,
      });
      expect(refused.level, bad.name).toBe(50);
      expect(refused.err, bad.name).toMatch(bad.names);
      expect(d.logs.slice(from).filter((l) => l.msg.startsWith('config reloaded'))).toEqual([]);
      expect(d.running, bad.name).toBe(true);
    }

    // Still serving: the next request is heard, uploaded and answered.
    mic.play(execFileSync('sox', [fixture('alexa-what-time.wav'), '-t', 'raw', '-']));
    const upload = await until(() => seen.utterances[0], 'the next request uploaded', 30_000);
    expect(upload.integrityOk).toBe(true);
    await until(() => seen.replied.includes(upload.id), 'its reply', 30_000);
    const closed = await d.waitForLog(
      (l) => l.msg === 'utterance closed' && l.id === upload.id,
      'the ledger-backed close',
    );
    expect(closed.outcome).toBe('sent');

    // A good file is still applied after the refusals.
    writeFileSync(configFile, goodConfig(40));
    const from = d.logs.length;
    d.kill('SIGHUP');
    const applied = await d.waitForLog((l) => l.msg.startsWith('config reloaded'), 'a reload', {
      from,
    });
    expect(applied.needsRestart).toEqual([]);

    d.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
    expect(d.nonJson).toEqual([]);
  }, 90_000);
});

describe('reload without a config file', () => {
  it('a daemon started from the environment alone reloads from the environment alone', async () => {
    // Start-up and reload decide the file the same way: without --config and without
    // /etc/earshot/config.yaml there is none, and a reload must not go looking for it.
    if (existsSync(DEFAULT_CONFIG_FILE)) {
      throw new Error(`${DEFAULT_CONFIG_FILE} exists here: this test needs a machine without it`);
    }
    const env: Record<string, string> = {
      ALSA_CONFIG_PATH: mic.alsaConfig,
      EARSHOT_DEVICE__ID: certs.deviceId,
      EARSHOT_DEVICE__STATE_DIR: join(tmp.dir, 'env-state'),
      EARSHOT_LOG__LEVEL: 'info',
      EARSHOT_AUDIO__PLAYBACK__SINK: 'null',
      EARSHOT_GPIO__BACKEND: 'simulated',
      EARSHOT_PRIVACY__LEDGER: join(tmp.dir, 'env-ledger.jsonl'),
    };
    const d = new Daemon([], env);
    daemon = d;
    await d.waitForLog((l) => l.msg === 'earshot is running', 'the daemon', { timeoutMs: 30_000 });
    const from = d.logs.length;
    d.kill('SIGHUP');
    const applied = await d.waitForLog((l) => l.msg.startsWith('config reloaded'), 'a reload', {
      from,
    });
    expect(applied.needsRestart).toEqual([]);
    expect(d.logs.slice(from).filter((l) => l.msg.startsWith('reload refused'))).toEqual([]);
    d.kill('SIGTERM');
    expect(await d.exited).toEqual({ code: 0, signal: null });
  }, 60_000);
});
