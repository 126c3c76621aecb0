import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify as toYaml } from 'yaml';
import {
  ConfigError,
  loadConfig,
  validateConfig,
  type LoadOptions,
} from '../../src/config/load.js';
import type { Config } from '../../src/config/schema.js';
import { tempDir } from '../helpers/paths.js';

/**
 * The config loader meets hand-written files, environment variables and `--set`
 * flags: whatever they hold, it either returns a valid configuration or throws a
 * ConfigError whose problems name the key at fault (the daemon prints exactly that
 * and exits). A configuration it accepted must load again, unchanged, from its own
 * YAML or JSON dump.
 */
const tmp = tempDir('earshot-fuzz-config-');
afterAll(() => tmp.cleanup());
const RUNS = { numRuns: 200 };

type Tree = Record<string, unknown>;

function leaves(node: unknown, prefix = ''): string[] {
  if (node && typeof node === 'object' && !Array.isArray(node)) {
    return Object.entries(node).flatMap(([k, v]) => leaves(v, prefix ? `${prefix}.${k}` : k));
  }
  return [prefix];
}

/** Every key of the schema that has a default, plus the optional ones. */
const KNOWN_KEYS = [
  ...leaves(loadConfig()),
  'cloud.url',
  'cloud.token',
  'cloud.ca',
  'cloud.cert',
  'cloud.key',
  'mqtt.url',
  'mqtt.username',
  'mqtt.password',
  'mqtt.baseTopic',
  'privacy.ledger',
  'audio.playback.file',
  'audio.debugSaveAudioDir',
];

/** Keys: known ones, near misses (a level too deep, a typo) and plain junk. */
const keyArb = fc.oneof(
  { weight: 5, arbitrary: fc.constantFrom(...KNOWN_KEYS) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom(...KNOWN_KEYS), fc.constantFrom('x', '', '__proto__', 'toString', '0'))
      .map(([k, extra]) => `${k}.${extra}`),
  },
  {
    weight: 1,
    arbitrary: fc.constantFrom('__proto__', 'constructor.prototype', 'a..b', '.', 'audio.', ' '),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 30 }) },
);

/** Values as text (how --set and the environment give them): YAML scalars and worse. */
const textValueArb = fc.oneof(
  fc.constantFrom('true', 'no', '~', 'null', '[]', '{}', '[a, b]', '{a: 1}', '0x10', '1e400'),
  fc.constantFrom(
    '-1',
    '2001',
    '0.5',
    'wss://h:1/x',
    'ws://h',
    'mqtt://h',
    '*a',
    '&a x',
    '!!binary x',
  ),
  fc.integer().map(String),
  fc.double().map(String),
  fc.string({ maxLength: 40 }),
);

const valueArb: fc.Arbitrary<unknown> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  textValueArb,
  fc.constantFrom(-1, 0, 1, 2000, 2001, 1e9, 0.5, true, false, null, [], {}),
);

/** A nested tree from dotted keys (later keys win over earlier ones). */
function tree(pairs: ReadonlyArray<readonly [string, unknown]>): Tree {
  const root: Tree = {};
  for (const [key, value] of pairs) {
    const parts = key.split('.');
    let node = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (!next || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
      node = node[part] as Tree;
    }
    node[parts[parts.length - 1]!] = value;
  }
  return root;
}

const YAML_ODDITIES = [
  'a: &x [1, 2]\nb: *x\n',
  'audio: !!binary aGVsbG8=\n',
  '? [a, b]\n: 1\n',
  '---\naudio: {}\n---\nlog: {}\n',
  'audio:\n\tpreRollMs: 1\n',
  '<<: {audio: {preRollMs: 1}}\n',
  '__proto__: {polluted: true}\n',
  'x: &a [*a]\n',
  '"audio": {"preRollMs": 300}',
  'audio: [preRollMs, 300]\n',
  '',
  '# only a comment\n',
  '- a\n- b\n',
  'plain text',
  'a: b: c',
];

let counter = 0;
/** Config file contents and the extension they are written with. */
const fileArb = fc.oneof(
  fc.tuple(fc.constantFrom(...YAML_ODDITIES), fc.constant('.yaml')),
  fc.tuple(fc.string({ maxLength: 200 }), fc.constantFrom('.yaml', '.json')),
  fc.tuple(
    fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v) ?? ''),
    fc.constant('.json'),
  ),
  fc
    .tuple(
      fc.array(fc.tuple(keyArb, valueArb), { maxLength: 8 }),
      fc.constantFrom('.yaml', '.json'),
    )
    .map(([pairs, ext]) => {
      const t = tree(pairs);
      return [ext === '.json' ? JSON.stringify(t) : toYaml(t), ext] as const;
    }),
);

function writeConfig([text, ext]: readonly [string, string]): string {
  const file = join(tmp.dir, `c${counter++}${ext}`);
  writeFileSync(file, text);
  return file;
}

