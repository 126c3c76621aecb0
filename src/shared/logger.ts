import { createRequire } from 'node:module';
import { pino, type Logger, type LevelWithSilent } from 'pino';
import type PinoPretty from 'pino-pretty';

const require = createRequire(import.meta.url);

export type { Logger };

export type LogFormat = 'auto' | 'pretty' | 'json';

export interface LoggerOptions {
  level?: LevelWithSilent;
  format?: LogFormat;
  /** Where log lines go; stderr by default so stdout stays free for `--json` output. */
  fd?: number;
}

/**
 * The root logger. Human-readable on a terminal, one JSON object per line otherwise
 * (under systemd the journal stores the JSON as is). Logs go to stderr so that
 * commands like `earshot simulate --json` keep a clean stdout.
 */
export function createRootLogger(options: LoggerOptions = {}): Logger {
  const fd = options.fd ?? 2;
  const level = options.level ?? 'info';
  const format = options.format ?? 'auto';
  const pretty = format === 'pretty' || (format === 'auto' && isTty(fd));
  if (pretty) {
    // Loaded only for a terminal: the daemon under systemd logs JSON and does not keep
    // pino-pretty and its dependencies in memory (about 0.5 MiB).
    const pinoPretty = require('pino-pretty') as typeof PinoPretty;
    const stream = pinoPretty({
      destination: fd,
      sync: true,
      colorize: isTty(fd),
      translateTime: 'HH:MM:ss.l',
      ignore: 'pid,hostname',
      messageFormat: '[{part}] {msg}',
    });
    return pino({ level, base: {} }, stream);
  }
  return pino({ level, base: {} }, pino.destination({ fd, sync: true }));
}

/** One child logger per part: `audio`, `wake`, `link`, `gpio`, `mqtt`, `device` … */
export function partLogger(root: Logger, part: string): Logger {
  return root.child({ part });
}

/** A logger that drops everything, for unit tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

function isTty(fd: number): boolean {
  if (fd === 1) return Boolean(process.stdout.isTTY);
  if (fd === 2) return Boolean(process.stderr.isTTY);
  return false;
}
