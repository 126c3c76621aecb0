import type { Command } from 'commander';
import type { LedgerEntry } from '../../privacy/entry.js';
import { ledgerPath } from '../../privacy/ledger-path.js';
import { verifyLedger, type VerifyResult } from '../../privacy/verify.js';
import { EarshotError } from '../../shared/errors.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface LedgerFlags extends ConfigOptions {
  ledger?: string;
  json?: boolean;
  since?: string;
}

function withLedger(cmd: Command): Command {
  return addConfigOptions(
    cmd.option(
      '--ledger <file>',
      'the ledger file (default: privacy.ledger or <stateDir>/ledger.jsonl)',
    ),
  );
}

function fileOf(flags: LedgerFlags): string {
  return flags.ledger ?? ledgerPath(configFromOptions(flags));
}

/** `--since 2026-11-01`, `--since 2026-11-01T08:00Z`, or a duration back from now: `24h`, `7d`, `30m`. */
export function parseSince(value: string, now = Date.now()): number {
  const rel = /^(\d+)\s*([smhd])$/.exec(value.trim());
  if (rel) {
    const unit = { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[rel[2] as 's' | 'm' | 'h' | 'd'];
    return now - Number(rel[1]) * unit;
  }
  const t = Date.parse(value);
  if (Number.isNaN(t)) {
    throw new EarshotError(
      'E_USAGE',
      `--since ${value}: expected a date (2026-11-01, ISO 8601) or a duration (30m, 24h, 7d)`,
    );
  }
  return t;
}

export function registerLedger(program: Command): void {
  const ledger = program
    .command('ledger')
    .description('the local record of every upload (show, verify, export)');

  withLedger(
    ledger
      .command('show')
      .description('list uploads (a table; --json for one object per line)')
      .option('--since <when>', 'only entries since a date or a duration back (24h, 7d)')
      .option('--json', 'one JSON object per line'),
  ).action(async (flags: LedgerFlags) => {
    const result = await verifyLedger(fileOf(flags));
    const since = flags.since ? parseSince(flags.since) : undefined;
    const entries = result.entries.filter(
      (e) => since === undefined || Date.parse(e.time) >= since,
    );
    if (flags.json) {
      for (const e of entries) process.stdout.write(`${JSON.stringify(e)}\n`);
    } else {
      process.stdout.write(table(entries));
    }
    reportProblems(result);
  });

  withLedger(
    ledger
      .command('verify')
      .description('check the hash chain; exit 1 and name the first bad line'),
  ).action(async (flags: LedgerFlags) => {
    const file = fileOf(flags);
    const result = await verifyLedger(file);
    reportProblems(result);
    if (result.ok) {
      const uploads = result.entries.filter((e) => e.type === 'utterance').length;
      process.stdout.write(
        `${file}: ok, ${result.entries.length} entries (${uploads} utterances) in ${result.files.length} file(s)\n`,
      );
    } else {
      process.exitCode = 1;
    }
  });

  withLedger(
    ledger
      .command('export')
      .description('print the whole ledger as one JSON document, with its verification'),
  ).action(async (flags: LedgerFlags) => {
    const file = fileOf(flags);
    const result = await verifyLedger(file);
    const doc = {
      ledger: file,
      exportedAt: new Date().toISOString(),
      verified: result.ok,
      ...(result.problem ? { problem: result.problem } : {}),
      warnings: result.warnings,
      entries: result.entries,
    };
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    if (!result.ok) process.exitCode = 1;
  });
}

function reportProblems(result: VerifyResult): void {
  for (const w of result.warnings)
    process.stderr.write(`warning: ${w.file}:${w.line}: ${w.message}\n`);
  const p = result.problem;
  if (p)
    process.stderr.write(
      `ledger verification FAILED: ${p.file}:${p.line}: ${p.kind}: ${p.message}\n`,
    );
}

function table(entries: LedgerEntry[]): string {
  const acks = new Map<string, boolean>();
  const failures = new Map<string, string>();
  for (const e of entries) {
    if (e.type === 'ack') acks.set(e.id, e.stored);
    if (e.type === 'failure') failures.set(e.id, e.code);
  }
  const rows = [['time', 'trigger', 'seconds', 'bytes', 'outcome', 'saved by cloud', 'sha256']];
  for (const e of entries) {
    if (e.type !== 'utterance') continue;
    const trig =
      e.trigger.kind === 'wake'
        ? `wake ${e.trigger.keyword ?? ''} ${e.trigger.score?.toFixed(2) ?? ''}`.trim()
        : e.trigger.kind;
    const ack = acks.get(e.id);
    rows.push([
      e.start.replace('T', ' ').slice(0, 19),
      trig,
      (e.durationMs / 1000).toFixed(1),
      String(e.bytes),
      e.outcome !== 'sent'
        ? `${e.outcome} (${e.reason})`
        : failures.has(e.id)
          ? `sent, no answer (${failures.get(e.id)})`
          : 'sent',
      ack !== undefined
        ? ack
          ? 'yes'
          : 'no'
        : e.destination?.retentionSent === false
          ? `not asked (${e.destination.protocol})`
          : '-',
      e.sha256.slice(0, 12),
    ]);
  }
  if (rows.length === 1) return 'no uploads recorded\n';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return (
    rows
      .map((r) =>
        r
          .map((cell, c) => cell.padEnd(widths[c]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