/** Loads, and checks the outcome is a valid config or a ConfigError naming keys. */
function loadsOrNamesTheKey(options: LoadOptions): Config | undefined {
  let config: Config;
  try {
    config = loadConfig(options);
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(ConfigError);
    const { problems } = err as ConfigError;
    expect(problems.length).toBeGreaterThan(0);
    for (const p of problems) {
      // Known bug (pinned below): an empty key is reported as "", naming nothing.
      if (p.key !== '') {
        expect(p.key.length, JSON.stringify(p)).toBeGreaterThan(0);
      }
      expect(p.key).not.toBe('(root)');
      if (!options.file) expect(p.key).not.toBe('(file)');
      expect(p.message.length).toBeGreaterThan(0);
    }
    expect((err as Error).message).toMatch(/^invalid configuration:/);
    return undefined;
  }
  // Whatever was accepted is a fixed point of the schema.
  expect(validateConfig(structuredClone(config))).toEqual(config);
  return config;
}

const envArb = fc.dictionary(
  fc.oneof(
    fc.constantFrom(...KNOWN_KEYS).map(
      (k) =>
        'EARSHOT_' +
        k
          .split('.')
          .map((p) => p.replace(/[A-Z]/g, (c) => `_${c}`).toUpperCase())
          .join('__'),
    ),
    fc.string({ maxLength: 20 }).map((s) => `EARSHOT_${s}`),
    fc.constantFrom('EARSHOT_', 'EARSHOT___PROTO__', 'EARSHOT_A____B', 'PATH'),
  ),
  textValueArb,
  { maxKeys: 5 },
);

const setArb = fc.array(
  fc.oneof(
    { weight: 4, arbitrary: fc.tuple(keyArb, textValueArb).map(([k, v]) => `${k}=${v}`) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
  ),
  { maxLength: 6 },
);

describe('config loader under fuzzing', () => {
  it('--set overrides: a valid config or a ConfigError naming the key', () => {
    fc.assert(
      fc.property(setArb, (overrides) => void loadsOrNamesTheKey({ overrides })),
      RUNS,
    );
  });

  it('environment overrides: a valid config or a ConfigError naming the key', () => {
    fc.assert(
      fc.property(envArb, (env) => void loadsOrNamesTheKey({ env })),
      RUNS,
    );
  });

  it('file contents (YAML and JSON): a valid config or a ConfigError naming the key', () => {
    fc.assert(
      fc.property(fileArb, (content) => {
        loadsOrNamesTheKey({ file: writeConfig(content) });
        // `__proto__:` in a file (one of the oddities) must not reach Object.prototype.
        expect(Object.prototype).not.toHaveProperty('polluted');
      }),
      RUNS,
    );
  });

  it('all sources at once', () => {
    fc.assert(
      fc.property(fileArb, envArb, setArb, (content, env, overrides) => {
        loadsOrNamesTheKey({ file: writeConfig(content), env, overrides });
      }),
      RUNS,
    );
  });

  it('an empty key is named, not reported as ""', () => {
    const file = writeConfig(['"": 1\n', '.yaml']);
    for (const options of [{ overrides: [' =true'] }, { file }]) {
      try {
        loadConfig(options);
      } catch (err) {
        expect((err as ConfigError).problems[0]!.key).not.toBe('');
      }
    }
  });

  it('a valid config stays valid: its YAML and JSON dumps load back unchanged', () => {
    const validPatch = fc.record(
      {
        'device.id': fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,20}$/),
        'device.name': fc.string({ minLength: 1, maxLength: 64 }),
        'audio.preRollMs': fc.integer({ min: 0, max: 2000 }),
        'audio.playback.volume': fc.integer({ min: 0, max: 100 }),
        'utterance.maxMs': fc.integer({ min: 1000, max: 30_000 }),
        // JSON has no negative zero: -0 comes back as 0, which is the same setting.
        'utterance.energyThresholdDb': fc
          .double({ min: -90, max: 0, noNaN: true })
          .map((v) => v + 0),
        'cloud.url': fc.constantFrom('wss://cloud.example:8443/v1', 'wss://127.0.0.1:1'),
        'cloud.token': fc.string({ minLength: 1, maxLength: 40 }),
        'privacy.dontSaveRecordings': fc.boolean(),
        'log.level': fc.constantFrom('error', 'warn', 'info', 'debug'),
        'mqtt.url': fc.constantFrom('mqtt://broker', 'mqtts://broker:8883'),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(validPatch, (patch) => {
        const config = loadConfig({ patch });
        for (const ext of ['.yaml', '.json']) {
          const text = ext === '.json' ? JSON.stringify(config) : toYaml(config);
          expect(loadsOrNamesTheKey({ file: writeConfig([text, ext]) })).toEqual(config);
        }
      }),
      RUNS,
    );
  });
});
