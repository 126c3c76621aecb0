import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LedgerPages } from '../../src/dashboard/ledger-pages.js';
import { Ledger } from '../../src/privacy/ledger.js';
import { silentLogger } from '../../src/shared/logger.js';
import { tempDir } from '../helpers/paths.js';
import { checkPassword, hashPassword } from '../../src/dashboard/password.js';
import { Sessions, SignInLimiter } from '../../src/dashboard/sessions.js';
import { markRadius } from '../../src/dashboard/timeline.js';
import { uploadsCsv, type UploadRow } from '../../src/dashboard/uploads.js';
import { parseFilters } from '../../src/dashboard/ledger-pages.js';

describe('dashboard sessions and sign-in limits', () => {
  it('ends a session when idle too long or too old, and keeps at most maxSessions', () => {
    let t = 0;
    const s = new Sessions({ idleMs: 100, maxAgeMs: 1000, maxSessions: 2 }, () => t);
    const a = s.create();
    t = 50;
    expect(s.find(a.id)?.id).toBe(a.id);
    t = 151;
    expect(s.find(a.id)).toBeUndefined();
    const b = s.create();
    for (t = 200; t <= 1100; t += 90) expect(s.find(b.id)).toBeDefined();
    t = 1250;
    expect(s.find(b.id)).toBeUndefined(); // older than maxAgeMs, used or not
    const c = s.create();
    t += 1;
    const d = s.create();
    t += 1;
    s.find(c.id);
    s.create(); // a third: the least recently used (d) goes
    expect(s.find(d.id)).toBeUndefined();
    expect(s.find(c.id)).toBeDefined();
    expect(s.size).toBe(2);
  });

  it('locks an address out after maxFailures in the window, for lockoutMs', () => {
    let t = 0;
    const l = new SignInLimiter(
      { maxFailures: 3, windowMs: 1000, lockoutMs: 5000, maxTracked: 16 },
      () => t,
    );
    l.failed('a');
    l.failed('a');
    expect(l.waitMs('a')).toBe(0);
    l.failed('a');
    expect(l.waitMs('a')).toBe(5000);
    expect(l.waitMs('b')).toBe(0); // another address is not locked
    t = 4999;
    expect(l.waitMs('a')).toBe(1);
    t = 5000;
    expect(l.waitMs('a')).toBe(0);
    // Failures spread wider than the window do not add up.
    for (let i = 0; i < 5; i++) {
      t += 1001;
      l.failed('c');
    }
    expect(l.waitMs('c')).toBe(0);
  });

  it('refuses new addresses while its table is full of live entries', () => {
    const l = new SignInLimiter(
      { maxFailures: 5, windowMs: 1000, lockoutMs: 500, maxTracked: 16 },
      () => 0,
    );
    for (let i = 0; i < 16; i++) l.failed(`10.0.0.${i}`);
    expect(l.waitMs('10.0.1.1')).toBe(500);
  });
});

describe('dashboard password', () => {
  it('keeps a scrypt hash that only the right password matches', async () => {
    const hash = await hashPassword('correct horse battery');
    expect(hash).toMatch(/^scrypt\$16384\$8\$1\$/);
    expect(hash).not.toContain('horse');
    expect(await checkPassword('correct horse battery', hash)).toBe(true);
    expect(await checkPassword('correct horse batterY', hash)).toBe(false);
    await expect(hashPassword('short')).rejects.toMatchObject({ code: 'E_DASHBOARD_PASSWORD' });
  });
});

