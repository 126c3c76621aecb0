import { readdirSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * The soak's measurements: memory over simulated time, open descriptors, the
 * listening-LED windows that every upload must fall inside (P2), and failures by
 * cause. Each keeps a bounded amount of state, so measuring does not itself leak.
 */

export const MIB = 2 ** 20;

/** Open file descriptors of this process (sockets, files, pipes). */
export function openFds(): number {
  try {
    // The directory handle used to read it is one of the entries.
    return readdirSync('/proc/self/fd').length - 1;
  } catch {
    return -1;
  }
}

/** Least-squares slope of y over x; 0 with fewer than two distinct x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  let sx = 0;
  let sy = 0;
  for (const [x, y] of points) {
    sx += x;
    sy += y;
  }
  const mx = sx / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const [x, y] of points) {
    num += (x - mx) * (y - my);
    den += (x - mx) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * A full garbage collection on demand, without starting node with --expose-gc: memory
 * measured right after one shows what is still referenced, not what V8 has not yet
 * bothered to collect, so a short run's slope means something.
 */
export function fullGc(): () => void {
  const exposed = (globalThis as { gc?: () => void }).gc;
  if (exposed) return exposed;
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
}

/** RSS and heap against simulated hours; one sample per simulated minute is plenty. */
export class MemoryTrack {
  readonly rss: Array<[number, number]> = [];
  readonly heap: Array<[number, number]> = [];
  /** Every sample with the rest of process.memoryUsage(), for `--samples FILE`. */
  readonly rows: string[] = [
    'hours,rssMiB,heapUsedMiB,heapTotalMiB,externalMiB,arrayBuffersMiB,fds',
  ];

  constructor(private readonly collect?: () => void) {}

  sample(hours: number): void {
    this.collect?.();
    const m = process.memoryUsage();
    this.rss.push([hours, m.rss / MIB]);
    this.heap.push([hours, m.heapUsed / MIB]);
    const mib = (v: number): string => (v / MIB).toFixed(2);
    this.rows.push(
      [hours.toFixed(4), mib(m.rss), mib(m.heapUsed), mib(m.heapTotal), mib(m.external)]
        .concat(mib(m.arrayBuffers), String(openFds()))
        .join(','),
    );
  }

  /** MiB per simulated hour after the warm-up. */
  slopes(warmupHours: number): { rss: number; heap: number; samples: number } {
    const after = <T extends [number, number]>(s: T[]): T[] => s.filter(([h]) => h >= warmupHours);
    const rss = after(this.rss);
    return { rss: slope(rss), heap: slope(after(this.heap)), samples: rss.length };
  }
}

/**
 * When the listening LED was lit, on the device's clock. An upload must open and
 * close inside one such window (an upload closes on the same clock tick as the LED
 * goes off: the machine lights the next state first, then ends the upload).
 */
export class ListeningWindows {
  private readonly closed: Array<[number, number]> = [];
  private openSince: number | undefined;

  constructor(private readonly keep = 64) {}

  led(on: boolean, at: number): void {
    if (on) this.openSince ??= at;
    else if (this.openSince !== undefined) {
      this.closed.push([this.openSince, at]);
      this.openSince = undefined;
      if (this.closed.length > this.keep) this.closed.shift();
    }
  }

  /** True when [openedAt, closedAt] lies inside one lit window (or the one lit now). */
  covers(openedAt: number, closedAt: number): boolean {
    if (this.openSince !== undefined && this.openSince <= openedAt) return true;
    return this.closed.some(([on, off]) => on <= openedAt && closedAt <= off);
  }
}

/** Counts by cause, with a cap on distinct causes (a cause text with ids cannot grow it). */
export class Tally {
  private readonly counts = new Map<string, number>();

  constructor(private readonly maxKeys = 40) {}

  add(cause: string, n = 1): void {
    const key = this.counts.has(cause) || this.counts.size < this.maxKeys ? cause : '(other)';
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
  }

  get total(): number {
    let t = 0;
    for (const v of this.counts.values()) t += v;
    return t;
  }

  toJSON(): Record<string, number> {
    return Object.fromEntries([...this.counts].sort((a, b) => b[1] - a[1]));
  }
}

/** A stable name for a failure reason: `E_LINK_DOWN: connection lost: …` → `E_LINK_DOWN`. */
export function causeName(reason: string): string {
  const code = /^(E_[A-Z_]+)/.exec(reason);
  return code ? code[1]! : reason.split(':')[0]!.trim().slice(0, 60);
}
