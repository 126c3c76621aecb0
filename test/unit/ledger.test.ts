import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewEntry } from '../../src/privacy/entry.js';
import { rotatedName } from '../../src/privacy/files.js';
import { Ledger } from '../../src/privacy/ledger.js';
import { verifyLedger } from '../../src/privacy/verify.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../helpers/paths.js';

let tmp: ReturnType<typeof tempDir>;
let file: string;
beforeEach(() => {
  tmp = tempDir();
  file = join(tmp.dir, 'ledger.jsonl');
});
afterEach(() => tmp.cleanup());

const utterance = (n: number): NewEntry => ({
  type: 'utterance',
  id: `u${n}`,
  start: '2026-11-25T10:00:00.000Z',
  end: '2026-11-25T10:00:02.000Z',
  trigger: { kind: 'wake', keyword: 'alexa', score: 0.9 },
  preRollMs: 500,
  durationMs: 2000,
  bytes: 64000,
  sha256: 'ab'.repeat(32),
  dontSaveRecordings: true,
  outcome: 'sent',
  reason: 'vad',
});

async function write(n: number, maxBytes = 1 << 20): Promise<Ledger> {
  const ledger = new Ledger({ file, maxBytes, log: silentLogger() });
  await ledger.open();
  for (let i = 1; i <= n; i++) await ledger.append(utterance(i));
  await ledger.close();
  return ledger;
}

const lines = (): string[] => readFileSync(file, 'utf8').split('\n').filter(Boolean);
const setLines = (l: string[]): void => writeFileSync(file, l.map((x) => `${x}\n`).join(''));

describe('ledger', () => {
  it('appends hash-chained entries that verify', async () => {
    await write(5);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(true);
    expect(r.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(r.entries[0]!.prev).toBe('0'.repeat(64));
  });

  it('continues the chain after a restart', async () => {
    await write(2);
    await write(2);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(true);
    expect(r.entries.map((e) => e.seq)).toEqual([1, 2, 3, 4]);
  });

  it('detects an edited entry and names its line', async () => {
    await write(4);
    const l = lines();
    l[1] = l[1]!.replace('"bytes":64000', '"bytes":1');
    setLines(l);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(false);
    expect(r.problem).toMatchObject({ line: 3, kind: 'edited' });
  });

  it('detects a removed entry in the middle', async () => {
    await write(4);
    const l = lines();
    l.splice(1, 1);
    setLines(l);
    const r = await verifyLedger(file);
    expect(r.problem).toMatchObject({ line: 2, kind: 'removed' });
  });

  it('detects a removed last entry through the head file', async () => {
    await write(3);
    setLines(lines().slice(0, 2));
    const r = await verifyLedger(file);
    expect(r.ok).toBe(false);
    expect(r.problem?.kind).toBe('removed');
    expect(r.problem?.message).toMatch(/entry 3 was written/);
  });

  it('detects reordered entries', async () => {
    await write(4);
    const l = lines();
    [l[1], l[2]] = [l[2]!, l[1]!];
    setLines(l);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(false);
    expect(r.problem?.line).toBe(2);
  });

  it('detects an inserted entry, even a well-formed copy', async () => {
    await write(3);
    const l = lines();
    l.splice(2, 0, l[1]!);
    setLines(l);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(false);
    expect(r.problem?.line).toBe(3);
  });

  it('detects a line that is not an entry', async () => {
    await write(2);
    setLines([lines()[0]!, '{"hello":"world"}', lines()[1]!]);
    expect((await verifyLedger(file)).problem).toMatchObject({ line: 2, kind: 'malformed' });
  });

  it('reports a torn last line, keeps it, and starts the next entry on a clean line', async () => {
    await write(2);
    appendFileSync(file, '{"v":1,"seq":3,"time":"2026-11-25T1');
    let r = await verifyLedger(file);
    expect(r.ok).toBe(true);
    expect(r.warnings).toMatchObject([{ line: 3, kind: 'torn' }]);

    const ledger = new Ledger({ file, maxBytes: 1 << 20, log: silentLogger() });
    await ledger.open();
    const e = await ledger.append(utterance(9));
    await ledger.close();
    expect(e.afterTorn).toBe(true);
    expect(e.seq).toBe(3);
    expect(readFileSync(file, 'utf8')).toContain('"time":"2026-11-25T1\n{');
    r = await verifyLedger(file);
    expect(r.ok).toBe(true);
    expect(r.entries.map((x) => x.id)).toEqual(['u1', 'u2', 'u9']);
    expect(r.warnings).toHaveLength(1);
  });

  it('rotates by size and keeps the chain across files', async () => {
    await write(12, 1500);
    expect(readFileSync(rotatedName(file, 1), 'utf8').length).toBeGreaterThan(0);
    const r = await verifyLedger(file);
    expect(r.ok).toBe(true);
    expect(r.files.length).toBeGreaterThan(2);
    expect(r.entries.map((e) => e.seq)).toEqual([...Array(12).keys()].map((i) => i + 1));
    // Editing an older, rotated file still breaks the chain.
    const old = rotatedName(file, r.files.length - 1);
    writeFileSync(old, readFileSync(old, 'utf8').replace('"u1"', '"uX"'));
    expect((await verifyLedger(file)).ok).toBe(false);
  });
});
