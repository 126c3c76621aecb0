import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * The service manager's end of sd_notify(3) for tests of `earshot run`: a small Python
 * listener binds an AF_UNIX datagram socket (NOTIFY_SOCKET), reads every datagram,
 * closes the barrier fd `systemd-notify` passes along (as PID 1 does, so the sender
 * does not wait for it) and reports each message as a JSON line.
 */
const LISTENER = `
import array, json, os, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print(json.dumps({'ready': True}), flush=True)
while True:
    data, anc, _flags, _addr = s.recvmsg(65536, socket.CMSG_SPACE(64))
    fds = array.array('i')
    for level, kind, payload in anc:
        if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
            fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
    print(json.dumps({'text': data.decode()}), flush=True)
    for fd in fds:
        os.close(fd)
`;

const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

export interface NotifyMessage {
  /** When the listener reported it (ms since the epoch). */
  at: number;
  /** The KEY=value lines of one datagram. */
  lines: string[];
}

export class NotifyListener {
  /** Every datagram except the BARRIER=1 ones, in arrival order. */
  readonly messages: NotifyMessage[] = [];

  private constructor(
    readonly socket: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(socket: string): Promise<NotifyListener> {
    const child = spawn(python, ['-c', LISTENER, socket], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const listener = new NotifyListener(socket, child);
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`notify listener exited ${code}: ${stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; text?: string };
        if (msg.ready) resolve();
        else if (msg.text !== 'BARRIER=1') {
          listener.messages.push({ at: Date.now(), lines: (msg.text ?? '').split('\n') });
        }
      });
    });
    return listener;
  }

  /** Every line with that key (`READY`, `STATUS`, `WATCHDOG`…), values only. */
  values(key: string): string[] {
    const prefix = `${key}=`;
    return this.messages.flatMap((m) =>
      m.lines.filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length)),
    );
  }

  /** Messages with a line `KEY=…` received at or after `since`. */
  since(key: string, since: number): NotifyMessage[] {
    return this.messages.filter(
      (m) => m.at >= since && m.lines.some((l) => l.startsWith(`${key}=`)),
    );
  }

  /** Waits for a message (already received or still to come) with a matching line. */
  async waitFor(
    match: (line: string) => boolean,
    what: string,
    options: { after?: number; timeoutMs?: number } = {},
  ): Promise<NotifyMessage> {
    const deadline = Date.now() + (options.timeoutMs ?? 20_000);
    for (;;) {
      const found = this.messages.find((m) => m.at >= (options.after ?? 0) && m.lines.some(match));
      if (found) return found;
      if (Date.now() > deadline) {
        const seen = this.messages.map((m) => m.lines.join('|')).join('\n  ');
        throw new Error(`no notify message ${what}; received:\n  ${seen}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  stop(): void {
    this.child.kill();
  }
}
