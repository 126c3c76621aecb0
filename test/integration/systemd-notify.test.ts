import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pino, type Logger } from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { SystemdNotifier, type NotifyEnv } from '../../src/service/systemd-notify.js';
import { statusLine } from '../../src/service/status-line.js';
import { ManualClock } from '../../src/shared/clock.js';
import type { DeviceSnapshot } from '../../src/shared/device-status.js';
import { tempDir } from '../helpers/paths.js';

// The notifier against a real datagram socket: a small Python listener plays the
// service manager (binds AF_UNIX SOCK_DGRAM, reads each datagram, closes the barrier
// fd that systemd-notify sends after every message, as PID 1 does) and reports every
// datagram as a JSON line. The real `systemd-notify` does the sending.
const LISTENER = `
import array, json, os, socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({'ready': True}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64))
    fds = array.array('i')
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    text = data.decode()
    print(json.dumps({'text': text}), flush=True)
    for fd in fds:
        os.close(fd)
`;

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
const tmp = tempDir('earshot-notify-');
afterAll(() => tmp.cleanup());

class Listener {
  /** Every datagram except the BARRIER=1 ones, in arrival order. */
  readonly messages: string[] = [];
  private barriers = 0;
  private waiters: Array<() => void> = [];

  private constructor(
    readonly address: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(address: string): Promise<Listener> {
    const child = spawn(python, ['-c', LISTENER, address], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const listener = new Listener(address, child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`listener exited ${code}: ${stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; text?: string };
        if (msg.ready) resolve();
        else listener.receive(msg.text ?? '');
      });
    });
    return listener;
  }

  private receive(text: string): void {
    if (text === 'BARRIER=1') this.barriers += 1;
    else this.messages.push(text);
    for (const w of this.waiters.splice(0)) w();
  }

  /** Waits until `n` systemd-notify runs have completed (each ends with a barrier). */
  async untilSends(n: number): Promise<void> {
    while (this.barriers < n) await new Promise<void>((r) => this.waiters.push(r));
  }

  stop(): void {
    this.child.kill();
  }
}

function capturingLogger(): { log: Logger; lines: () => Array<Record<string, unknown>> } {
  const out: string[] = [];
  const log = pino({ level: 'debug' }, { write: (s: string) => void out.push(s) });
  return { log, lines: () => out.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

let listener: Listener | undefined;
afterEach(() => {
  listener?.stop();
  listener = undefined;
});

async function listen(address = join(tmp.dir, `notify-${randomBytes(4).toString('hex')}.sock`)) {
  listener = await Listener.start(address);
  return listener;
}

describe('SystemdNotifier over a real notify socket', () => {
  it('sends READY=1 with a status, STATUS updates and STOPPING=1, in order', async () => {
    const l = await listen();
    const n = new SystemdNotifier({ NOTIFY_SOCKET: l.address }, capturingLogger().log);
    expect(n.enabled).toBe(true);
    n.ready('idle');
    n.status('idle'); // unchanged: not sent again
    n.status('listening\nsecond line');
    n.status('listening second line');
    n.stopping();
    await n.flush();
    await l.untilSends(3);
    expect(l.messages).toEqual([
      'READY=1\nSTATUS=idle',
      'STATUS=listening second line',
      'STOPPING=1',
    ]);
  });

  it('fromProcess takes the variables out of process.env, so child programs do not see them', async () => {
    const l = await listen();
    const keys = ['NOTIFY_SOCKET', 'WATCHDOG_USEC', 'WATCHDOG_PID'] as const;
    const saved = keys.map((k) => process.env[k]);
    try {
      process.env.NOTIFY_SOCKET = l.address;
      process.env.WATCHDOG_USEC = '20000000';
      process.env.WATCHDOG_PID = String(process.pid);
      const n = SystemdNotifier.fromProcess(capturingLogger().log, new ManualClock());
      expect(process.env.NOTIFY_SOCKET).toBeUndefined();
      expect(process.env.WATCHDOG_USEC).toBeUndefined();
      expect(process.env.WATCHDOG_PID).toBeUndefined();
      expect(n.watchdogMs).toBe(20_000);
      expect(n.watchdogPing()).toBe(true);
      await n.flush();
      await l.untilSends(1);
      expect(l.messages).toEqual(['WATCHDOG=1']);
    } finally {
      keys.forEach((k, i) => {
        if (saved[i] === undefined) delete process.env[k];
        else process.env[k] = saved[i];
      });
    }
  });

  it('reaches an abstract socket (NOTIFY_SOCKET=@name)', async () => {
    const l = await listen(`@earshot-test-${randomBytes(6).toString('hex')}`);
    const n = new SystemdNotifier({ NOTIFY_SOCKET: l.address }, capturingLogger().log);
    n.ready();
    await n.flush();
    await l.untilSends(1);
    expect(l.messages).toEqual(['READY=1']);
  });

  it('paces WATCHDOG=1 to half the watchdog interval, on the injected clock', async () => {
    const l = await listen();
    const clock = new ManualClock();
    const env: NotifyEnv = { NOTIFY_SOCKET: l.address, WATCHDOG_USEC: '10000000' };
    const n = new SystemdNotifier(env, capturingLogger().log, clock);
    expect(n.watchdogMs).toBe(10_000);
    const sent: boolean[] = [];
    for (const t of [0, 80, 4999, 5000, 9000, 9999, 10_000, 14_999]) {
      clock.advanceTo(t);
      sent.push(n.watchdogPing());
      await n.flush();
    }
    expect(sent).toEqual([true, false, false, true, false, false, true, false]);
    await l.untilSends(3);
    expect(l.messages).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
  });

  it('never queues a second ping behind one that is still waiting', async () => {
    const l = await listen();
    const clock = new ManualClock();
    const env = { NOTIFY_SOCKET: l.address, WATCHDOG_USEC: '2000000' };
    const n = new SystemdNotifier(env, capturingLogger().log, clock);
    n.status('busy'); // occupies the sender, so the pings below wait in the queue
    clock.advanceTo(1000);
    expect(n.watchdogPing()).toBe(true);
    clock.advanceTo(2000);
    expect(n.watchdogPing()).toBe(true); // due, but the queued ping already says it
    await n.flush();
    await l.untilSends(2);
    expect(l.messages).toEqual(['STATUS=busy', 'WATCHDOG=1']);
  });

  it('sends no ping without WATCHDOG_USEC, or when the watchdog is for another PID', async () => {
    const l = await listen();
    const clock = new ManualClock();
    const none = new SystemdNotifier({ NOTIFY_SOCKET: l.address }, capturingLogger().log, clock);
    const other = new SystemdNotifier(
      { NOTIFY_SOCKET: l.address, WATCHDOG_USEC: '20000000', WATCHDOG_PID: '1' },
      capturingLogger().log,
      clock,
      { pid: 4242 },
    );
    expect(none.watchdogEnabled).toBe(false);
    expect(other.watchdogEnabled).toBe(false);
    none.ready();
    for (const t of [0, 30_000, 60_000]) {
      clock.advanceTo(t);
      expect(none.watchdogPing()).toBe(false);
      expect(other.watchdogPing()).toBe(false);
    }
    await other.flush();
    none.stopping();
    await none.flush();
    await l.untilSends(2);
    expect(l.messages).toEqual(['READY=1', 'STOPPING=1']);
  });

  it('does nothing at all when NOTIFY_SOCKET is unset', async () => {
    const marker = join(tmp.dir, 'spawned');
    const spy = join(tmp.dir, 'notify-spy.sh');
    writeFileSync(spy, `#!/bin/sh\ntouch '${marker}'\n`);
    chmodSync(spy, 0o755);
    const clock = new ManualClock();
    const env = { WATCHDOG_USEC: '1000000' };
    const n = new SystemdNotifier(env, capturingLogger().log, clock, { command: spy });
    expect(n.enabled).toBe(false);
    expect(n.watchdogEnabled).toBe(false);
    n.ready('idle');
    n.status('x');
    expect(n.watchdogPing()).toBe(false);
    n.stopping();
    await n.flush();
    expect(existsSync(marker)).toBe(false);

    // The same spy does run when the socket is set: the check above can fail.
    const on = new SystemdNotifier(
      { NOTIFY_SOCKET: '/nonexistent' },
      capturingLogger().log,
      clock,
      {
        command: spy,
      },
    );
    on.ready();
    await on.flush();
    expect(existsSync(marker)).toBe(true);
  });

  it('logs a failed send and goes on (no socket listening there)', async () => {
    const { log, lines } = capturingLogger();
    const n = new SystemdNotifier({ NOTIFY_SOCKET: join(tmp.dir, 'nobody.sock') }, log);
    n.ready();
    n.status('still running');
    await n.flush();
    const warnings = lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]!.msg).toBe('systemd notify failed');
  });

