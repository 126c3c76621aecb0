import type { KeyObject } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ServerResponse } from 'node:http';
import { exportDocument } from '../privacy/export.js';
import { verifyLedger, type VerifyResult } from '../privacy/verify.js';
import { download, esc } from './http.js';
import { proofContent } from './proof.js';
import { dayStart, legend, timelineSvg } from './timeline.js';
import { filterRows, uploadRows, uploadsCsv, type Outcome, type RowFilter } from './uploads.js';

/** Where the pages read the ledger from, and what they check it with. */
export interface LedgerSource {
  file: string;
  /** The cloud's receipt key (`cloud.receiptKey`), to verify receipts. */
  receiptKey?: KeyObject;
  /** Whether the head is published (MQTT): then it is an anchor outside the device. */
  anchorPublished: boolean;
}

const DAY_MS = 86_400_000;
/** How long a verified ledger stays in memory after the last page that used it. */
const CACHE_MS = 120_000;
const OUTCOMES = ['all', 'sent', 'aborted', 'failed'] as const;

interface Filters extends RowFilter {
  range: 'day' | 'week';
  day: string;
  days: number[];
}

function isoDay(t: number): string {
  const d = new Date(t);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** The page's filters from the query; anything unknown falls back to the default. */
export function parseFilters(url: URL, now = Date.now()): Filters {
  const q = url.searchParams;
  const range = q.get('range') === 'week' ? 'week' : 'day';
  const outcomeParam = q.get('outcome');
  const outcome = (OUTCOMES as readonly string[]).includes(outcomeParam ?? '')
    ? (outcomeParam as Outcome | 'all')
    : 'all';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(q.get('day') ?? '');
  const picked = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3])).getTime() : NaN;
  const last = Number.isNaN(picked) ? dayStart(now) : dayStart(picked);
  const count = range === 'week' ? 7 : 1;
  // Days start at local midnight; a day across a clock change is still one row.
  const days = Array.from({ length: count }, (_, i) =>
    dayStart(last - (count - 1 - i) * DAY_MS + DAY_MS / 2),
  );
  return {
    range,
    outcome,
    day: isoDay(last),
    days,
    from: days[0]!,
    to: dayStart(last + DAY_MS + DAY_MS / 2),
  };
}

/** Links to the newer and older pages of the table, keeping the view's filters. */
function pager(query: string, page: number, pages: number): string {
  if (pages === 1) return '';
  const link = (to: number, label: string, rel: string): string =>
    `<a class="button plain" rel="${rel}" href="/sent?${esc(query)}&amp;page=${to}">${label}</a>`;
  return `<nav class="pager" data-field="pager">${page > 1 ? link(page - 1, 'Newer', 'prev') : ''}<span>Page ${page} of ${pages}</span>${page < pages ? link(page + 1, 'Older', 'next') : ''}</nav>`;
}

/**
 * The pages built from the ledger: what was sent (picture, table, exports) and the
 * proof. The ledger is read and verified once per change of the file, not per request.
 */
