import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCloudServer } from '../../../src/cloud/server.js';
import type { CloudServer } from '../../../src/cloud/index.js';
import type { Runtime } from '../../../src/device/wiring.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { PacedFifoMic } from '../../helpers/alsa-fifo.js';
import { launchChromium, setPassword } from '../../helpers/dashboard.js';
import { cloudConfig, runDevice } from '../../helpers/device-cloud.js';
import { micRuntime } from '../../helpers/mic-runtime.js';
import { eventually, Mosquitto, Probe } from '../../helpers/mosquitto.js';
import { cliPath, fixture, repoRoot, tempDir } from '../../helpers/paths.js';
import { makeCerts, type TestCerts } from '../../helpers/tls-certs.js';

/**
 * The owner's page in a real browser (Debian's chromium, driven by playwright-core)
 * against the whole daemon: the real arecord reading a paced ALSA file PCM, the real
 * wake word, the ledger, MQTT through a real mosquitto. Before it, a run against the
 * reference cloud (which signs its acknowledgements) fills the ledger, so the page has
 * uploads with verified receipts and, from the daemon's own run, uploads without.
 * Only GPIO is simulated (no pins here). Screenshots of every page go to
 * coverage/dashboard/ for a reviewer to look at.
 */
const SHOTS = join(repoRoot, 'coverage', 'dashboard');
const PASSWORD = 'correct horse battery';
const tmp = tempDir('earshot-dashboard-');
const state = join(tmp.dir, 'state');
const ledger = join(tmp.dir, 'ledger.jsonl');
const receiptPublic = join(tmp.dir, 'receipt.pub');
const savedAlsa = process.env.ALSA_CONFIG_PATH;
const base = 'earshot/hall';
let certs: TestCerts;
let cloud: CloudServer;
let broker: Mosquitto;
let probe: Probe;
let mic: PacedFifoMic;
let runtime: Runtime;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let url: string;

const utterances = (): Array<{ id: string; type: string }> =>
  readFileSync(ledger, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; type: string })
    .filter((e) => e.type === 'utterance');

/** The mute button on the speaker (simulated: there are no pins here). */
function pressMute(): void {
  const simulated = runtime.gpio.simulated!;
  simulated.press('mute');
  setTimeout(() => simulated.release('mute'), 120);
}

async function shot(p: Page, name: string): Promise<string> {
  const file = join(SHOTS, `${name}.png`);
  await p.screenshot({ path: file, fullPage: true });
  return file;
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  // A run against the reference cloud, which signs what it received.
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  writeFileSync(receiptPublic, publicKey.export({ type: 'spki', format: 'pem' }));
  certs = makeCerts('hall');
  cloud = await startCloudServer({
    cert: certs.serverCert,
    key: certs.serverKey,
    ca: certs.ca,
    logger: silentLogger(),
    receiptKey: privateKey,
    behaviour: { reply: 'tone' },
  });
  // Two requests; the second is cut short by the mute button (an aborted upload).
  const run = await runDevice(
    fixture('alexa-twice.wav'),
    cloudConfig(certs, cloud, ledger, [`cloud.receiptKey=${receiptPublic}`]),
    {
      presses: [
        { name: 'mute', seconds: 8.9 },
        { name: 'mute', seconds: 10 },
      ],
    },
  );
  expect(run.of('upload').map((u) => u.outcome)).toEqual(['sent', 'aborted']);

  // The daemon, with the page on a free loopback port (plain HTTP is allowed there).
  broker = await Mosquitto.start();
  probe = await Probe.connect(broker.url);
  await probe.subscribe(`${base}/#`);
  mic = new PacedFifoMic(tmp.dir, fixture('alexa-twice.wav'));
  process.env.ALSA_CONFIG_PATH = mic.config;
  mic.start();
  const settings = [
    'device.id=hall',
    'device.name=Hall speaker',
    `device.stateDir=${state}`,
    `mqtt.url=${broker.url}`,
    `privacy.ledger=${ledger}`,
    `cloud.receiptKey=${receiptPublic}`,
    'utterance.noSpeechTimeoutMs=1000',
    'dashboard.enabled=true',
    'dashboard.bind=127.0.0.1',
    'dashboard.port=0',
    'dashboard.maxFailedSignIns=3',
  ];
  setPassword(
    settings.flatMap((s) => ['--set', s]),
    PASSWORD,
  );
  runtime = micRuntime(settings);
  await runtime.start();
  url = runtime.dashboard!.url!;
  browser = await launchChromium();
  context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await runtime?.stop();
  mic?.stop();
  await probe?.close();
  await broker?.stop();
  await cloud?.close();
  certs?.cleanup();
  if (savedAlsa === undefined) delete process.env.ALSA_CONFIG_PATH;
  else process.env.ALSA_CONFIG_PATH = savedAlsa;
  tmp.cleanup();
});