  it('warns once and stops trying when systemd-notify is missing', async () => {
    const { log, lines } = capturingLogger();
    const n = new SystemdNotifier({ NOTIFY_SOCKET: '/run/systemd/notify' }, log, undefined, {
      command: join(tmp.dir, 'no-such-program'),
    });
    n.ready();
    n.status('a');
    await n.flush();
    n.status('b');
    await n.flush();
    const warnings = lines().filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(String(warnings[0]!.msg)).toMatch(/not found/);
  });
});

describe('statusLine', () => {
  const base: DeviceSnapshot = {
    state: 'idle',
    muted: false,
    volume: 50,
    link: { status: 'up' },
    counters: { wakes: 3, uploads: 2, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
    dontSaveRecordings: true,
    problems: [],
  };

  it('names the state, the link and the counters on one line', () => {
    expect(statusLine(base)).toBe('idle; cloud up; 3 wakes; 2 uploads');
  });

  it('adds mute, the link cause, failures and problems when there are any', () => {
    const line = statusLine({
      ...base,
      state: 'muted',
      muted: true,
      link: { status: 'down', cause: 'ECONNREFUSED' },
      counters: { ...base.counters, uploadFailures: 1 },
      problems: [{ part: 'gpio', code: 'E_GPIO_SIMULATED', message: 'no pins' }],
    });
    expect(line).toBe(
      'muted; cloud down (ECONNREFUSED); 3 wakes; 2 uploads; 1 failed; problems: gpio E_GPIO_SIMULATED',
    );
    expect(line).not.toContain('\n');
  });
});
