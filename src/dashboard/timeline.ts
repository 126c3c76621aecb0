import { esc } from './http.js';
import type { Outcome, UploadRow } from './uploads.js';

/** The colours of the timeline and its legend (the README explains them). */
export const OUTCOME_COLOURS: Record<Outcome, string> = {
  sent: '#2e7d32',
  aborted: '#e0a100',
  failed: '#c62828',
};

const DAY_MS = 86_400_000;
const WIDTH = 960;
const LABEL = 92;
const ROW = 56;
const TOP = 22;
const PLOT = WIDTH - LABEL - 24;
/** Vertical offsets of the lanes in a day's row. */
const LANES = [0, -11, 11];

/** Radius of an upload's mark: grows with the square root of its length, 3 to 15 px. */
export function markRadius(durationMs: number): number {
  return Math.min(15, 3 + 2.2 * Math.sqrt(Math.max(0, durationMs) / 1000));
}

function mark(row: UploadRow, x: number, y: number): string {
  const r = markRadius(row.durationMs);
  const fill = OUTCOME_COLOURS[row.outcome];
  // The outline tells the receipt: solid dark when the cloud's signature was verified,
  // dashed when signed but not checked (no key), none without a receipt.
  const ring =
    row.receipt === 'verified'
      ? ' stroke="#1d2330" stroke-width="2.5"'
      : row.receipt === 'signed, not checked'
        ? ' stroke="#1d2330" stroke-width="2" stroke-dasharray="3 2"'
        : row.receipt === 'does not verify'
          ? ' stroke="#c62828" stroke-width="3" stroke-dasharray="1 2"'
          : '';
  const title = `${new Date(row.start).toLocaleString('en-GB')}: ${(row.durationMs / 1000).toFixed(1)} s, ${row.outcome}; ${row.retention}; receipt ${row.receipt}`;
  const data = `data-upload="${esc(row.id)}" data-outcome="${row.outcome}" class="mark"`;
  // A circle when the cloud was asked not to keep the recording; a square when it may.
  const shape = row.mayStore
    ? `<rect x="${(x - r).toFixed(1)}" y="${(y - r).toFixed(1)}" width="${(2 * r).toFixed(1)}" height="${(2 * r).toFixed(1)}" fill="${fill}" fill-opacity="0.85"${ring}/>`
    : `<circle cx="${x.toFixed(1)}" cy="${y.toFixed(1)}" r="${r.toFixed(1)}" fill="${fill}" fill-opacity="0.85"${ring}/>`;
  return `<g ${data}><title>${esc(title)}</title>${shape}</g>`;
}

/** Local midnight of the day holding `t`. */
export function dayStart(t: number): number {
  const d = new Date(t);
  d.setHours(0, 0, 0, 0);
  return d.getTime();
}

/**
 * The uploads of `days` (local midnights, oldest first) as an SVG picture: one row per
 * day, the hours across, one mark per upload (see `mark`). Server-rendered: no script,
 * no chart library; a week of uploads is a few kilobytes.
 */
export function timelineSvg(rows: readonly UploadRow[], days: readonly number[]): string {
  const height = TOP + ROW * days.length + 8;
  const parts: string[] = [];
  for (let h = 0; h <= 24; h += 3) {
    const x = LABEL + (PLOT * h) / 24;
    parts.push(
      `<line x1="${x}" y1="${TOP - 4}" x2="${x}" y2="${height - 8}" stroke="#d9dde4"/>`,
      `<text x="${x}" y="${TOP - 8}" font-size="11" text-anchor="middle" fill="#5b6372">${String(h).padStart(2, '0')}:00</text>`,
    );
  }
  days.forEach((start, i) => {
    const y = TOP + ROW * i + ROW / 2;
    const label = new Date(start).toLocaleDateString('en-GB', {
      weekday: 'short',
      day: 'numeric',
      month: 'short',
    });
    parts.push(
      `<line x1="${LABEL}" y1="${y}" x2="${LABEL + PLOT}" y2="${y}" stroke="#eef0f4" stroke-width="2"/>`,
      `<text x="6" y="${y + 4}" font-size="12" fill="#1d2330">${esc(label)}</text>`,
    );
    // Marks that would cover each other (uploads minutes apart) move to a lane above or
    // below; past the last lane they overlap again, still each with its own tooltip.
    const laneEnds = LANES.map(() => -Infinity);
    for (const row of rows) {
      const t = Date.parse(row.start);
      if (t < start || t >= start + DAY_MS) continue;
      const x = LABEL + (PLOT * (t - start)) / DAY_MS;
      const r = markRadius(row.durationMs);
      let lane = laneEnds.findIndex((end) => end < x - r - 1);
      if (lane < 0) lane = 0;
      laneEnds[lane] = x + r;
      parts.push(mark(row, x, y + LANES[lane]!));
    }
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-label="Uploads by time of day">${parts.join('')}</svg>`;
}

/** The legend under the picture: every colour and shape in words. */
export function legend(): string {
  const swatch = (fill: string, shape: 'circle' | 'rect', ring = ''): string =>
    `<svg width="16" height="16" aria-hidden="true">${shape === 'circle' ? `<circle cx="8" cy="8" r="6" fill="${fill}"${ring}/>` : `<rect x="2" y="2" width="12" height="12" fill="${fill}"${ring}/>`}</svg>`;
  return `<div class="legend">
<span>${swatch(OUTCOME_COLOURS.sent, 'circle')} sent</span>
<span>${swatch(OUTCOME_COLOURS.aborted, 'circle')} aborted (cut short, the cloud was told to discard it)</span>
<span>${swatch(OUTCOME_COLOURS.failed, 'circle')} failed (did not get through)</span>
<span>${swatch('#9aa3b2', 'circle')} circle: the cloud was asked not to keep it</span>
<span>${swatch('#9aa3b2', 'rect')} square: the cloud may keep it</span>
<span>${swatch('#fff', 'circle', ' stroke="#1d2330" stroke-width="2.5"')} dark ring: the cloud's signed receipt verified</span>
<span>bigger mark: longer recording</span></div>`;
}
