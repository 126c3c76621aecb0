import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudServer } from '../../src/cloud/index.js';
import {
  composeWav,
  deviceConfig,
  faultCloud,
  watchCloud,
  type LogLine,
} from '../helpers/fault-harness.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

/**
 * The ledger's disk is full (P4: no upload without a record). The device runs in a
 * child process in its own mount namespace, with a 64 KiB tmpfs as the ledger's
 * directory, filled before the first request. The completed utterance cannot be
 * recorded, so it must be aborted (the cloud gets `utterance.abort`, never
 * `utterance.end`), the device must go to `error` (part `ledger`), and uploads must
 * stop: the next "Alexa" gets the error earcon and sends nothing.
 */
const tmp = tempDir('earshot-fault-ledger-');
const fsDir = join(tmp.dir, 'ledger-fs');
mkdirSync(fsDir);

/** Why this machine cannot run the scenario, or undefined when it can. */
function cannotRun(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root (mount a tmpfs in a private mount namespace)';
  const probe = spawnSync(
    'unshare',
    ['-m', 'sh', '-c', 'mount -t tmpfs -o size=64k earshot-probe "$0" && umount "$0"', fsDir],
    { encoding: 'utf8' },
  );
  if (probe.error) return `unshare is not available: ${probe.error.message}`;
  if (probe.status !== 0) return `cannot mount a tmpfs with unshare -m: ${probe.stderr.trim()}`;
  return undefined;
}
const skip = cannotRun();
if (skip) console.warn(`fault-ledger-full: skipped: ${skip}`);

let certs: TestCerts;
let cloud: CloudServer;
beforeAll(() => {
  if (!skip) certs = makeCerts('fault-ledger');
});
afterAll(async () => {
  await cloud?.close();
  certs?.cleanup();
  tmp.cleanup();
});

interface ChildResult {
  filled: number;
  states: string[];
  uploads: Array<{ id: string; outcome: string; reason: string }>;
  wakes: Array<{ accepted: boolean }>;
  finalState: string;
  model: { state: { name: string; part?: string; cause?: string } };
  logs: LogLine[];
}

function runChild(args: object): Promise<{ code: number | null; out: string; err: string }> {
  const script = [
    'mount -t tmpfs -o size=64k earshot-ledger "$0" || exit 97',
    'exec "$1" --import tsx "$2" "$3"',
  ].join('\n');
  const child = spawn(
    'unshare',
    [
      '-m',
      'sh',
      '-c',
      script,
      fsDir,
      process.execPath,
      join(repoRoot, 'test', 'helpers', 'fault-ledger-child.ts'),
      JSON.stringify(args),
    ],
    { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, out, err })));
}

describe('fault injection: the ledger disk is full', () => {
  it.skipIf(skip !== undefined)(
    `aborts the utterance instead of committing it, goes to error (ledger), uploads stop${skip ? ` [skipped: ${skip}]` : ''}`,
    async () => {
      cloud = await faultCloud(certs);
      const seen = watchCloud(cloud);
      const wav = await composeWav(tmp.dir, 'two.wav', [
        'alexa-what-time.wav',
        2,
        'alexa-what-time.wav',
      ]);
      const config = deviceConfig(certs, cloud, '/unused');
      const { code, out, err } = await runChild({ config, ledgerDir: fsDir, wav });
      expect(code, err).toBe(0);
      const result = JSON.parse(out.trim().split('\n').pop()!) as ChildResult;
      expect(result.filled).toBeGreaterThan(0);

      // The first request: recorded nowhere, so never committed; the cloud discards it.
      const [first, ...rest] = result.uploads;
      expect(first).toMatchObject({ outcome: 'failed', reason: 'ledger unavailable' });
      expect(rest).toEqual([]);
      const types = seen.messages.map((m) => m.type).filter((t) => t.startsWith('utterance.'));
      expect(types).toEqual(['utterance.start', 'utterance.abort']);
      expect(seen.aborted).toEqual([first!.id]);
      expect(seen.utterances).toEqual([]);

      // A clear log line, and the defined state: error, part ledger, with the cause.
      const failed = result.logs.filter((l) => l.msg === 'ledger failed: uploads stop');
      expect(failed[0]?.err).toMatch(/ENOSPC|no space left/i);
      expect(result.model.state).toMatchObject({ name: 'error', part: 'ledger' });
      expect(result.model.state.cause).toMatch(/ENOSPC|no space left/i);
      expect(result.states).toContain('error');
      expect(result.finalState).toBe('error');

      // Uploads stop: the second "Alexa" is heard but not acted on.
      expect(result.wakes.map((w) => w.accepted)).toEqual([true, false]);
    },
    60_000,
  );
});