describe('dashboard views', () => {
  it('quotes CSV cells and defuses spreadsheet formulas', () => {
    const row = {
      start: '2026-12-01T10:00:00.000Z',
      durationMs: 2000,
      bytes: 64000,
      trigger: 'wake word "alexa"',
      destination: 'host, (earshot)',
      outcome: 'sent',
      reason: '=HYPERLINK("x")',
      acknowledgement: 'kept',
      retention: 'may keep',
      receipt: 'none',
      id: 'a-1',
      seq: 1,
      mayStore: true,
    } as UploadRow;
    const [head, line] = uploadsCsv([row]).split('\r\n');
    expect(head).toBe(
      'start,durationMs,bytes,trigger,destination,outcome,reason,acknowledgement,retention,receipt,id,seq',
    );
    expect(line).toBe(
      `2026-12-01T10:00:00.000Z,2000,64000,"wake word ""alexa""","host, (earshot)",sent,"'=HYPERLINK(""x"")",kept,may keep,none,a-1,1`,
    );
  });

  it('sizes marks by length within bounds, and reads filters strictly', () => {
    expect(markRadius(0)).toBe(3);
    expect(markRadius(4000)).toBeGreaterThan(markRadius(1000));
    expect(markRadius(600_000)).toBe(15);
    const now = new Date(2026, 11, 2, 15).getTime();
    const week = parseFilters(
      new URL('http://x/sent?range=week&day=2026-12-02&outcome=failed'),
      now,
    );
    expect(week.days).toHaveLength(7);
    expect(week.outcome).toBe('failed');
    expect(new Date(week.from).getDate()).toBe(26);
    const junk = parseFilters(new URL('http://x/sent?range=year&day=../../x&outcome=<b>'), now);
    expect(junk).toMatchObject({ range: 'day', outcome: 'all', day: '2026-12-02' });
  });
});

describe('dashboard table paging', () => {
  let tmp: ReturnType<typeof tempDir>;
  beforeEach(() => {
    tmp = tempDir();
  });
  afterEach(() => tmp.cleanup());

  /** A real ledger of `n` uploads today, u1 the oldest. */
  async function ledgerOf(n: number): Promise<string> {
    const file = join(tmp.dir, 'ledger.jsonl');
    const ledger = new Ledger({ file, maxBytes: 1 << 22, log: silentLogger() });
    await ledger.open();
    const base = Date.now() - n * 1000 - 60_000;
    for (let i = 1; i <= n; i++) {
      await ledger.append({
        type: 'utterance',
        id: `u${i}`,
        start: new Date(base + i * 1000).toISOString(),
        end: new Date(base + i * 1000 + 500).toISOString(),
        trigger: { kind: 'wake', keyword: 'alexa', score: 0.9 },
        preRollMs: 500,
        durationMs: 500,
        bytes: 16000,
        sha256: 'ab'.repeat(32),
        dontSaveRecordings: true,
        outcome: 'sent',
        reason: 'vad',
      });
    }
    await ledger.close();
    return file;
  }

  const ids = (html: string): string[] =>
    [...html.matchAll(/<tr data-upload="([^"]+)"/g)].map((m) => m[1]!);

  it('lists the view newest first, a page at a time, with links that keep the filters', async () => {
    const pages = new LedgerPages({ file: await ledgerOf(25), anchorPublished: false }, 2000, 10);
    const first = await pages.sent(new URL('http://x/sent?outcome=sent'));
    expect(ids(first)).toEqual(Array.from({ length: 10 }, (_, i) => `u${25 - i}`));
    expect(first).toContain('Page 1 of 3');
    expect(first).toMatch(
      /rel="next" href="\/sent\?range=day&amp;day=[\d-]+&amp;outcome=sent&amp;page=2"/,
    );
    expect(first).not.toContain('rel="prev"');
    const last = await pages.sent(new URL('http://x/sent?outcome=sent&page=3'));
    expect(ids(last)).toEqual(['u5', 'u4', 'u3', 'u2', 'u1']);
    expect(last).toContain('rel="prev"');
    expect(last).not.toContain('rel="next"');
    // A page past the end, or not a number, shows the nearest real page.
    expect(ids(await pages.sent(new URL('http://x/sent?page=99')))).toEqual(ids(last));
    expect(ids(await pages.sent(new URL('http://x/sent?page=<b>')))).toEqual(ids(first));
    // The totals count the whole view, not the page.
    expect(first).toContain('25 upload(s) in this view');
  });

  it('shows no pager when the view fits on one page', async () => {
    const pages = new LedgerPages({ file: await ledgerOf(3), anchorPublished: false }, 2000, 10);
    const html = await pages.sent(new URL('http://x/sent'));
    expect(ids(html)).toEqual(['u3', 'u2', 'u1']);
    expect(html).not.toContain('data-field="pager"');
  });
});
