import { spawnSync } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { chromium, type Browser } from 'playwright-core';
import { cliPath, repoRoot } from './paths.js';
import { cleanEnv } from './run-cli.js';

/** Debian's chromium (scripts/setup.sh installs it): no browser is downloaded. */
export const CHROMIUM = '/usr/bin/chromium';

export function launchChromium(): Promise<Browser> {
  // As root (CI containers) chromium refuses to start with its sandbox.
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

/** `earshot dashboard password --stdin` as the owner would run it. */
export function setPassword(args: string[], password: string): string {
  const r = spawnSync(process.execPath, [cliPath, 'dashboard', 'password', '--stdin', ...args], {
    cwd: repoRoot,
    env: cleanEnv(),
    input: `${password}\n`,
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`dashboard password failed: ${r.stderr}`);
  return r.stdout;
}

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * One request with the path sent exactly as given (fetch would normalise `..` away),
 * over HTTP or HTTPS (trusting `ca`).
 */
export function rawRequest(
  base: string,
  path: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; ca?: Buffer } = {},
): Promise<RawResponse> {
  const url = new URL(base);
  const secure = url.protocol === 'https:';
  const send = secure ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      {
        host: url.hostname,
        port: url.port,
        path,
        method: options.method ?? 'GET',
        headers: {
          ...(options.body !== undefined
            ? {
                'Content-Type': 'application/x-www-form-urlencoded',
                'Content-Length': String(Buffer.byteLength(options.body)),
              }
            : {}),
          ...options.headers,
        },
        ...(secure ? { ca: options.ca, servername: 'localhost' } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        // An event stream never ends: its first bytes are enough.
        const isStream = String(res.headers['content-type']).startsWith('text/event-stream');
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          if (isStream) res.destroy();
        });
        const done = (): void =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks),
          });
        res.on('end', done);
        res.on('close', done);
      },
    );
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** The value of a cookie in a Set-Cookie header list. */
export function cookieValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  for (const line of headers['set-cookie'] ?? []) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (m) return m[1];
  }
  return undefined;
}

/** Signs in over plain requests; returns the session cookie and the page's CSRF token. */
export async function signIn(
  base: string,
  password: string,
  ca?: Buffer,
): Promise<{ cookie: string; csrf: string; setCookie: string[] }> {
  const form = await rawRequest(base, '/signin', { ...(ca ? { ca } : {}) });
  const pre = cookieValue(form.headers, 'earshot_signin');
  const token = /name="csrf" value="([^"]+)"/.exec(form.body.toString())?.[1];
  if (!pre || !token) throw new Error('no sign-in form');
  const r = await rawRequest(base, '/signin', {
    method: 'POST',
    body: new URLSearchParams({ csrf: token, password }).toString(),
    headers: { Cookie: `earshot_signin=${pre}` },
    ...(ca ? { ca } : {}),
  });
  const session = cookieValue(r.headers, 'earshot_session');
  if (r.status !== 303 || !session)
    throw new Error(`sign-in failed: ${r.status} ${r.body.toString()}`);
  const cookie = `earshot_session=${session}`;
  const now = await rawRequest(base, '/now', {
    headers: { Cookie: cookie },
    ...(ca ? { ca } : {}),
  });
  const csrf = /name="csrf" value="([^"]+)"/.exec(now.body.toString())?.[1];
  if (!csrf) throw new Error('no CSRF token on the Now page');
  return { cookie, csrf, setCookie: r.headers['set-cookie'] ?? [] };
}
