import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Mosquitto } from '../helpers/mosquitto.js';
import { cliPath, fixture, tempDir } from '../helpers/paths.js';
import { runCli, type CliResult } from '../helpers/run-cli.js';
import { makeCerts, type TestCerts } from '../helpers/tls-certs.js';

// Findings 5 and 7 of the trust-boundary audit. A real record first: `earshot simulate`
// (the device pipeline) speaks two requests to `earshot cloud --receipt-key --store`
// (the reference cloud as a process, signing every acknowledgement) and publishes its
// ledger head to a real mosquitto. Then the owner's record is attacked as root on the
// device would: a line edited and the whole chain recomputed (prev, seq, .head), the
// file deleted with its head left, a wrong path, two lines swapped. `ledger verify`
// must say so whenever something outside the device (the cloud's receipt key, a
// published head) can tell. Before the fixes a re-chained ledger passed, a deleted one
// was "ok, 0 entries" and a missing path exited 0.
const DEVICE = 'adv-ledger';
const tmp = tempDir('earshot-adv-ledger-');
const ledger = join(tmp.dir, 'device', 'ledger.jsonl');
const store = join(tmp.dir, 'recordings');
const receiptPriv = join(tmp.dir, 'receipt.key');
const receiptPub = join(tmp.dir, 'receipt.pub');
const anchors = join(tmp.dir, 'published-heads.txt');
let certs: TestCerts;
let broker: Mosquitto;
let cloud: ChildProcess;
let original: string;

type Entry = Record<string, unknown> & { seq: number; prev: string; type: string; id: string };

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');

function verify(file: string, ...args: string[]): Promise<CliResult> {
  return runCli(['ledger', 'verify', '--ledger', file, ...args]);
}

/** A copy of the ledger (and its head) to attack, in a directory of its own. */
function copyLedger(name: string): string {
  const file = join(tmp.dir, `${name}.jsonl`);
  copyFileSync(ledger, file);
  copyFileSync(`${ledger}.head`, `${file}.head`);
  return file;
}

/**
 * What an attacker with write access does: change entries, then recompute every `prev`
 * and `seq` and the `.head`, so that the chain itself is consistent again.
 */
function rewrite(file: string, edit: (entries: Entry[]) => Entry[]): void {
  const entries = edit(
    readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Entry),
  );
  let prev = '0'.repeat(64);
  const lines: string[] = [];
  entries.forEach((e, i) => {
    const line = JSON.stringify({ ...e, seq: i + 1, prev });
    lines.push(line);
    prev = sha(line);
  });
  writeFileSync(file, `${lines.join('\n')}\n`);
  writeFileSync(`${file}.head`, JSON.stringify({ seq: entries.length, hash: prev }));
}

