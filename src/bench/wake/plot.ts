import type { SweepPoint } from './sweep.js';

/**
 * A small, dependency-free SVG of the sweep: detection rate (y) against false accepts per
 * hour (x), one point per threshold, the configured threshold ringed in red. The x axis
 * is log(1 + x), so that 0, 0.3 and 30 false accepts an hour all stay readable.
 */
const W = 640;
const H = 420;
const M = { left: 64, right: 24, top: 40, bottom: 56 };

export interface PlotInput {
  points: readonly SweepPoint[];
  configured: number;
  title: string;
}

export function renderPlot(input: PlotInput): string {
  const pts = input.points;
  const maxFa = Math.max(1, ...pts.map((p) => p.falseAcceptsPerHour));
  const xTicks = [0, 0.3, 1, 3, 10, 30, 100, 300, 1000].filter((t) => t <= maxFa * 1.001);
  if (xTicks[xTicks.length - 1]! < maxFa) xTicks.push(ceil2(maxFa));
  const minRate = Math.min(0.9, ...pts.map((p) => p.detectionRate));
  const yLow = Math.floor(minRate * 20) / 20;
  const x = (fa: number) =>
    M.left + (Math.log1p(fa) / Math.log1p(xTicks[xTicks.length - 1]!)) * (W - M.left - M.right);
  const y = (rate: number) => H - M.bottom - ((rate - yLow) / (1 - yLow)) * (H - M.top - M.bottom);

  const parts: string[] = [];
  parts.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="22" text-anchor="middle" font-size="14">${escape(input.title)}</text>`,
  );
  for (const t of xTicks) {
    parts.push(
      `<line x1="${f(x(t))}" y1="${M.top}" x2="${f(x(t))}" y2="${H - M.bottom}" stroke="#ddd"/>`,
      `<text x="${f(x(t))}" y="${H - M.bottom + 16}" text-anchor="middle">${t}</text>`,
    );
  }
  for (let r = yLow; r <= 1.0001; r += (1 - yLow) / 5) {
    parts.push(
      `<line x1="${M.left}" y1="${f(y(r))}" x2="${W - M.right}" y2="${f(y(r))}" stroke="#ddd"/>`,
      `<text x="${M.left - 6}" y="${f(y(r) + 4)}" text-anchor="end">${(r * 100).toFixed(1)}%</text>`,
    );
  }
  parts.push(
    `<text x="${W / 2}" y="${H - 14}" text-anchor="middle">false accepts per hour</text>`,
    `<text transform="translate(16 ${H / 2}) rotate(-90)" text-anchor="middle">detection rate</text>`,
  );
  const line = pts.map((p) => `${f(x(p.falseAcceptsPerHour))},${f(y(p.detectionRate))}`).join(' ');
  parts.push(`<polyline points="${line}" fill="none" stroke="#1f5fbf" stroke-width="2"/>`);
  for (const p of pts) {
    const cx = f(x(p.falseAcceptsPerHour));
    const cy = f(y(p.detectionRate));
    parts.push(
      `<circle cx="${cx}" cy="${cy}" r="3" fill="#1f5fbf"><title>threshold ${p.threshold}: ${(p.detectionRate * 100).toFixed(1)}%, ${p.falseAcceptsPerHour.toFixed(2)}/h</title></circle>`,
      `<text x="${f(x(p.falseAcceptsPerHour) + 5)}" y="${f(y(p.detectionRate) - 5)}" font-size="9" fill="#555">${p.threshold}</text>`,
    );
  }
  const mine = pts.find((p) => p.threshold === input.configured);
  if (mine) {
    const cx = f(x(mine.falseAcceptsPerHour));
    const cy = f(y(mine.detectionRate));
    parts.push(
      `<circle cx="${cx}" cy="${cy}" r="8" fill="none" stroke="#d02020" stroke-width="2"/>`,
      `<text x="${f(x(mine.falseAcceptsPerHour) + 12)}" y="${f(y(mine.detectionRate) + 16)}" fill="#d02020">configured ${mine.threshold}</text>`,
    );
  }
  parts.push('</svg>', '');
  return parts.join('\n');
}

/** Rounds up to two significant digits (3.025 → 3.1), so the axis ends past the data. */
function ceil2(n: number): number {
  const step = 10 ** (Math.floor(Math.log10(n)) - 1);
  return Number((Math.ceil(n / step) * step).toPrecision(2));
}

function f(n: number): string {
  return n.toFixed(1);
}

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