export class LedgerPages {
  private cache: { key: string; result: VerifyResult } | undefined;
  private forget: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: LedgerSource,
    private readonly maxRows: number,
    private readonly rowsPerPage = 100,
  ) {}

  private async verified(): Promise<VerifyResult> {
    let key = 'missing';
    try {
      const st = await stat(this.source.file);
      key = `${st.size}:${st.mtimeMs}`;
    } catch {
      // No ledger yet: verify says so.
    }
    const result =
      this.cache?.key === key ? this.cache.result : await verifyLedger(this.source.file);
    this.cache = { key, result };
    // A verified ledger in memory can be megabytes: kept only while someone is looking.
    clearTimeout(this.forget);
    this.forget = setTimeout(() => (this.cache = undefined), CACHE_MS);
    this.forget.unref();
    return result;
  }

  async sent(url: URL): Promise<string> {
    const f = parseFilters(url);
    const result = await this.verified();
    const rows = filterRows(uploadRows(result.entries, this.source.receiptKey), f);
    const shown = rows.slice(-this.maxRows);
    const query = new URLSearchParams({
      range: f.range,
      day: f.day,
      outcome: f.outcome,
    }).toString();
    const option = (value: string, label: string, current: string): string =>
      `<option value="${value}"${value === current ? ' selected' : ''}>${label}</option>`;
    const warning = result.ok
      ? ''
      : `<p class="notice error">The ledger does not verify (${esc(result.problem?.message ?? '')}): see Proof. Uploads after the break are not shown.</p>`;
    // The table pages through the view, newest first; the picture keeps all of it.
    const pages = Math.max(1, Math.ceil(shown.length / this.rowsPerPage));
    const page = Math.min(
      pages,
      Math.max(1, Number.parseInt(url.searchParams.get('page') ?? '', 10) || 1),
    );
    const newestFirst = shown.slice().reverse();
    const table = newestFirst
      .slice((page - 1) * this.rowsPerPage, page * this.rowsPerPage)
      .map(
        (r) =>
          `<tr data-upload="${esc(r.id)}"><td>${esc(new Date(r.start).toLocaleString('en-GB'))}</td><td>${(r.durationMs / 1000).toFixed(1)} s</td><td>${r.bytes}</td><td>${esc(r.trigger)}</td><td>${esc(r.destination || '-')}</td><td>${esc(r.outcome)}${r.outcome === 'sent' ? '' : ` (${esc(r.reason)})`}</td><td>${esc(r.acknowledgement)}</td><td>${esc(r.retention)}</td><td>${esc(r.receipt)}</td></tr>`,
      )
      .join('');
    const totals = (['sent', 'aborted', 'failed'] as const)
      .map((o) => `${rows.filter((r) => r.outcome === o).length} ${o}`)
      .join(', ');
    return `${warning}<form class="filters" method="get" action="/sent">
<div><label for="range">Show</label><select id="range" name="range">${option('day', 'one day', f.range)}${option('week', 'a week', f.range)}</select></div>
<div><label for="day">Up to the day</label><input id="day" name="day" type="date" value="${f.day}"></div>
<div><label for="outcome">Outcome</label><select id="outcome" name="outcome">${OUTCOMES.map((o) => option(o, o === 'all' ? 'all' : o, f.outcome)).join('')}</select></div>
<button type="submit">Show</button>
<a class="button plain" href="/export.json" download>Export JSON</a>
<a class="button plain" href="/export.csv?${esc(query)}" download>Export CSV</a></form>
<div class="timeline">${timelineSvg(shown, f.days)}</div>${legend()}
<p class="sub" data-field="totals">${rows.length} upload(s) in this view: ${totals}.${rows.length > shown.length ? ` The newest ${shown.length} are shown.` : ''}</p>
<div class="table-wrap"><table><thead><tr><th>Time</th><th>Length</th><th>Bytes</th><th>Trigger</th><th>Destination</th><th>Outcome</th><th>Acknowledgement</th><th>Retention</th><th>Receipt</th></tr></thead>
<tbody>${table || '<tr><td colspan="9">No uploads in this view.</td></tr>'}</tbody></table></div>${pager(query, page, pages)}`;
  }

  /** The whole ledger, exactly as `earshot ledger export` prints it. */
  async exportJson(res: ServerResponse): Promise<void> {
    const doc = exportDocument(this.source.file, await this.verified());
    download(
      res,
      'application/json; charset=utf-8',
      'ledger.json',
      `${JSON.stringify(doc, null, 2)}\n`,
    );
  }

  /** The uploads of the page's view (its filters), one row each. */
  async exportCsv(res: ServerResponse, url: URL): Promise<void> {
    const f = parseFilters(url);
    const all = url.searchParams.has('day') ? false : true;
    const rows = uploadRows((await this.verified()).entries, this.source.receiptKey);
    download(
      res,
      'text/csv; charset=utf-8',
      'uploads.csv',
      uploadsCsv(all ? rows : filterRows(rows, f)),
    );
  }

  async proof(head: { seq: number; hash: string } | undefined): Promise<string> {
    return proofContent(await this.verified(), this.source, head);
  }
}
