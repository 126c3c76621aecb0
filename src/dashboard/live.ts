import type { IncomingMessage, ServerResponse } from 'node:http';

/** A comment line now and then keeps proxies and phones from closing an idle stream. */
const KEEPALIVE_MS = 25_000;

interface Stream {
  res: ServerResponse;
  session: string;
}

/**
 * The Now page's live updates: server-sent events, one `now` event with the whole view
 * whenever it changes. Changes are coalesced (a burst of state changes is one event) and
 * an unchanged view is not sent again (blinking LEDs do not change the view). Bounded:
 * past `max` streams the oldest is closed.
 */
export class LiveStreams {
  private readonly streams: Stream[] = [];
  private last = '';
  private scheduled = false;
  private keepalive: NodeJS.Timeout | undefined;

  constructor(
    private readonly max: number,
    private readonly view: () => unknown,
    /** Whether a stream's session still lives: one that ended (expired) is closed. */
    private readonly sessionLive: (session: string) => boolean,
  ) {}

  open(req: IncomingMessage, res: ServerResponse, session: string): void {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
    });
    const stream = { res, session };
    this.streams.push(stream);
    while (this.streams.length > this.max) this.close(this.streams[0]!);
    req.on('close', () => this.remove(stream));
    res.write(`retry: 2000\n\n`);
    // The next change is sent to every stream even if it equals what the others last
    // got: this one may have seen a different view in between.
    this.last = '';
    res.write(`event: now\ndata: ${JSON.stringify(this.view())}\n\n`);
    this.keepalive ??= setInterval(() => {
      for (const s of [...this.streams]) {
        if (this.sessionLive(s.session)) s.res.write(': keep-alive\n\n');
        else this.close(s);
      }
    }, KEEPALIVE_MS);
    this.keepalive.unref();
  }

  /** The view may have changed: sent on the next turn, once, if it did. */
  changed(): void {
    if (this.scheduled || this.streams.length === 0) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      const data = JSON.stringify(this.view());
      if (data === this.last) return;
      this.last = data;
      for (const s of [...this.streams]) {
        if (this.sessionLive(s.session)) s.res.write(`event: now\ndata: ${data}\n\n`);
        else this.close(s);
      }
    });
  }

  closeSession(session: string): void {
    for (const s of this.streams.filter((x) => x.session === session)) this.close(s);
  }

  private close(stream: Stream): void {
    stream.res.end();
    this.remove(stream);
  }

  closeAll(): void {
    for (const s of this.streams.splice(0)) s.res.end();
    clearInterval(this.keepalive);
    this.keepalive = undefined;
  }

  private remove(stream: Stream): void {
    const i = this.streams.indexOf(stream);
    if (i >= 0) this.streams.splice(i, 1);
    if (this.streams.length === 0) {
      clearInterval(this.keepalive);
      this.keepalive = undefined;
    }
  }
}