beforeAll(async () => {
  certs = makeCerts(DEVICE);
  execFileSync('openssl', ['genpkey', '-algorithm', 'ed25519', '-out', receiptPriv]);
  execFileSync('openssl', ['pkey', '-in', receiptPriv, '-pubout', '-out', receiptPub]);
  broker = await Mosquitto.start();
  cloud = spawn(
    process.execPath,
    [
      cliPath,
      'cloud',
      '--port',
      '0',
      '--cert',
      certs.serverCert,
      '--key',
      certs.serverKey,
      '--ca',
      certs.ca,
      '--receipt-key',
      receiptPriv,
      '--store',
      store,
      '--voice',
      'tone',
      '--log-level',
      'warn',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const first = await new Promise<string>((resolve) =>
    createInterface({ input: cloud.stdout! }).once('line', resolve),
  );
  const url = /listening on (wss:\/\/\S+)/.exec(first)![1]!;
  const sim = await runCli(
    [
      'simulate',
      '--wav',
      fixture('alexa-twice.wav'),
      '--cloud',
      url,
      '--ca',
      certs.ca,
      '--cert',
      certs.deviceCert,
      '--key',
      certs.deviceKey,
      '--ledger',
      ledger,
      '--mqtt',
      broker.url,
      '--set',
      `device.id=${DEVICE}`,
      '--set',
      `cloud.receiptKey=${receiptPub}`,
      // The owner lets this cloud keep recordings: the store's file modes are checked.
      '--set',
      'privacy.dontSaveRecordings=false',
    ],
    { timeoutMs: 120_000 },
  );
  expect(sim.code, sim.stderr).toBe(0);
  original = readFileSync(ledger, 'utf8');
  // The heads the broker saw, as Home Assistant's history of the "Ledger head" sensor
  // would keep them: here the retained one, read back by `ledger verify --anchor mqtt`.
  const mqttSet = ['--set', `mqtt.url=${broker.url}`, '--set', `device.id=${DEVICE}`];
  const fromBroker = await verify(ledger, '--anchor', 'mqtt', ...mqttSet);
  expect(fromBroker.code, fromBroker.stderr).toBe(0);
  expect(fromBroker.stdout).toMatch(/anchors: 1 published head/);
  const head = JSON.parse(readFileSync(`${ledger}.head`, 'utf8')) as { seq: number; hash: string };
  writeFileSync(anchors, `${head.seq}:${head.hash}\n`);
}, 180_000);

afterAll(async () => {
  cloud?.kill('SIGTERM');
  await broker?.stop();
  certs?.cleanup();
  tmp.cleanup();
});

describe('the owner’s record under attack', { timeout: 60_000 }, () => {
  it('the honest record verifies, with every acknowledgement signed by the cloud', async () => {
    const entries = original
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Entry);
    const sent = entries.filter((e) => e.type === 'utterance' && e.outcome === 'sent');
    expect(sent.length).toBe(2);
    const acks = entries.filter((e) => e.type === 'ack');
    expect(acks.map((a) => Boolean(a.receipt))).toEqual([true, true]);
    const r = await verify(ledger, '--receipt-key', receiptPub, '--anchor', anchors);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /2 acknowledgement\(s\) carry the cloud's signed receipt, each verified/,
    );
    expect(r.stdout).toMatch(/0 sent utterance\(s\) without one/);
  });

  it('an utterance edited and the chain recomputed: the chain alone passes, the receipt key fails it', async () => {
    // "Only 1 byte was ever sent", in the utterance and in the cloud's acknowledgement
    // alike: the owner's record would understate the upload, and agree with itself.
    const file = copyLedger('edited-bytes');
    rewrite(file, (entries) =>
      entries.map((e) =>
        (e.type === 'utterance' && e.outcome === 'sent') || e.type === 'ack'
          ? { ...e, bytes: 1 }
          : e,
      ),
    );
    const chainOnly = await verify(file);
    expect(chainOnly.code, chainOnly.stderr).toBe(0); // what the chain cannot catch (README)
    const withKey = await verify(file, '--receipt-key', receiptPub);
    expect(withKey.code).toBe(1);
    expect(withKey.stderr).toMatch(
      /FAILED: .*receipt: entry \d+: the cloud's signature does not match/,
    );
  });

  it('an acknowledgement edited (the cloud "kept" the recording) fails against the key', async () => {
    const file = copyLedger('edited-ack');
    rewrite(file, (entries) =>
      entries.map((e) => (e.type === 'ack' ? { ...e, stored: !e.stored } : e)),
    );
    const withKey = await verify(file, '--receipt-key', receiptPub);
    expect(withKey.code).toBe(1);
    expect(withKey.stderr).toMatch(/signature does not match this acknowledgement/);
  });

  it('an utterance and its receipt removed and the chain recomputed: a published head fails it', async () => {
    const file = copyLedger('removed');
    const first = JSON.parse(original.split('\n')[0]!) as Entry;
    rewrite(file, (entries) => entries.filter((e) => e.id !== first.id));
    // Receipts cannot show what was removed together with them (README), …
    const withKey = await verify(file, '--receipt-key', receiptPub);
    expect(withKey.code).toBe(0);
    // … the head published before the rewrite does.
    const anchored = await verify(file, '--receipt-key', receiptPub, '--anchor', anchors);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr).toMatch(
      /anchor: entry \d+ was published as the head, but the ledger ends at entry/,
    );
  });

  it('a field no receipt covers edited and re-chained: the published head fails it', async () => {
    const file = copyLedger('edited-trigger');
    rewrite(file, (entries) =>
      entries.map((e) => (e.type === 'utterance' ? { ...e, trigger: { kind: 'button' } } : e)),
    );
    expect((await verify(file, '--receipt-key', receiptPub)).code).toBe(0);
    const anchored = await verify(file, '--anchor', anchors);
    expect(anchored.code).toBe(1);
    expect(anchored.stderr).toMatch(
      /anchor: entry \d+ is not the entry published as the head then: the chain was rewritten/,
    );
  });

  it('a deleted ledger whose head remains, and a path that does not exist, fail', async () => {
    const file = copyLedger('deleted');
    rmSync(file);
    const deleted = await verify(file);
    expect(deleted.code).toBe(1);
    expect(deleted.stderr).toMatch(
      /removed: the ledger file is gone, but its head says \d+ entries/,
    );
    const nowhere = await verify(join(tmp.dir, 'no', 'such', 'ledger.jsonl'));
    expect(nowhere.code).toBe(1);
    expect(nowhere.stderr).toMatch(/missing: no ledger at/);
  });

  it('two entries swapped are reported as reordered', async () => {
    const file = copyLedger('swapped');
    const lines = original.trim().split('\n');
    [lines[1], lines[2]] = [lines[2]!, lines[1]!];
    writeFileSync(file, `${lines.join('\n')}\n`);
    const r = await verify(file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/reordered: chain broken at entry 3: entries are out of order/);
  });

  it('7. the ledger head, the kept recordings and their folders are readable by their owner only', () => {
    expect(statSync(`${ledger}.head`).mode & 0o777).toBe(0o600);
    expect(statSync(ledger).mode & 0o777).toBe(0o600);
    const wavs: string[] = [];
    const walk = (dir: string): void => {
      expect(statSync(dir).mode & 0o777, dir).toBe(0o700);
      for (const e of readdirSync(dir, { withFileTypes: true })) {
        if (e.isDirectory()) walk(join(dir, e.name));
        else wavs.push(join(dir, e.name));
      }
    };
    walk(store);
    expect(wavs.length).toBe(2);
    for (const w of wavs) expect(statSync(w).mode & 0o777, w).toBe(0o600);
    // The Pi image (device key, Wi-Fi PSK) is written 0600: test/integration/image-build.test.ts.
  });
});