describe("the owner's page in a browser", () => {
  it('refuses a wrong password and lets the right one in', async () => {
    await page.goto(`${url}/now`);
    expect(new URL(page.url()).pathname).toBe('/signin');
    await page.fill('#password', 'not the password');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Wrong password');
    await shot(page, 'signin-wrong-password');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${url}/now`);
    expect(await page.textContent('h1')).toBe('Now');
    const cookie = (await context.cookies()).find((c) => c.name === 'earshot_session');
    expect(cookie?.httpOnly).toBe(true);
    expect(cookie?.sameSite).toBe('Strict');
  });

  it('Now changes live when MQTT mutes the device, and the physical button unmutes it', async () => {
    // A request of the daemon's own run first, so the page has seen the device work.
    await eventually(() => (utterances().length >= 3 ? true : undefined), 'an upload', 30_000);
    await eventually(() => (runtime.device.state === 'idle' ? true : undefined), 'idle', 20_000);
    const loads: string[] = [];
    page.on('load', () => loads.push(page.url()));
    await probe.publish(`${base}/mute/set`, 'ON');
    await page.waitForSelector('#now[data-state="muted"]', { timeout: 10_000 });
    expect(await page.textContent('[data-field=state]')).toContain('Muted');
    expect(await page.isVisible('#unmute-note')).toBe(true);
    expect(await page.isVisible('#mute-form')).toBe(false);
    expect(await page.getAttribute('[data-led=mute]', 'data-pattern')).toBe('solid');
    expect(loads).toEqual([]); // live, not reloaded
    await shot(page, 'now-muted');

    // The page cannot unmute (remote.allowUnmute is off); the button on the speaker can.
    pressMute();
    await page.waitForSelector('#now:not([data-state="muted"])', { timeout: 10_000 });
    expect(await page.isVisible('#mute-form')).toBe(true);
    await shot(page, 'now');
  });

  it("the page's Mute button mutes the device through the command path", async () => {
    await page.click('#mute-form button');
    await page.waitForSelector('#now[data-state="muted"]', { timeout: 10_000 });
    expect(runtime.status.snapshot().muted).toBe(true);
    await eventually(
      () => (probe.on(`${base}/mute`).at(-1)?.payload === 'ON' ? true : undefined),
      'mute published over MQTT',
    );
    // Unmuted again at the speaker: the paced microphone blocks while nobody reads it.
    pressMute();
    await page.waitForSelector('#now:not([data-state="muted"])', { timeout: 10_000 });
  });

  it('the timeline shows the uploads of the runs', async () => {
    await page.click('a[href="/sent"]');
    await page.waitForSelector('.timeline svg');
    const ids = utterances().map((u) => u.id);
    const marks = await page.$$eval('.timeline g.mark', (gs) =>
      gs.map((g) => g.getAttribute('data-upload')),
    );
    expect(marks.sort()).toEqual([...ids].sort());
    const rows = await page.$$eval('tbody tr[data-upload]', (trs) =>
      trs.map((t) => t.getAttribute('data-upload')),
    );
    expect(rows.sort()).toEqual([...ids].sort());
    // The reference cloud's uploads carry a verified receipt (a dark ring); the stand-in's none.
    const receipts = await page.$$eval('tbody tr[data-upload] td:last-child', (tds) =>
      tds.map((t) => t.textContent),
    );
    expect(receipts).toContain('verified');
    expect(receipts).toContain('none');
    expect(
      await page.$$eval('.timeline g.mark', (gs) => gs.map((g) => g.getAttribute('data-outcome'))),
    ).toEqual(expect.arrayContaining(['sent', 'aborted']));
    await shot(page, 'sent');
    // The picture alone, for the README (docs/dashboard-timeline.png is a copy of it).
    await page.locator('.timeline').screenshot({ path: join(SHOTS, 'timeline.png') });

    await page.selectOption('#outcome', 'aborted');
    await page.click('form.filters button');
    await page.waitForURL(/outcome=aborted/);
    const aborted = await page.$$eval('.timeline g.mark', (gs) =>
      gs.map((g) => g.getAttribute('data-outcome')),
    );
    expect(aborted.every((o) => o === 'aborted')).toBe(true);
  });

  it('the JSON export is what `earshot ledger export` prints; the CSV has one row per upload', async () => {
    const json = (await (await page.request.get(`${url}/export.json`)).json()) as Record<
      string,
      unknown
    >;
    const cli = JSON.parse(
      execFileSync(process.execPath, [cliPath, 'ledger', 'export', '--ledger', ledger], {
        encoding: 'utf8',
      }),
    ) as Record<string, unknown>;
    delete json.exportedAt;
    delete cli.exportedAt;
    // The daemon may have written since: compare the entries both saw.
    const n = Math.min((json.entries as unknown[]).length, (cli.entries as unknown[]).length);
    expect({ ...json, entries: (json.entries as unknown[]).slice(0, n) }).toEqual({
      ...cli,
      entries: (cli.entries as unknown[]).slice(0, n),
    });
    const csv = await (await page.request.get(`${url}/export.csv`)).text();
    const lines = csv.trim().split('\r\n');
    expect(lines[0]).toMatch(/^start,durationMs,bytes,trigger,destination,outcome/);
    const ids = lines.slice(1).map((l) => l.split(',').at(-2));
    expect(ids.slice(0, utterances().length)).toEqual(
      utterances()
        .map((u) => u.id)
        .slice(0, ids.length),
    );
  });

  it('Proof says the record holds, with the receipts checked and the head', async () => {
    await page.click('a[href="/proof"]');
    await page.waitForSelector('[data-check=summary]');
    expect(await page.textContent('[data-check=summary]')).toContain('The record holds');
    expect(await page.textContent('[data-check=receipts]')).toMatch(
      /[1-9]\d* answer\(s\) from the cloud carry its signed receipt/,
    );
    // The page shows the head as it was when it was drawn; an acknowledgement written
    // since (a late ack of the runs above) moves the head on: draw it again until both agree.
    await expect
      .poll(
        async () => {
          const shown = (await page.textContent('[data-check=anchor]')) ?? '';
          const head = runtime.status.snapshot().ledgerHead!;
          if (shown.includes(head.hash)) return true;
          await page.reload();
          await page.waitForSelector('[data-check=anchor]');
          return false;
        },
        { timeout: 10_000 },
      )
      .toBe(true);
    await shot(page, 'proof');
  });

  it('locks an address out after repeated wrong passwords', async () => {
    const other = await browser.newContext();
    const p = await other.newPage();
    for (let i = 0; i < 3; i++) {
      await p.goto(`${url}/signin`);
      await p.fill('#password', `wrong ${i}`);
      await p.click('button[type=submit]');
      await p.waitForSelector('[role=alert]');
    }
    expect(await p.textContent('[role=alert]')).toContain('Too many failed attempts');
    // Locked out: even the right password is not checked now.
    await p.goto(`${url}/signin`);
    await p.fill('#password', PASSWORD);
    await p.click('button[type=submit]');
    await p.waitForSelector('[role=alert]');
    expect(await p.textContent('[role=alert]')).toContain('Too many failed attempts');
    expect(new URL(p.url()).pathname).toBe('/signin');
    await shot(p, 'signin-locked');
    await other.close();
  });
});
