import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wakePhrase } from '../../../src/assist/transport.js';
import { ttsUrl } from '../../../src/assist/tts-fetch.js';
import { assistEndpoint } from '../../../src/assist/endpoint.js';
import { parseFrame } from '../../../src/assist/messages.js';
import { ConfigError, loadConfig, type ConfigProblem } from '../../../src/config/load.js';
import { parseCommand } from '../../../src/mqtt/commands.js';
import { mqttTopics } from '../../../src/mqtt/topics.js';
import { EarshotError } from '../../../src/shared/errors.js';
import { readSecretFile } from '../../../src/shared/secret-file.js';
import { tempDir } from '../../helpers/paths.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function problems(overrides: string[]): ConfigProblem[] {
  try {
    loadConfig({ overrides });
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected a ConfigError');
}

const HA = ['cloud.protocol=home-assistant', 'cloud.url=wss://ha.lan:8123/api/websocket'];

describe('cloud.protocol: home-assistant in the config', () => {
  it('defaults to earshot; the three lines of a maker’s config are enough', () => {
    expect(loadConfig().cloud.protocol).toBe('earshot');
    const c = loadConfig({ overrides: [...HA, 'cloud.tokenFile=/etc/earshot/ha-token'] });
    expect(c.cloud.protocol).toBe('home-assistant');
    expect(c.cloud.assist).toMatchObject({
      preRollMs: 0,
      runTimeoutMs: 30_000,
      deviceRegistry: true,
    });
    expect(c.cloud.assist.pipeline).toBeUndefined();
  });

  it('names the key: no token, two tokens, a token file for the other protocol', () => {
    expect(problems(HA)).toEqual([
      expect.objectContaining({
        key: 'cloud.tokenFile',
        message: expect.stringMatching(/long-lived access token/),
      }),
    ]);
    expect(problems([...HA, 'cloud.tokenFile=/x', 'cloud.token=abc'])[0]).toMatchObject({
      key: 'cloud.tokenFile',
    });
    expect(problems(['cloud.url=wss://c:8443', 'cloud.tokenFile=/x'])[0]).toMatchObject({
      key: 'cloud.tokenFile',
      message: expect.stringMatching(/home-assistant/),
    });
    expect(problems(['cloud.protocol=hass'])[0]!.key).toBe('cloud.protocol');
    expect(problems([...HA, 'cloud.tokenFile=/x', 'cloud.assist.preRollMs=2500'])[0]!.key).toBe(
      'cloud.assist.preRollMs',
    );
    expect(problems([...HA, 'cloud.tokenFile=/x', 'cloud.assist.pipelin=x'])[0]!.key).toMatch(
      /^cloud\.assist/,
    );
  });

  it('refuses ws:// without insecure, as for the earshot cloud (P6)', () => {
    expect(
      problems([
        'cloud.protocol=home-assistant',
        'cloud.url=ws://ha.lan:8123/api/websocket',
        'cloud.tokenFile=/x',
      ])[0]!.key,
    ).toBe('cloud.url');
    expect(() => assistEndpoint('ws://ha.lan:8123/api/websocket', false)).toThrow(/plain ws:\/\//);
    expect(assistEndpoint('ws://ha.lan:8123/api/websocket', true)).toMatchObject({
      origin: 'http://ha.lan:8123',
      secure: false,
    });
    expect(assistEndpoint('wss://ha.lan:8123/api/websocket', false).origin).toBe(
      'https://ha.lan:8123',
    );
  });
});

describe('the token file', () => {
  const write = (name: string, text: string, mode: number): string => {
    const f = join(tmp.dir, name);
    writeFileSync(f, text);
    chmodSync(f, mode);
    return f;
  };

  it('is read without its trailing newline when only its owner may read it', async () => {
    expect(await readSecretFile('cloud.tokenFile', write('a', 'eyJ0eXAi.abc\n', 0o600))).toBe(
      'eyJ0eXAi.abc',
    );
    expect(await readSecretFile('cloud.tokenFile', write('b', 'tok', 0o400))).toBe('tok');
  });

  it.each([
    ['group-readable', 0o640, /mode 640 lets others read it/],
    ['world-readable', 0o644, /mode 644/],
  ])('is refused when %s, naming the key and the file, never the token', async (_n, mode, re) => {
    const f = write(`c${mode}`, 'secret-token-value', mode);
    const err = await readSecretFile('cloud.tokenFile', f).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(EarshotError);
    expect((err as EarshotError).code).toBe('E_SECRET_FILE');
    expect((err as Error).message).toMatch(re);
    expect((err as Error).message).toContain('cloud.tokenFile');
    expect((err as Error).message).not.toContain('secret-token-value');
  });

  it('is refused when missing, empty or not a file', async () => {
    const dir = join(tmp.dir, 'd');
    mkdirSync(dir);
    for (const f of [join(tmp.dir, 'missing'), write('e', '\n', 0o600), dir]) {
      await expect(readSecretFile('cloud.tokenFile', f)).rejects.toMatchObject({
        code: 'E_SECRET_FILE',
      });
    }
  });
});

describe('what the transport makes of HA’s words', () => {
  it('fetches answers only from HA’s own origin', () => {
    const o = 'https://ha.lan:8123';
    expect(ttsUrl(o, '/api/tts_proxy/abc.mp3').href).toBe(
      'https://ha.lan:8123/api/tts_proxy/abc.mp3',
    );
    expect(ttsUrl(o, 'https://ha.lan:8123/api/tts_proxy/abc.mp3').pathname).toBe(
      '/api/tts_proxy/abc.mp3',
    );
    for (const bad of [
      'https://evil.example/x.mp3',
      'http://ha.lan:8123/x.mp3',
      '//evil.example/x.mp3',
    ]) {
      expect(() => ttsUrl(o, bad)).toThrow(expect.objectContaining({ code: 'E_ASSIST_TTS_URL' }));
    }
  });

  it('names the wake word as HA’s satellites do', () => {
    expect(wakePhrase('alexa')).toBe('Alexa');
    expect(wakePhrase('hey_jarvis')).toBe('Hey Jarvis');
    expect(wakePhrase('hey_mycroft_v0.1')).toBe('Hey Mycroft');
  });

  it('parses single and coalesced frames; anything else is a problem, not a crash', () => {
    const frames = parseFrame(
      '[{"id":1,"type":"pong"},{"id":2,"type":"result","success":false,"error":{"code":"id_reuse","message":"m"}}]',
    );
    expect(frames.map((f) => f.ok)).toEqual([true, true]);
    expect(parseFrame('{"type":"auth_required","ha_version":"2025.6.0"}')[0]).toMatchObject({
      ok: true,
    });
    for (const bad of [
      'nope',
      '{"id":0,"type":"pong"}',
      '{"id":"3","type":"event","event":{}}',
      '{"type":"surprise"}',
    ]) {
      expect(parseFrame(bad)[0]!.ok).toBe(false);
    }
  });
});

describe('the announce command over MQTT', () => {
  const topics = mqttTopics('earshot/kitchen').command;
  it('takes a text (what HA’s notify entity publishes) or JSON', () => {
    expect(parseCommand(topics, topics.announce, Buffer.from('  Dinner is ready \n'))).toEqual({
      ok: true,
      command: { type: 'announce', text: 'Dinner is ready' },
    });
    expect(
      parseCommand(topics, topics.json, Buffer.from('{"type":"announce","text":"Hi"}')),
    ).toMatchObject({ ok: true });
  });
  it('refuses blank text, control characters and oversized payloads', () => {
    expect(parseCommand(topics, topics.announce, Buffer.from('   '))).toMatchObject({ ok: false });
    expect(parseCommand(topics, topics.announce, Buffer.from('a\u0007b'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/control/),
    });
    expect(parseCommand(topics, topics.announce, Buffer.alloc(600, 'a'))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/too large/),
    });
  });
});
