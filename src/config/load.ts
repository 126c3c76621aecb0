import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { EarshotError } from '../shared/errors.js';
import { configSchema, SECRET_KEYS, type Config } from './schema.js';
import { closestName } from './suggest.js';

/** Prefix of environment overrides: `EARSHOT_CLOUD__URL=wss://…` sets `cloud.url`. */
export const ENV_PREFIX = 'EARSHOT_';

export interface ConfigProblem {
  /** Dotted key, e.g. `audio.preRollMs`; `(file)` for a problem with the file itself. */
  key: string;
  message: string;
  /** Where the bad value came from: the file, an environment variable, a flag. */
  source?: string;
}

export class ConfigError extends EarshotError {
  constructor(readonly problems: ConfigProblem[]) {
    super('E_CONFIG', formatProblems(problems));
    this.name = 'ConfigError';
  }
}

export interface LoadOptions {
  /** A YAML or JSON file. */
  file?: string | undefined;
  /** Environment to read `EARSHOT_…` overrides from (default: none). */
  env?: NodeJS.ProcessEnv;
  /** `key.path=value` overrides, as given with `--set`. */
  overrides?: readonly string[];
  /** Typed overrides applied last, e.g. from dedicated CLI flags. */
  patch?: Record<string, unknown>;
}

type Tree = Record<string, unknown>;

/**
 * Builds the effective configuration: defaults ← file ← environment ← `--set` ← patch.
 * Throws a ConfigError that names every bad key; nothing is half-applied.
 */
export function loadConfig(options: LoadOptions = {}): Config {
  const sources = new Map<string, string>();
  const tree: Tree = options.file ? readConfigFile(options.file) : {};
  if (options.file) markSources(tree, '', options.file, sources);

  const problems: ConfigProblem[] = [];
  const sections = Object.keys(configSchema.shape);
  for (const [name, value] of Object.entries(options.env ?? {})) {
    if (!name.startsWith(ENV_PREFIX) || value === undefined) continue;
    const key = envNameToKey(name.slice(ENV_PREFIX.length));
    // Only names of config keys: other EARSHOT_* variables (tooling, tests) are not config.
    if (!key || !sections.includes(key.split('.')[0]!)) continue;
    setPath(tree, key, parseScalar(value), problems, name);
    sources.set(key, `environment ${name}`);
  }
  for (const item of options.overrides ?? []) {
    const eq = item.indexOf('=');
    if (eq <= 0) {
      problems.push({ key: item, message: 'expected key.path=value', source: '--set' });
      continue;
    }
    const key = item.slice(0, eq).trim();
    if (!key) {
      problems.push({
        key: JSON.stringify(item),
        message: 'expected key.path=value (the key is empty)',
        source: '--set',
      });
      continue;
    }
    setPath(tree, key, parseScalar(item.slice(eq + 1)), problems, '--set');
    sources.set(key, `--set ${key}`);
  }
  for (const [key, value] of Object.entries(options.patch ?? {})) {
    if (value === undefined) continue;
    setPath(tree, key, value, problems, 'flag');
    sources.set(key, 'command-line flag');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return validateConfig(tree, sources);
}

/**
 * The config with `changes` (dotted keys) applied and validated exactly as a file would
 * be: settings from outside a file (the cloud's `settings`) get the same checks, and a
 * problem names the key and where the value came from.
 */
export function withChanges(
  config: Config,
  changes: Record<string, unknown>,
  source: string,
): Config {
  const tree = structuredClone(config) as Tree;
  const sources = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) continue;
    setPath(tree, key, value, problems, source);
    sources.set(key, source);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return validateConfig(tree, sources);
}

/** Validates a plain object against the schema, with problems named by key. */
export function validateConfig(tree: unknown, sources?: Map<string, string>): Config {
  const result = configSchema.safeParse(tree);
  if (result.success) return result.data;
  throw new ConfigError(result.error.issues.flatMap((issue) => describeIssues(issue, sources)));
}

function describeIssues(issue: z.core.$ZodIssue, sources?: Map<string, string>): ConfigProblem[] {
  const path = issue.path.map(String).join('.');
  if (issue.code === 'unrecognized_keys') {
    // One problem per key, each with where it came from and the likely intended key.
    const allowed = allowedKeys(issue.path);
    return issue.keys.map((k) => {
      const key = path ? `${path}.${k === '' ? '""' : k}` : k === '' ? '""' : k;
      const guess = allowed ? closestName(k, allowed) : undefined;
      const problem: ConfigProblem = {
        key,
        message: `unknown key${guess ? ` (did you mean ${guess}?)` : ''}; allowed here: ${allowed?.join(', ') ?? '(see `earshot config print`)'}`,
      };
      const source = sources?.get(path ? `${path}.${k}` : k);
      if (source) problem.source = source;
      return problem;
    });
  }
  const key = path || '(root)';
  const problem: ConfigProblem = { key, message: issue.message };
  const source = sources ? findSource(sources, key) : undefined;
  if (source) problem.source = source;
  return [problem];
}

