import { spawnSync } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/load.js';
import type { Config } from '../../../src/config/schema.js';
import { Dashboard, dashboardFiles } from '../../../src/dashboard/index.js';
import { StatusBook } from '../../../src/device/status-book.js';
import type { DeviceCommand } from '../../../src/shared/device-status.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { cookieValue, rawRequest, setPassword, signIn } from '../../helpers/dashboard.js';
import { cliPath, fixture, repoRoot, tempDir } from '../../helpers/paths.js';
import { cleanEnv, runDoctor } from '../../helpers/run-cli.js';
import { runSimulate } from '../../helpers/simulate.js';

/**
 * The page's defences, over real HTTPS (the self-signed certificate `earshot dashboard
 * cert` makes, trusted by the test as the owner would after comparing fingerprints) and
 * a second instance over HTTP: anonymous requests, forged CSRF tokens, other origins,
 * path traversal, a session cookie from the other instance, requests for audio, bodies
 * over the limit, and a bind off loopback without a certificate. The ledger is a real
 * `earshot simulate` run's.
 */
const PASSWORD = 'a long enough password';
const tmp = tempDir('earshot-dashboard-sec-');
const ledger = join(tmp.dir, 'ledger.jsonl');
let a: Dashboard;
let b: Dashboard;
let aUrl: string;
let bUrl: string;
let ca: Buffer;
const commands: DeviceCommand[] = [];

function settings(name: string, extra: string[] = []): string[] {
  return [
    `device.stateDir=${join(tmp.dir, name)}`,
    `privacy.ledger=${ledger}`,
    'dashboard.enabled=true',
    'dashboard.bind=127.0.0.1',
    'dashboard.port=0',
    'dashboard.maxBodyBytes=1024',
    ...extra,
  ];
}

