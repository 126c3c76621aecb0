import type { IncomingMessage, ServerResponse } from 'node:http';
import type { DashboardConfig } from '../config/sections/dashboard.js';
import type { Logger } from '../shared/logger.js';
import { cookie, readFormOrRefuse, redirect, sendHtml } from './http.js';
import { signInPage } from './pages.js';
import { checkPassword, readPasswordHash } from './password.js';
import { newToken, sameToken, Sessions, SignInLimiter } from './sessions.js';

export const SESSION_COOKIE = 'earshot_session';
const SIGNIN_COOKIE = 'earshot_signin';

export interface SignInOptions {
  config: DashboardConfig;
  passwordFile: string;
  deviceName: string;
  sessions: Sessions;
  log: Logger;
  now: () => number;
}

/**
 * The one page open to everyone: the sign-in form, the password check (scrypt, one at a
 * time) and the lock-out after repeated failures from one address.
 */
export class SignIn {
  private readonly limiter: SignInLimiter;
  private checking = false;

  constructor(private readonly options: SignInOptions) {
    const c = options.config;
    this.limiter = new SignInLimiter(
      {
        maxFailures: c.maxFailedSignIns,
        windowMs: c.failureWindowMinutes * 60_000,
        lockoutMs: c.lockoutMinutes * 60_000,
        maxTracked: c.maxTrackedAddresses,
      },
      options.now,
    );
  }

  form(
    res: ServerResponse,
    secure: boolean,
    message?: { text: string; error: boolean },
    status = 200,
  ): void {
    // Before a session there is no session token: the sign-in form's token is the
    // double-submit kind (a cookie and the same value in the form).
    const token = newToken();
    res.setHeader('Set-Cookie', cookie(SIGNIN_COOKIE, token, { secure }));
    sendHtml(res, status, signInPage(this.options.deviceName, token, message));
  }

  async post(
    req: IncomingMessage,
    res: ServerResponse,
    cookies: Map<string, string>,
    secure: boolean,
  ): Promise<void> {
    const address = req.socket.remoteAddress ?? 'unknown';
    const refuse = (text: string, status: number): void =>
      this.form(res, secure, { text, error: true }, status);
    const form = await readFormOrRefuse(req, res, this.options.config.maxBodyBytes);
    if (!form) return;
    if (!sameToken(form.get('csrf') ?? undefined, cookies.get(SIGNIN_COOKIE))) {
      return refuse('The form was out of date: try again.', 403);
    }
    const wait = this.limiter.waitMs(address);
    if (wait > 0) {
      return refuse(
        `Too many failed attempts: try again in ${Math.ceil(wait / 60_000)} minute(s).`,
        429,
      );
    }
    const stored = await readPasswordHash(this.options.passwordFile);
    if (!stored) {
      return refuse(
        'No password is set yet: run `earshot dashboard password` on the speaker.',
        403,
      );
    }
    // One check at a time: scrypt is meant to be slow, and a Pi Zero has four cores.
    if (this.checking) return refuse('Busy: try again.', 429);
    this.checking = true;
    let ok: boolean;
    try {
      ok = await checkPassword(form.get('password') ?? '', stored);
    } finally {
      this.checking = false;
    }
    if (!ok) {
      this.limiter.failed(address);
      this.options.log.warn({ address }, 'dashboard: wrong password');
      const locked = this.limiter.waitMs(address) > 0;
      return refuse(
        locked
          ? `Wrong password. Too many failed attempts: try again in ${this.options.config.lockoutMinutes} minute(s).`
          : 'Wrong password.',
        locked ? 429 : 401,
      );
    }
    this.limiter.succeeded(address);
    const session = this.options.sessions.create();
    this.options.log.info({ address }, 'dashboard: signed in');
    redirect(res, '/now', {
      'Set-Cookie': [
        cookie(SESSION_COOKIE, session.id, { secure }),
        cookie(SIGNIN_COOKIE, '', { secure, maxAgeSeconds: 0 }),
      ],
    });
  }
}
