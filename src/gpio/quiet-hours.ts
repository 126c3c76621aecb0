/**
 * The quiet schedule, `22:00-07:00` in local time: during it only the LEDs that carry
 * a privacy promise (mute, listening) light. Minutes of the day throughout; a range
 * whose end is before its start wraps past midnight.
 */
export interface QuietHours {
  startMin: number;
  endMin: number;
}

/** LEDs that keep their pattern during quiet hours (P1: mute, P2: listening). */
export const ALWAYS_SHOWN_LEDS: ReadonlySet<string> = new Set(['mute', 'listening']);

const DAY_MIN = 24 * 60;

export function parseQuietHours(text: string): QuietHours {
  const m = /^(\d{2}):(\d{2})-(\d{2}):(\d{2})$/.exec(text);
  if (!m) throw new RangeError(`quiet hours: expected HH:MM-HH:MM, got ${text}`);
  const [h1, m1, h2, m2] = m.slice(1).map(Number) as [number, number, number, number];
  if (h1 > 23 || h2 > 23 || m1 > 59 || m2 > 59) {
    throw new RangeError(`quiet hours: not a time of day in ${text}`);
  }
  return { startMin: h1 * 60 + m1, endMin: h2 * 60 + m2 };
}

function minuteOfDay(date: Date): number {
  return date.getHours() * 60 + date.getMinutes();
}

export function isQuiet(q: QuietHours, date: Date): boolean {
  const now = minuteOfDay(date);
  if (q.startMin === q.endMin) return false;
  if (q.startMin < q.endMin) return now >= q.startMin && now < q.endMin;
  return now >= q.startMin || now < q.endMin;
}

/** Milliseconds from `date` until the schedule next starts or ends. */
export function msUntilChange(q: QuietHours, date: Date): number {
  const msIntoDay = (minuteOfDay(date) * 60 + date.getSeconds()) * 1000 + date.getMilliseconds();
  let best = Infinity;
  for (const boundary of [q.startMin, q.endMin]) {
    let delta = boundary * 60_000 - msIntoDay;
    if (delta <= 0) delta += DAY_MIN * 60_000;
    best = Math.min(best, delta);
  }
  return best;
}
