import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { envNameToKey, loadConfig, withChanges, maskSecrets } from '../../src/config/load.js';
import { configProblems as problems } from '../helpers/config-problems.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir();
afterAll(() => tmp.cleanup());

function file(name: string, text: string): string {
  const path = join(tmp.dir, name);
  writeFileSync(path, text);
  return path;
}

describe('config', () => {
  it('has defaults for everything', () => {
    const c = loadConfig();
    expect(c.audio.preRollMs).toBe(500);
    expect(c.privacy.dontSaveRecordings).toBe(true);
    expect(c.wake.engine).toBe('openwakeword');
    expect(c.cloud.insecure).toBe(false);
  });

  it('layers file, environment and --set in that order', () => {
    const f = file('layers.yaml', 'audio:\n  preRollMs: 300\nutterance:\n  maxMs: 6000\n');
    const c = loadConfig({
      file: f,
      env: { EARSHOT_AUDIO__PRE_ROLL_MS: '400', UNRELATED: 'x' },
      overrides: ['utterance.maxMs=7000'],
    });
    expect(c.audio.preRollMs).toBe(400);
    expect(c.utterance.maxMs).toBe(7000);
  });

  it('reads JSON files', () => {
    const f = file('c.json', JSON.stringify({ device: { id: 'kitchen' } }));
    expect(loadConfig({ file: f }).device.id).toBe('kitchen');
  });

  it('names an unknown key and lists the allowed ones', () => {
    const f = file('unknown.yaml', 'audio:\n  preroll: 300\n');
    const [p] = problems(() => loadConfig({ file: f }));
    expect(p?.key).toBe('audio.preroll');
    expect(p?.message).toMatch(/unknown key/);
    expect(p?.message).toMatch(/preRollMs/);
  });

  it('offers the closest key and names the file an unknown key came from', () => {
    const f = file('typos.yaml', 'cloud:\n  ulr: wss://x\n  colour: red\n');
    const found = problems(() => loadConfig({ file: f }));
    expect(found.map((p) => [p.key, p.source])).toEqual([
      ['cloud.ulr', f],
      ['cloud.colour', f],
    ]);
    expect(found[0]?.message).toMatch(/^unknown key \(did you mean url\?\); allowed here: /);
    // Nothing close enough to be a typo: no guess.
    expect(found[1]?.message).toMatch(/^unknown key; allowed here: /);
  });

  it('names a wrong type and where it came from', () => {
    const [p] = problems(() => loadConfig({ env: { EARSHOT_AUDIO__PRE_ROLL_MS: 'lots' } }));
    expect(p?.key).toBe('audio.preRollMs');
    expect(p?.message).toMatch(/expected number/);
    expect(p?.source).toMatch(/EARSHOT_AUDIO__PRE_ROLL_MS/);
  });

  it('refuses a pre-roll above the hard maximum of 2 s (P3)', () => {
    const [p] = problems(() => loadConfig({ overrides: ['audio.preRollMs=2001'] }));
    expect(p?.key).toBe('audio.preRollMs');
    expect(p?.message).toMatch(/2000/);
  });

  it('has the end-of-utterance timings npm run bench:vad chose, and refuses them out of range by key', () => {
    const u = loadConfig().utterance;
    expect([u.trailingSilenceMs, u.commandWaitMs, u.wakeTailMs]).toEqual([720, 3000, 480]);
    const found = problems(() =>
      loadConfig({
        overrides: [
          'utterance.trailingSilenceMs=100',
          'utterance.commandWaitMs=40000',
          'utterance.wakeTailMs=-80',
        ],
      }),
    );
    expect(found.map((p) => p.key).sort()).toEqual([
      'utterance.commandWaitMs',
      'utterance.trailingSilenceMs',
      'utterance.wakeTailMs',
    ]);
    expect(found.find((p) => p.key === 'utterance.commandWaitMs')?.message).toMatch(/30000/);
    const [frac] = problems(() => loadConfig({ overrides: ['utterance.wakeTailMs=2.5'] }));
    expect(frac?.key).toBe('utterance.wakeTailMs');
    expect(frac?.message).toMatch(/expected int/);
  });

  it('has the speech decisions npm run bench:vad chose, and refuses them out of range by key', () => {
    const u = loadConfig().utterance;
    expect([u.speechEndThreshold, u.noiseMarginDb]).toEqual([0.6, 6]);
    const found = problems(() =>
      loadConfig({
        overrides: ['utterance.speechEndThreshold=1.2', 'utterance.noiseMarginDb=0'],
      }),
    );
    expect(found.map((p) => p.key).sort()).toEqual([
      'utterance.noiseMarginDb',
      'utterance.speechEndThreshold',
    ]);
  });

  it('has the hangover by room npm run bench:vad chose, and names the key of a bad one', () => {
    const u = loadConfig().utterance;
    expect([
      u.quietRoomSnrDb,
      u.quietRoomShorterByMs,
      u.noisyRoomSnrDb,
      u.noisyRoomLongerByMs,
    ]).toEqual([35, 80, 15, 240]);
    const range = problems(() =>
      loadConfig({
        overrides: ['utterance.quietRoomShorterByMs=-80', 'utterance.noisyRoomLongerByMs=1.5'],
      }),
    );
    expect(range.map((p) => p.key).sort()).toEqual([
      'utterance.noisyRoomLongerByMs',
      'utterance.quietRoomShorterByMs',
    ]);
    const crossed = problems(() =>
      loadConfig({ overrides: ['utterance.noisyRoomSnrDb=35', 'utterance.quietRoomSnrDb=25'] }),
    );
    expect(crossed).toHaveLength(1);
    expect(crossed[0]!.key).toBe('utterance.noisyRoomSnrDb');
    expect(crossed[0]!.message).toMatch(/<= quietRoomSnrDb/);
  });

  it('names a value outside an enum with the allowed values', () => {
    const [p] = problems(() => loadConfig({ overrides: ['wake.engine=snowboy'] }));
    expect(p?.key).toBe('wake.engine');
    expect(p?.message).toMatch(/openwakeword/);
  });

  it('reports every problem at once, not only the first', () => {
    const f = file('many.yaml', 'audio:\n  preRollMs: -1\nlog:\n  level: loud\nnope: 1\n');
    const keys = problems(() => loadConfig({ file: f })).map((p) => p.key);
    expect(keys).toEqual(expect.arrayContaining(['audio.preRollMs', 'log.level', 'nope']));
  });

  it('explains a file that is not YAML, with the line', () => {
    const f = file('broken.yaml', 'audio:\n  preRollMs: [1,\n');
    const [p] = problems(() => loadConfig({ file: f }));
    expect(p?.key).toBe('(file)');
    expect(p?.message).toMatch(/not valid YAML at line/);
  });

  it('explains a missing file and a file that is not a mapping', () => {
    expect(problems(() => loadConfig({ file: join(tmp.dir, 'absent.yaml') }))[0]?.message).toMatch(
      /ENOENT/,
    );
    expect(
      problems(() => loadConfig({ file: file('list.yaml', '- a\n- b\n') }))[0]?.message,
    ).toMatch(/mapping/);
  });

  it('rejects malformed --set items and prototype keys', () => {
    expect(problems(() => loadConfig({ overrides: ['noequals'] }))[0]?.message).toMatch(
      /key.path=value/,
    );
    expect(problems(() => loadConfig({ overrides: ['__proto__.x=1'] }))[0]?.message).toMatch(
      /not a valid key/,
    );
    expect(
      problems(() => loadConfig({ overrides: ['board=generic', 'board.x=1'] }))[0]?.message,
    ).toMatch(/not a section/);
  });

  it('ignores EARSHOT_* variables that name no config section (tools and tests use some)', () => {
    expect(loadConfig({ env: { EARSHOT_REQUIRE_ARM64: '1' } }).board).toBe('generic');
    expect(loadConfig({ env: { EARSHOT_BOARD: 'respeaker-2mic' } }).board).toBe('respeaker-2mic');
  });

  it('names an unknown key inside a list item', () => {
    const [p] = problems(() =>
      loadConfig({ overrides: ['wake.keywords=[{name: a, colour: red}]'] }),
    );
    expect(p?.key).toBe('wake.keywords.0.colour');
  });

  it('maps environment names to keys', () => {
    expect(envNameToKey('CLOUD__URL')).toBe('cloud.url');
    expect(envNameToKey('AUDIO__CAPTURE__DEVICE')).toBe('audio.capture.device');
    expect(envNameToKey('UTTERANCE__TRAILING_SILENCE_MS')).toBe('utterance.trailingSilenceMs');
  });

  it('masks secrets when printed', () => {
    const c = loadConfig({
      overrides: ['cloud.token=s3cret', 'mqtt.username=me', 'mqtt.password=pw'],
    });
    const masked = maskSecrets(c);
    expect(masked.cloud.token).toBe('***');
    expect(masked.mqtt.password).toBe('***');
    expect(JSON.stringify(masked)).not.toMatch(/s3cret|"pw"/);
    expect(c.cloud.token).toBe('s3cret');
  });
});

describe('changes from outside a file (the cloud’s settings)', () => {
  it('are validated like a file, naming the key and where the value came from', () => {
    const config = loadConfig({});
    expect(
      withChanges(config, { 'audio.playback.volume': 30 }, 'cloud settings').audio.playback.volume,
    ).toBe(30);
    expect(() => withChanges(config, { 'audio.playback.volume': 300 }, 'cloud settings')).toThrow(
      /audio\.playback\.volume: .*\(from cloud settings\)/,
    );
    // Nothing is half-applied: the config it started from is unchanged.
    expect(config.audio.playback.volume).toBe(loadConfig({}).audio.playback.volume);
  });
});