function cli(args: string[]): string {
  const r = spawnSync(process.execPath, [cliPath, ...args], {
    cwd: repoRoot,
    env: cleanEnv(),
    encoding: 'utf8',
  });
  if (r.status !== 0) throw new Error(`${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

function dashboard(config: Config, ledgerFile = ledger): Dashboard {
  const status = new StatusBook(true, () => 50, silentLogger());
  const d = new Dashboard({
    config: config.dashboard,
    files: dashboardFiles(config),
    deviceName: 'Test speaker',
    policy: config.remote,
    ledger: { file: ledgerFile, anchorPublished: false },
    device: { snapshot: () => status.snapshot(), leds: () => [], mqtt: () => undefined },
    log: silentLogger(),
  });
  d.on('command', (c) => commands.push(c));
  return d;
}

const setArgs = (s: string[]): string[] => s.flatMap((x) => ['--set', x]);

beforeAll(async () => {
  const run = await runSimulate(['--wav', fixture('alexa-what-time.wav'), '--ledger', ledger]);
  expect(run.code).toBe(0);
  for (const name of ['a', 'b']) setPassword(setArgs(settings(name)), PASSWORD);
  const out = cli(['dashboard', 'cert', '--name', 'localhost', ...setArgs(settings('a'))]);
  const configA = loadConfig({ overrides: settings('a') });
  const certFile = dashboardFiles(configA).cert;
  ca = readFileSync(certFile);
  // What the command prints is the certificate's own fingerprint.
  expect(out).toContain(new X509Certificate(ca).fingerprint256);
  a = dashboard(configA);
  b = dashboard(loadConfig({ overrides: settings('b') }));
  await a.start();
  await b.start();
  aUrl = a.url!;
  bUrl = b.url!;
}, 60_000);

afterAll(async () => {
  await a?.stop();
  await b?.stop();
  tmp.cleanup();
});

const ROUTES: Array<[string, string]> = [
  ['GET', '/'],
  ['GET', '/now'],
  ['GET', '/events'],
  ['GET', '/sent'],
  ['GET', '/sent?range=week'],
  ['GET', '/proof'],
  ['GET', '/export.json'],
  ['GET', '/export.csv'],
  ['GET', '/nowhere'],
  ['POST', '/mute'],
  ['POST', '/signout'],
];

describe("the owner's page refuses", () => {
  it('serves HTTPS with the self-signed certificate, and only HTTP on loopback without one', () => {
    expect(aUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(bUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('every route without a session', async () => {
    const entries = readFileSync(ledger, 'utf8');
    const id = /"id":"([^"]+)"/.exec(entries)![1]!;
    for (const [method, path] of ROUTES) {
      const r = await rawRequest(aUrl, path, {
        method,
        ca,
        ...(method === 'POST' ? { body: 'csrf=x&muted=true' } : {}),
      });
      expect([303, 401], `${method} ${path}`).toContain(r.status);
      if (r.status === 303) expect(r.headers.location).toBe('/signin');
      expect(r.body.toString()).not.toContain(id);
    }
    expect(commands).toEqual([]);
  });

  it('sets the session cookie HttpOnly, Secure and SameSite=Strict over HTTPS', async () => {
    const s = await signIn(aUrl, PASSWORD, ca);
    const line = s.setCookie.find((c) => c.startsWith('earshot_session='))!;
    expect(line).toMatch(/HttpOnly/);
    expect(line).toMatch(/Secure/);
    expect(line).toMatch(/SameSite=Strict/);
  });

  it('a POST with a forged, missing or other session’s CSRF token, or from another origin', async () => {
    const s = await signIn(aUrl, PASSWORD, ca);
    const other = await signIn(aUrl, PASSWORD, ca);
    const post = (body: string, headers: Record<string, string> = {}) =>
      rawRequest(aUrl, '/mute', {
        method: 'POST',
        body,
        ca,
        headers: { Cookie: s.cookie, ...headers },
      });
    expect((await post('muted=true')).status).toBe(403);
    expect((await post('muted=true&csrf=forged')).status).toBe(403);
    expect((await post(`muted=true&csrf=${other.csrf}`)).status).toBe(403);
    const origin = await post(`muted=true&csrf=${s.csrf}`, { Origin: 'https://evil.example' });
    expect(origin.status).toBe(403);
    expect(commands).toEqual([]);
    // The same request with the right token does mute.
    const ok = await post(`muted=true&csrf=${s.csrf}`);
    expect(ok.status).toBe(303);
    expect(commands).toEqual([{ type: 'mute', muted: true }]);
    // Unmuting from afar is off by default: refused, nothing sent to the device.
    const unmute = await post(`muted=false&csrf=${s.csrf}`);
    expect(unmute.headers.location).toBe('/now?refused=unmute');
    expect(commands).toHaveLength(1);
    commands.length = 0;
  });

  it('a sign-in without its form token', async () => {
    const r = await rawRequest(aUrl, '/signin', {
      method: 'POST',
      ca,
      body: new URLSearchParams({ password: PASSWORD }).toString(),
    });
    expect(r.status).toBe(403);
    expect(cookieValue(r.headers, 'earshot_session')).toBeUndefined();
  });

  it('path traversal', async () => {
    const s = await signIn(aUrl, PASSWORD, ca);
    const paths = [
      '/../../etc/passwd',
      '/%2e%2e/%2e%2e/etc/passwd',
      '/now/..%2f..%2fledger.jsonl',
      '/export.json/../../ledger.jsonl',
      '/..\\..\\etc\\passwd',
      '/%252e%252e/etc/passwd',
      `/${ledger}`,
      '/ledger.jsonl',
      '/dashboard-password',
    ];
    for (const path of paths) {
      const r = await rawRequest(aUrl, path, { ca, headers: { Cookie: s.cookie } });
      expect([400, 404], path).toContain(r.status);
      const body = r.body.toString();
      expect(body, path).not.toMatch(/root:|"prev":|scrypt\$/);
    }
  });

  it('a session cookie from another instance', async () => {
    const fromB = await signIn(bUrl, PASSWORD);
    for (const path of ['/now', '/export.json', '/events']) {
      const r = await rawRequest(aUrl, path, { ca, headers: { Cookie: fromB.cookie } });
      expect([303, 401], path).toContain(r.status);
    }
    const post = await rawRequest(aUrl, '/mute', {
      method: 'POST',
      ca,
      body: `muted=true&csrf=${fromB.csrf}`,
      headers: { Cookie: fromB.cookie },
    });
    expect(post.status).toBe(401);
    expect(commands).toEqual([]);
  });

  it('every request for audio: there is none to serve (P5)', async () => {
    const s = await signIn(aUrl, PASSWORD, ca);
    const id = /"id":"([^"]+)"/.exec(readFileSync(ledger, 'utf8'))![1]!;
    const asked = [
      '/audio',
      `/audio/${id}`,
      `/audio/${id}.wav`,
      `/recordings/${id}.wav`,
      `/sent/${id}.wav`,
      `/export.wav`,
      `/sent?id=${id}&format=wav`,
    ];
    const seen: string[] = [];
    for (const path of asked) {
      const r = await rawRequest(aUrl, path, {
        ca,
        headers: { Cookie: s.cookie, Accept: 'audio/*' },
      });
      seen.push(`${path} ${r.status} ${String(r.headers['content-type'])}`);
      expect(String(r.headers['content-type'])).not.toMatch(/^audio\//);
      expect(r.body.subarray(0, 4).toString('latin1')).not.toBe('RIFF');
    }
    // And no page links to anything but the pages and the two exports.
    const links = new Set<string>();
    for (const page of ['/now', '/sent?range=week', '/proof']) {
      const html = (
        await rawRequest(aUrl, page, { ca, headers: { Cookie: s.cookie } })
      ).body.toString();
      for (const m of html.matchAll(/(?:href|src|action)="([^"]+)"/g))
        links.add(m[1]!.split('?')[0]!);
    }
    expect([...links].sort()).toEqual(
      [
        '/export.csv',
        '/export.json',
        '/mute',
        '/now',
        '/proof',
        '/sent',
        '/signout',
        'data:,',
      ].sort(),
    );
    for (const link of links) {
      if (link.startsWith('data:') || link === '/mute' || link === '/signout') continue;
      const r = await rawRequest(aUrl, link, { ca, headers: { Cookie: s.cookie } });
      expect(String(r.headers['content-type']), link).toMatch(
        /^(text\/html|application\/json|text\/csv|text\/event-stream)/,
      );
    }
    expect(seen).toHaveLength(asked.length);
  });

  it('a body over dashboard.maxBodyBytes', async () => {
    const s = await signIn(aUrl, PASSWORD, ca);
    const r = await rawRequest(aUrl, '/mute', {
      method: 'POST',
      ca,
      body: `muted=true&csrf=${s.csrf}&pad=${'x'.repeat(2048)}`,
      headers: { Cookie: s.cookie },
    });
    expect(r.status).toBe(413);
    expect(commands).toEqual([]);
  });

  it('to start off loopback without a certificate, and says why', async () => {
    const config = loadConfig({ overrides: settings('c', ['dashboard.bind=0.0.0.0']) });
    const c = dashboard(config);
    const problems: Array<{ code: string } | undefined> = [];
    c.on('status', (p) => problems.push(p));
    await c.start();
    expect(c.url).toBeUndefined();
    expect(problems[0]?.code).toBe('E_DASHBOARD_CERT');
    await c.stop();
    // A certificate named in the config and missing is refused on loopback too.
    const missing = join(tmp.dir, 'none.crt');
    const d = dashboard(
      loadConfig({
        overrides: settings('d', [`dashboard.cert=${missing}`, `dashboard.key=${missing}`]),
      }),
    );
    d.on('status', (p) => problems.push(p));
    await d.start();
    expect(d.url).toBeUndefined();
    expect(problems[1]?.code).toBe('E_DASHBOARD_CERT');
    await d.stop();
  });
});

describe('earshot doctor', () => {
  it('shows the URL and the certificate fingerprint of the page when it is on', async () => {
    const fingerprint = new X509Certificate(ca).fingerprint256;
    const on = await runDoctor([
      '--timeout',
      '2',
      ...setArgs(settings('a', ['dashboard.bind=0.0.0.0', 'dashboard.port=8443'])),
    ]);
    const check = on.check('dashboard');
    expect(check.status).toBe('pass');
    expect(check.detail).toMatch(/^https:\/\/[^ ]+\.local:8443\//);
    expect(check.detail).toContain(`SHA-256 ${fingerprint} (self-signed)`);
    const noCert = await runDoctor([
      '--timeout',
      '2',
      ...setArgs(settings('c', ['dashboard.bind=0.0.0.0'])),
    ]);
    expect(noCert.check('dashboard')).toMatchObject({
      status: 'fail',
      hint: expect.stringContaining('earshot dashboard cert'),
    });
    const off = await runDoctor([
      '--timeout',
      '2',
      '--set',
      `device.stateDir=${join(tmp.dir, 'a')}`,
    ]);
    expect(off.check('dashboard').status).toBe('skip');
  }, 60_000);
});

describe('the Proof page', () => {
  it('says in words that an edited record does not hold, and where it breaks', async () => {
    const edited = join(tmp.dir, 'edited.jsonl');
    const lines = readFileSync(ledger, 'utf8').split('\n');
    lines[0] = lines[0]!.replace(/"bytes":(\d+)/, (_, n: string) => `"bytes":${Number(n) - 1}`);
    writeFileSync(edited, lines.join('\n'));
    const d = dashboard(loadConfig({ overrides: settings('b') }), edited);
    await d.start();
    try {
      const s = await signIn(d.url!, PASSWORD);
      const html = (
        await rawRequest(d.url!, '/proof', { headers: { Cookie: s.cookie } })
      ).body.toString();
      expect(html).toContain('The record does not hold');
      expect(html).toMatch(
        /The chain breaks at .*edited\.jsonl line 2: chain broken at entry 2: the line before it was changed/,
      );
      const sent = (
        await rawRequest(d.url!, '/sent', { headers: { Cookie: s.cookie } })
      ).body.toString();
      expect(sent).toContain('The ledger does not verify');
    } finally {
      await d.stop();
    }
  });
});
