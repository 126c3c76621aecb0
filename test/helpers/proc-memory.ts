import { readFileSync } from 'node:fs';

/**
 * Memory of another process (the daemon, the reference cloud) from /proc/PID/status:
 * what the kernel says it holds, not what it says about itself. MiB, one decimal.
 */
export function rssMiB(pid: number): number {
  return statusField(pid, 'VmRSS');
}

/** The process's high-water mark of resident memory since it started. */
export function peakRssMiB(pid: number): number {
  return statusField(pid, 'VmHWM');
}

function statusField(pid: number, field: string): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = Number(new RegExp(`${field}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
  return Math.round((kib / 1024) * 10) / 10;
}

/**
 * Samples a process's RSS every `everyMs` until stopped; `max` is the largest sample.
 * Between samples the process may peak higher: VmHWM catches that, but it also holds
 * the start-up peak (model loading), so both are reported.
 */
export class RssSampler {
  readonly samples: number[] = [];
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly pid: number,
    everyMs = 100,
  ) {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
  }

  get first(): number {
    return this.samples[0] ?? NaN;
  }

  get max(): number {
    return Math.max(...this.samples);
  }

  stop(): { first: number; max: number; samples: number } {
    clearInterval(this.timer);
    this.sample();
    return { first: this.first, max: this.max, samples: this.samples.length };
  }

  private sample(): void {
    try {
      this.samples.push(rssMiB(this.pid));
    } catch {
      // exited
    }
  }
}
