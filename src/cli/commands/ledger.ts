import type { Command } from 'commander';
import type { LedgerEntry } from '../../privacy/entry.js';
import { ledgerPath } from '../../privacy/ledger-path.js';
import { readFile } from 'node:fs/promises';
import type { Config } from '../../config/schema.js';
import { readPublishedHead } from '../../mqtt/index.js';
import {
  checkAnchors,
  checkReceipts,
  parseAnchors,
  type Anchor,
  type ReceiptReport,
} from '../../privacy/proofs.js';
import { exportDocument } from '../../privacy/export.js';
import { verifyLedger, type VerifyResult } from '../../privacy/verify.js';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { loadReceiptPublicKey } from '../../shared/receipt.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface LedgerFlags extends ConfigOptions {
  ledger?: string;
  json?: boolean;
  since?: string;
  receiptKey?: string;
  anchor?: string[];
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
      .description(
        'check the hash chain, the cloud’s signed receipts and published heads; exit 1 and say what broke',
      )
      .option(
        '--receipt-key <file>',
        'the cloud’s Ed25519 public key (PEM) to check receipts with (default: cloud.receiptKey)',
      )
      .option(
        '--anchor <file|mqtt>',
        'heads published outside the device: a file with <seq>:<sha256> lines (e.g. Home Assistant’s history of the Ledger head sensor), or mqtt for the one the broker holds (repeatable)',
        (value: string, previous: string[] = []) => [...previous, value],
      ),
  ).action(async (flags: LedgerFlags) => {
    const config = configFromOptions(flags);
    const file = flags.ledger ?? ledgerPath(config);
    const result = await verifyLedger(file);
    const keyFile = flags.receiptKey ?? config.cloud.receiptKey;
    const key = keyFile ? loadReceiptPublicKey(keyFile) : undefined;
    const receipts = checkReceipts(result.entries, key, file);
    const anchors = await loadAnchors(flags.anchor ?? [], config);
    const problem =
      result.problem ?? receipts.problem ?? checkAnchors(result, anchors) ?? undefined;
    reportProblems({ ...result, ...(problem ? { problem } : {}) });
    if (problem) {
      process.exitCode = 1;
      return;
    }
    const uploads = result.entries.filter((e) => e.type === 'utterance').length;
    const out = (line: string): boolean => process.stdout.write(`${line}\n`);
    out(
      `${file}: ok, ${result.entries.length} entries (${uploads} utterances) in ${result.files.length} file(s): no entry was changed, removed or reordered since it was written, as far as the chain can tell`,
    );
    out(describeReceipts(receipts.report, key !== undefined));
    out(
      anchors.length > 0
        ? `anchors: ${anchors.length} published head(s) checked; the chain still holds each of them, so it was not rewritten after they were published`
        : 'anchors: none given (--anchor); a chain rewritten on this device as a whole would not show',
    );
  });

  withLedger(
    ledger
      .command('export')
      .description('print the whole ledger as one JSON document, with its verification'),
  ).action(async (flags: LedgerFlags) => {
    const doc = exportDocument(fileOf(flags), await verifyLedger(fileOf(flags)));
    process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
    if (!doc.verified) process.exitCode = 1;
  });
}

function describeReceipts(r: ReceiptReport, checked: boolean): string {
  const signed = r.verified + r.unchecked;
  const what = checked
    ? `${r.verified} acknowledgement(s) carry the cloud's signed receipt, each verified against its key`
    : `${r.unchecked} acknowledgement(s) carry a signed receipt, not checked (no --receipt-key)`;
  const missing = r.withoutReceipt.length;
  const list = r.withoutReceipt
    .slice(0, 5)
    .map((u) => `entry ${u.seq} (${u.id})`)
    .join(', ');
  return `receipts: ${signed === 0 && !checked ? 'none' : what}; ${missing} sent utterance(s) without one${missing ? `: ${list}${missing > 5 ? ', …' : ''}` : ''}`;
}

async function loadAnchors(sources: string[], config: Config): Promise<Anchor[]> {
  const anchors: Anchor[] = [];
  for (const source of sources) {
    if (source === 'mqtt') {
      const head = await readPublishedHead(config.mqtt, config.device.id);
      if (head === undefined) {
        throw new EarshotError(
          'E_USAGE',
          'the broker holds no published ledger head for this device',
        );
      }
      anchors.push(...parseAnchors(head));
      continue;
    }
    let text: string;
    try {
      text = await readFile(source, 'utf8');
    } catch (err) {
      throw new EarshotError('E_USAGE', `--anchor ${source}: ${errorMessage(err)}`);
    }
    const found = parseAnchors(text);
    if (found.length === 0) {
      throw new EarshotError('E_USAGE', `--anchor ${source}: no <seq>:<sha256> head in it`);
    }
    anchors.push(...found);
  }
  return anchors;
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