function findSource(sources: Map<string, string>, key: string): string | undefined {
  for (let k = key; k; k = k.includes('.') ? k.slice(0, k.lastIndexOf('.')) : '') {
    const s = sources.get(k);
    if (s) return s;
  }
  return undefined;
}

function allowedKeys(path: readonly PropertyKey[]): string[] | undefined {
  // Walk the schema's shape (through defaults, optionals and arrays) to list the keys
  // that are allowed at this level.
  let node: unknown = unwrap(configSchema);
  for (const part of path) {
    if (typeof part === 'number' || /^\d+$/.test(String(part))) continue; // an array index
    const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
    node = unwrap(shape?.[String(part)]);
  }
  const shape = (node as { shape?: Record<string, unknown> } | undefined)?.shape;
  return shape ? Object.keys(shape) : undefined;
}

type SchemaDef = { def?: { innerType?: unknown; element?: unknown; in?: unknown } };

function unwrap(node: unknown): unknown {
  let n = node as SchemaDef | undefined;
  for (let i = 0; i < 10 && n?.def; i++) {
    const next = n.def.innerType ?? n.def.element ?? n.def.in;
    if (!next) break;
    n = next as SchemaDef;
  }
  return n;
}

function readConfigFile(file: string): Tree {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError([
      { key: '(file)', message: `cannot read ${file}: ${code}`, source: file },
    ]);
  }
  let data: unknown;
  try {
    data = extname(file) === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const where =
      err instanceof YAMLParseError && err.linePos ? ` at line ${err.linePos[0].line}` : '';
    throw new ConfigError([
      {
        key: '(file)',
        message: `${file} is not valid ${extname(file) === '.json' ? 'JSON' : 'YAML'}${where}: ${(err as Error).message.split('\n')[0]}`,
        source: file,
      },
    ]);
  }
  if (data === null || data === undefined) return {};
  if (typeof data !== 'object' || Array.isArray(data)) {
    throw new ConfigError([
      { key: '(file)', message: `${file} must hold a mapping of keys`, source: file },
    ]);
  }
  return data as Tree;
}

function markSources(tree: Tree, prefix: string, file: string, out: Map<string, string>): void {
  for (const [k, v] of Object.entries(tree)) {
    const key = prefix ? `${prefix}.${k}` : k;
    out.set(key, file);
    if (v && typeof v === 'object' && !Array.isArray(v)) markSources(v as Tree, key, file, out);
  }
}

/** `CLOUD__URL` → `cloud.url`; `AUDIO__PRE_ROLL_MS` → `audio.preRollMs`. */
export function envNameToKey(rest: string): string | undefined {
  if (!rest) return undefined;
  return rest
    .split('__')
    .map((part) => part.toLowerCase().replace(/_([a-z0-9])/g, (_m, c: string) => c.toUpperCase()))
    .join('.');
}

/** Values from the environment and `--set` are YAML scalars: `true`, `500`, `[a, b]`. */
function parseScalar(text: string): unknown {
  try {
    const value: unknown = parseYaml(text, { logLevel: 'silent' });
    // No key takes null: `sink=null` means the sink named "null", not "unset".
    return value === null ? text : value;
  } catch {
    return text;
  }
}

function setPath(
  tree: Tree,
  key: string,
  value: unknown,
  problems: ConfigProblem[],
  source: string,
): void {
  const parts = key.split('.');
  if (
    parts.some((p) => p === '' || p === '__proto__' || p === 'constructor' || p === 'prototype')
  ) {
    problems.push({ key, message: 'not a valid key path', source });
    return;
  }
  let node = tree;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    if (next === undefined) node[part] = {};
    else if (typeof next !== 'object' || next === null || Array.isArray(next)) {
      problems.push({ key, message: `${part} is not a section`, source });
      return;
    }
    node = node[part] as Tree;
  }
  node[parts[parts.length - 1]!] = value;
}

/** A copy of the config with every secret replaced by `***`. */
export function maskSecrets(config: Config): Config {
  const copy = structuredClone(config) as unknown as Tree;
  for (const key of SECRET_KEYS) {
    const parts = key.split('.');
    let node: Tree | undefined = copy;
    for (const part of parts.slice(0, -1)) node = node?.[part] as Tree | undefined;
    const last = parts[parts.length - 1]!;
    if (node && node[last] !== undefined) node[last] = '***';
  }
  return copy as unknown as Config;
}

export function formatProblems(problems: readonly ConfigProblem[]): string {
  const lines = problems.map(
    (p) => `  ${p.key}: ${p.message}${p.source ? ` (from ${p.source})` : ''}`,
  );
  return `invalid configuration:\n${lines.join('\n')}`;
}
