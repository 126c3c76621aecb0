import { spawn } from 'node:child_process';
import type { Clock } from '../shared/clock.js';
import { RealClock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';

/**
 * The service manager's notify protocol (sd_notify(3)) for `earshot run` under
 * `Type=notify`: READY=1 once the daemon is up, STATUS=… for `systemctl status`,
 * WATCHDOG=1 keep-alives and STOPPING=1.
 *
 * How the datagrams travel: the protocol is one AF_UNIX SOCK_DGRAM datagram per
 * message, and Node.js has no AF_UNIX datagram sockets (`dgram` is UDP only). The npm
 * packages that add them (`sd-notify`, `unix-dgram`) are native addons that need a
 * compiler and headers on the Pi. So each message is handed to `systemd-notify`
 * (Debian's `systemd` package, always present where systemd runs us), which also
 * handles abstract sockets (`@name`) and, since systemd 246, waits until the manager
 * has read the message (sd_notify_barrier), so the message is attributed to our unit
 * even though the sender is a short-lived child. The unit therefore needs
 * `NotifyAccess=all`: the sender is not the main process.
 *
 * At most one `systemd-notify` runs at a time; messages queue behind it, and a watchdog
 * ping is never queued twice. A failed send is logged and never thrown: the daemon must
 * not stop because the service manager could not be told something.
 */
export interface NotifyEnv {
  /** Path of the manager's socket, or `@name` for an abstract one. Unset: not under systemd. */
  NOTIFY_SOCKET?: string | undefined;
  /** Watchdog interval in microseconds (WatchdogSec=). Unset: no watchdog. */
  WATCHDOG_USEC?: string | undefined;
  /** The PID the watchdog is meant for; another PID's watchdog is not ours. */
  WATCHDOG_PID?: string | undefined;
}

export interface NotifierOptions {
  /** The sending program; `systemd-notify` from PATH by default. */
  command?: string;
  /** Our PID, compared with WATCHDOG_PID (default: process.pid). */
  pid?: number;
  /** Longest queue of unsent messages; beyond it new STATUS updates are dropped. */
  maxQueue?: number;
}

/** One datagram: its `KEY=value` lines. */
type Message = string[];

export class SystemdNotifier {
  /** False when not started by systemd (NOTIFY_SOCKET unset): every method is a no-op. */
  readonly enabled: boolean;
  /** The watchdog interval in ms, or undefined when there is no watchdog for us. */
  readonly watchdogMs: number | undefined;

  private readonly socket: string | undefined;
  private readonly command: string;
  private readonly maxQueue: number;
  private readonly queue: Message[] = [];
  private sending: Promise<void> | undefined;
  private lastPing: number | undefined;
  private lastStatus: string | undefined;
  private broken = false;

  constructor(
    env: NotifyEnv,
    private readonly log: Logger,
    private readonly clock: Clock = new RealClock(),
    options: NotifierOptions = {},
  ) {
    const socket = env.NOTIFY_SOCKET?.trim();
    this.socket = socket ? socket : undefined;
    this.enabled = this.socket !== undefined;
    this.command = options.command ?? 'systemd-notify';
    this.maxQueue = options.maxQueue ?? 16;
    this.watchdogMs = this.enabled
      ? watchdogInterval(env, options.pid ?? process.pid, log)
      : undefined;
  }

  /**
   * The notifier for this process, from its environment. Like sd_notify(unset_environment),
   * it then removes NOTIFY_SOCKET and WATCHDOG_* from process.env, so the programs the
   * daemon starts (arecord, aplay) neither inherit nor act on them; the notifier passes
   * the socket to its own sender explicitly.
   */
  static fromProcess(log: Logger, clock?: Clock, options?: NotifierOptions): SystemdNotifier {
    const env = process.env;
    const notifier = new SystemdNotifier(
      {
        NOTIFY_SOCKET: env.NOTIFY_SOCKET,
        WATCHDOG_USEC: env.WATCHDOG_USEC,
        WATCHDOG_PID: env.WATCHDOG_PID,
      },
      log,
      clock,
      options,
    );
    delete env.NOTIFY_SOCKET;
    delete env.WATCHDOG_USEC;
    delete env.WATCHDOG_PID;
    return notifier;
  }

  /** True when WATCHDOG=1 pings are expected from us. */
  get watchdogEnabled(): boolean {
    return this.watchdogMs !== undefined;
  }

  /** Start-up is complete; with a status text, both travel in one datagram. */
  ready(status?: string): void {
    this.enqueue(['READY=1', ...this.withStatus(status)]);
  }

  /** One line for `systemctl status earshot` (newlines become spaces); repeats are not sent. */
  status(text: string): void {
    const line = statusAssignment(text);
    if (line === this.lastStatus) return;
    this.enqueue(this.withStatus(text));
  }

  /**
   * A keep-alive for `WatchdogSec=`. Call it as often as you like from the loop whose
   * liveness it proves (the audio loop's heartbeat): it sends at most one ping per half
   * watchdog interval, and nothing when there is no watchdog. Returns true when this
   * call sent (queued) a ping.
   */
  watchdogPing(): boolean {
    if (!this.enabled || this.watchdogMs === undefined || this.broken) return false;
    const now = this.clock.now();
    if (this.lastPing !== undefined && now - this.lastPing < this.watchdogMs / 2) return false;
    this.lastPing = now;
    // A ping still waiting in the queue says the same thing; do not queue a second one.
    if (this.queue.some((m) => m.length === 1 && m[0] === 'WATCHDOG=1')) return true;
    this.enqueue(['WATCHDOG=1']);
    return true;
  }

  /** The daemon is shutting down (shown as "deactivating" until it exits). */
  stopping(status?: string): void {
    this.enqueue(['STOPPING=1', ...this.withStatus(status)]);
  }

  /** Resolves once every queued message has been handed over (or has failed). */
  async flush(): Promise<void> {
    while (this.sending) await this.sending;
  }

  private withStatus(text: string | undefined): string[] {
    if (text === undefined || !this.enabled) return [];
    this.lastStatus = statusAssignment(text);
    return [this.lastStatus];
  }

  private enqueue(message: Message): void {
    if (!this.enabled || this.broken) return;
    // Only plain STATUS updates may be dropped (a later one replaces them anyway);
    // READY, STOPPING and watchdog pings always go out.
    const isStatusOnly = message.length === 1 && message[0]!.startsWith('STATUS=');
    if (this.queue.length >= this.maxQueue && isStatusOnly) {
      this.log.debug({ queued: this.queue.length }, 'systemd notify queue full: status dropped');
      this.lastStatus = undefined; // not sent, so the same text must not count as a repeat
      return;
    }
    this.queue.push(message);
    if (!this.sending) this.sending = this.drain();
  }

  private async drain(): Promise<void> {
    try {
      for (let next = this.queue.shift(); next; next = this.queue.shift()) {
        await this.send(next);
      }
    } finally {
      this.sending = undefined;
    }
  }

  private send(message: Message): Promise<void> {
    return new Promise((resolve) => {
      let stderr = '';
      // Each KEY=value is its own argument: no shell, so status text needs no quoting.
      const child = spawn(this.command, message, {
        env: { NOTIFY_SOCKET: this.socket, PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (chunk: string) => {
        if (stderr.length < 1000) stderr += chunk;
      });
      let failed = false;
      child.once('error', (err: NodeJS.ErrnoException) => {
        failed = true;
        if (err.code === 'ENOENT') {
          // Without the program nothing can be sent: say so once, then stay quiet.
          this.broken = true;
          this.queue.length = 0;
          this.log.warn(
            { command: this.command },
            'systemd-notify not found: readiness and watchdog cannot be reported',
          );
        } else {
          this.log.warn({ err, message: message[0] }, 'systemd notify failed');
        }
        resolve();
      });
      child.once('close', (code) => {
        // After a failed spawn 'close' may follow 'error': that failure is logged already.
        if (!failed && code !== 0 && code !== null) {
          this.log.warn(
            { code, message: message[0], stderr: stderr.trim() },
            'systemd notify failed',
          );
        }
        resolve();
      });
    });
  }
}

function statusAssignment(text: string): string {
  // The protocol is newline-separated: a newline in the text would start a new key.
  return `STATUS=${text.replace(/[\r\n]+/g, ' ').trim()}`;
}

/** Same rules as sd_watchdog_enabled(3). */
function watchdogInterval(env: NotifyEnv, pid: number, log: Logger): number | undefined {
  const usecText = env.WATCHDOG_USEC?.trim();
  if (!usecText) return undefined;
  const usec = Number(usecText);
  if (!Number.isSafeInteger(usec) || usec <= 0) {
    log.warn({ WATCHDOG_USEC: usecText }, 'ignoring invalid WATCHDOG_USEC');
    return undefined;
  }
  const pidText = env.WATCHDOG_PID?.trim();
  if (pidText && Number(pidText) !== pid) return undefined;
  return usec / 1000;
}
