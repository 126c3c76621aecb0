import { readFile } from 'node:fs/promises';
import {
  createServer as createHttp,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttps } from 'node:https';
import type { AddressInfo } from 'node:net';
import { isLoopback, type DashboardConfig } from '../config/sections/dashboard.js';
import type {
  DeviceCommand,
  DeviceSnapshot,
  LedState,
  LinkStatus,
} from '../shared/device-status.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { remoteRefusal, type RemotePolicy } from '../shared/remote-policy.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import {
  cookie,
  parseCookies,
  readFormOrRefuse,
  redirect,
  securityHeaders,
  sendHtml,
  sendText,
} from './http.js';
import { LedgerPages, type LedgerSource } from './ledger-pages.js';
import { nowView } from './now.js';
import { layout, notFoundPage, nowContent } from './pages.js';
import { sameToken, Sessions, type Session } from './sessions.js';
import { SESSION_COOKIE, SignIn } from './sign-in.js';
import { LiveStreams } from './live.js';

const PAGES = new Set(['/', '/now', '/sent', '/proof']);

export interface DashboardOptions {
  config: DashboardConfig;
  files: { cert: string; key: string; passwordFile: string };
  deviceName: string;
  policy: RemotePolicy;
  ledger: LedgerSource;
  /** What the Now page shows, read when it changes (`refresh()`). */
  device: {
    snapshot: () => DeviceSnapshot;
    leds: () => LedState[];
    /** The MQTT link, or undefined when MQTT is off. */
    mqtt: () => LinkStatus | undefined;
  };
  log: Logger;
  now?: () => number;
}

export type DashboardEvents = {
  /** A command from the page (only `mute` so far), already checked against the remote policy. */
  command: [DeviceCommand];
  /** The page cannot be served (no certificate, port taken) or is well again. */
  status: [{ code: string; message: string } | undefined];
};

/**
 * The owner's web page, served by the daemon (`dashboard.*`): the device's state live,
 * the uploads from the ledger, and what the ledger proves. Every route but the sign-in
 * page needs a session; every POST needs the session's CSRF token. It serves no files
 * from disk and no audio (there is none on the device: P5).
 */
export class Dashboard extends TypedEmitter<DashboardEvents> {
  readonly name = 'dashboard';
  private server: Server | undefined;
  private secure = false;
  private readonly sessions: Sessions;
  private readonly signIn: SignIn;
  private readonly live: LiveStreams;
  private readonly ledgerPages: LedgerPages;

  constructor(private readonly options: DashboardOptions) {
    super();
    const c = options.config;
    const now = options.now ?? Date.now;
    this.sessions = new Sessions(
      {
        idleMs: c.sessionIdleMinutes * 60_000,
        maxAgeMs: c.sessionMaxHours * 3_600_000,
        maxSessions: c.maxSessions,
      },
      now,
    );
    this.signIn = new SignIn({
      config: c,
      passwordFile: options.files.passwordFile,
      deviceName: options.deviceName,
      sessions: this.sessions,
      log: options.log,
      now,
    });
    this.live = new LiveStreams(
      c.maxLiveStreams,
      () => this.view(),
      (id) => this.sessions.isLive(id),
    );
    this.ledgerPages = new LedgerPages(options.ledger, c.maxRows, c.rowsPerPage);
  }

  /** The address it listens on (after start), e.g. `https://0.0.0.0:8443`. */
  get url(): string | undefined {
    const a = this.server?.address() as AddressInfo | null | undefined;
    if (!a) return undefined;
    const host = a.family === 'IPv6' ? `[${a.address}]` : a.address;
    return `${this.secure ? 'https' : 'http'}://${host}:${a.port}`;
  }

