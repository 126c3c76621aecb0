import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, Mosquitto, Probe } from '../helpers/mosquitto.js';
import { cliPath, fixture, tempDir } from '../helpers/paths.js';
import { runSimulate } from '../helpers/simulate.js';

const tmp = tempDir();
const ledger = join(tmp.dir, 'ledger.jsonl');
let broker: Mosquitto;

function cli(args: string[]): { code: number | null; out: string; err: string } {
  const r = spawnSync(process.execPath, [cliPath, ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

beforeAll(async () => {
  broker = await Mosquitto.start();
  // A real ledger: two requests through the real pipeline.
  const { code } = await runSimulate(['--wav', fixture('alexa-twice.wav'), '--ledger', ledger]);
  expect(code).toBe(0);
}, 60_000);
afterAll(async () => {
  await broker?.stop();
  tmp.cleanup();
});

describe('earshot ledger', () => {
  it('show prints a table of the uploads, and JSON lines with --json', () => {
    const table = cli(['ledger', 'show', '--ledger', ledger]);
    expect(table.code).toBe(0);
    expect(table.out).toMatch(/time\s+trigger\s+seconds\s+bytes\s+outcome/);
    expect(table.out.match(/wake alexa/g)).toHaveLength(2);
    const json = cli(['ledger', 'show', '--ledger', ledger, '--json']);
    const entries = json.out
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string });
    expect(entries.filter((e) => e.type === 'utterance')).toHaveLength(2);
    expect(cli(['ledger', 'show', '--ledger', ledger, '--since', '1h']).out).toMatch(/wake alexa/);
    expect(cli(['ledger', 'show', '--ledger', ledger, '--since', 'yesterday-ish']).code).not.toBe(
      0,
    );
  });

  it('verify passes on an intact ledger and fails naming the first bad line', () => {
    const ok = cli(['ledger', 'verify', '--ledger', ledger]);
    expect(ok.code).toBe(0);
    expect(ok.out).toMatch(/ok, 4 entries \(2 utterances\)/);
    const copy = join(tmp.dir, 'edited.jsonl');
    const lines = readFileSync(ledger, 'utf8').split('\n');
    lines[0] = lines[0]!.replace(/"bytes":\d+/, '"bytes":1');
    writeFileSync(copy, lines.join('\n'));
    const bad = cli(['ledger', 'verify', '--ledger', copy]);
    expect(bad.code).toBe(1);
    expect(bad.err).toMatch(/edited\.jsonl:2: edited/);
  });

  it('export prints one JSON document with the verification', () => {
    const r = cli(['ledger', 'export', '--ledger', ledger]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as { verified: boolean; entries: unknown[] };
    expect(doc.verified).toBe(true);
    expect(doc.entries).toHaveLength(4);
  });
});

describe('earshot simulate --mqtt and earshot mqtt remove', () => {
  it('the whole simulated run is observable on the broker, and removal clears discovery', async () => {
    const probe = await Probe.connect(broker.url);
    await probe.subscribe(['earshot/sim/#', 'homeassistant/#']);
    const { code } = await runSimulate([
      '--wav',
      fixture('alexa-what-time.wav'),
      '--mqtt',
      broker.url,
      '--set',
      'device.id=sim',
    ]);
    expect(code).toBe(0);
    await probe.settle();
    const states = probe.on('earshot/sim/state').map((m) => m.payload);
    expect(states).toEqual(expect.arrayContaining(['idle', 'listening', 'thinking']));
    expect(probe.on('earshot/sim/availability').at(-1)?.payload).toBe('offline');
    const discovery = probe.messages.filter(
      (m) => m.topic.startsWith('homeassistant/') && m.topic.endsWith('/config') && m.payload,
    );
    expect(discovery.length).toBeGreaterThanOrEqual(7);

    const r = cli(['mqtt', 'remove', '--set', `mqtt.url=${broker.url}`, '--set', 'device.id=sim']);
    expect(r.code, r.err).toBe(0);
    await eventually(async () => {
      const probe2 = await Probe.connect(broker.url);
      await probe2.subscribe('homeassistant/#');
      await probe2.settle();
      const left = probe2.messages.filter((m) => m.retain && m.topic.includes('/sim/'));
      await probe2.close();
      return left.length === 0 ? true : undefined;
    }, 'discovery cleared');
    await probe.close();
  });
});