  /**
   * Starts listening. A page that cannot be served does not stop the speaker: the
   * problem is logged and reported (`status`), and the device runs on without it.
   */
  async start(): Promise<void> {
    const { config, files, log } = this.options;
    try {
      const tls = await this.loadTls();
      if (!tls && !isLoopback(config.bind)) {
        throw new EarshotError(
          'E_DASHBOARD_CERT',
          `dashboard.bind ${config.bind} needs HTTPS, and there is no certificate at ${files.cert}`,
        );
      }
      this.secure = Boolean(tls);
      const handler = (req: IncomingMessage, res: ServerResponse): void => {
        this.handle(req, res).catch((err: unknown) => {
          log.warn({ err: errorMessage(err), url: req.url }, 'dashboard request failed');
          if (!res.headersSent) sendText(res, 500, 'internal error');
          else res.destroy();
        });
      };
      const server = tls ? createHttps(tls, handler) : createHttp(handler);
      server.headersTimeout = 10_000;
      server.requestTimeout = 30_000;
      server.maxHeadersCount = 50;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.port, config.bind, () => {
          server.off('error', reject);
          resolve();
        });
      });
      this.server = server;
      log.info({ url: this.url }, 'dashboard listening');
      this.emit('status', undefined);
    } catch (err) {
      const e =
        err instanceof EarshotError
          ? err
          : new EarshotError(
              'E_DASHBOARD_LISTEN',
              `dashboard ${config.bind}:${config.port}: ${errorMessage(err)}`,
            );
      log.error({ code: e.code, err: e.message }, 'dashboard not started');
      this.emit('status', { code: e.code, message: e.message });
    }
  }

  async stop(): Promise<void> {
    this.live.closeAll();
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** Something the Now page shows may have changed: live pages get it (coalesced). */
  refresh(): void {
    this.live.changed();
  }

  private view() {
    const d = this.options.device;
    return nowView(d.snapshot(), d.leds(), d.mqtt(), this.options.policy.allowUnmute);
  }

  private async loadTls(): Promise<{ cert: Buffer; key: Buffer } | undefined> {
    const { files, config } = this.options;
    try {
      return { cert: await readFile(files.cert), key: await readFile(files.key) };
    } catch (err) {
      // Loopback may go without; elsewhere start() refuses with the file named.
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' && config.cert === undefined) {
        return undefined;
      }
      throw new EarshotError('E_DASHBOARD_CERT', `dashboard certificate: ${errorMessage(err)}`);
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    securityHeaders(res, this.secure);
    const method = req.method ?? 'GET';
    if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
      res.setHeader('Allow', 'GET, HEAD, POST');
      return sendText(res, 405, 'method not allowed');
    }
    const raw = req.url ?? '/';
    // Only the routes below exist and no file is ever read from a path: a request that
    // tries to climb out (.., an encoded one, a backslash) is refused before anything.
    if (/\.\.|%2e|%2f|%5c|\\|\0/i.test(raw) || !raw.startsWith('/')) {
      return sendText(res, 400, 'bad path');
    }
    const url = new URL(raw, 'http://dashboard.invalid');
    const path = url.pathname;
    const cookies = parseCookies(req.headers.cookie);
    if (path === '/signin' && method === 'POST' && !this.sameOrigin(req)) {
      return sendText(res, 403, 'cross-site request refused');
    }
    if (path === '/signin')
      return method === 'POST'
        ? this.signIn.post(req, res, cookies, this.secure)
        : this.signIn.form(res, this.secure);

    const session = this.sessions.find(cookies.get(SESSION_COOKIE));
    if (!session) {
      if (method === 'GET' && PAGES.has(path)) return redirect(res, '/signin');
      return sendText(res, 401, 'sign in first');
    }
    if (method === 'POST') {
      const form = await this.checkedForm(req, res, session);
      if (!form) return;
      if (path === '/signout') return this.signOut(res, session);
      if (path === '/mute') return this.mute(res, form);
      return sendText(res, 404, 'not found');
    }
    switch (path) {
      case '/':
        return redirect(res, '/now');
      case '/now':
        return this.nowPage(res, session, url);
      case '/events':
        // A HEAD would hold a stream open that never carries anything.
        if (method !== 'GET') return sendText(res, 405, 'GET only');
        return this.live.open(req, res, session.id);
      case '/sent':
        return sendHtml(
          res,
          200,
          layout(
            'sent',
            this.options.deviceName,
            session.csrf,
            'What was sent',
            await this.ledgerPages.sent(url),
          ),
        );
      case '/export.json':
        return this.ledgerPages.exportJson(res);
      case '/export.csv':
        return this.ledgerPages.exportCsv(res, url);
      case '/proof':
        return sendHtml(
          res,
          200,
          layout(
            'proof',
            this.options.deviceName,
            session.csrf,
            'Proof',
            await this.ledgerPages.proof(this.options.device.snapshot().ledgerHead),
          ),
        );
      default:
        return sendHtml(res, 404, notFoundPage());
    }
  }

  /** The form of a POST, once its origin and CSRF token check out; else refused (403). */
  private async checkedForm(
    req: IncomingMessage,
    res: ServerResponse,
    session: Session,
  ): Promise<URLSearchParams | undefined> {
    if (!this.sameOrigin(req)) {
      sendText(res, 403, 'cross-site request refused');
      return undefined;
    }
    const form = await readFormOrRefuse(req, res, this.options.config.maxBodyBytes);
    if (!form) return undefined;
    if (!sameToken(form.get('csrf') ?? undefined, session.csrf)) {
      sendText(res, 403, 'the form is out of date or forged (CSRF token): reload the page');
      return undefined;
    }
    return form;
  }

  /** A browser names the page a POST comes from: it must be this one (when named). */
  private sameOrigin(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    return (
      origin === undefined ||
      origin === `${this.secure ? 'https' : 'http'}://${req.headers.host ?? ''}`
    );
  }

  private signOut(res: ServerResponse, session: Session): void {
    this.sessions.end(session.id);
    this.live.closeSession(session.id);
    redirect(res, '/signin', {
      'Set-Cookie': cookie(SESSION_COOKIE, '', { secure: this.secure, maxAgeSeconds: 0 }),
    });
  }

  /** Mute (or unmute) through the same rule as an MQTT command (remote.allowUnmute). */
  private mute(res: ServerResponse, form: URLSearchParams): void {
    const muted = form.get('muted');
    if (muted !== 'true' && muted !== 'false')
      return sendText(res, 400, 'muted must be true or false');
    const command: DeviceCommand = { type: 'mute', muted: muted === 'true' };
    const refusal = remoteRefusal(command, this.options.policy);
    if (refusal) return redirect(res, '/now?refused=unmute');
    this.emit('command', command);
    redirect(res, '/now');
  }

  private nowPage(res: ServerResponse, session: Session, url: URL): void {
    // Only a known refusal is shown: a link cannot put words of its own on the page.
    const refusal =
      url.searchParams.get('refused') === 'unmute'
        ? remoteRefusal({ type: 'mute', muted: false }, this.options.policy)
        : undefined;
    const notice = refusal ? `Not done: ${refusal}` : undefined;
    sendHtml(
      res,
      200,
      layout(
        'now',
        this.options.deviceName,
        session.csrf,
        'Now',
        nowContent(this.view(), session.csrf, notice),
      ),
    );
  }
}
