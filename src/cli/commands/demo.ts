import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { hasSoundCard } from '../../audio/sinks/create-sink.js';
import { startCloudServer } from '../../cloud/index.js';
import { loadConfig } from '../../config/load.js';
import { verifyLedger } from '../../privacy/verify.js';
import { EarshotError } from '../../shared/errors.js';
import { createRootLogger } from '../../shared/logger.js';
import { simulate, type SimEvent } from '../simulate/run.js';

const root = resolve(fileURLToPath(import.meta.url), '..', '..', '..', '..');
const DEMO_WAV = join(root, 'test', 'fixtures', 'alexa-what-time.wav');

interface DemoFlags {
  wav: string;
  fast?: boolean;
  out?: string;
}

/**
 * `earshot demo`: the whole path on one machine. A reference cloud on loopback with
 * throw-away certificates (mutual TLS), the device on a bundled recording of "Alexa,
 * what time is it?" with its LEDs drawn in the terminal, the utterance streamed, the
 * spoken reply played (or written to a WAV file), and a short summary.
 */
export function registerDemo(program: Command): void {
  program
    .command('demo')
    .description(
      'run the whole device against a local reference cloud, with LEDs drawn in the terminal',
    )
    .option('--wav <file>', 'the recording to use as the microphone', DEMO_WAV)
    .option('--fast', 'do not pace the recording at real time')
    .option('--out <file>', 'write the reply here instead of playing it')
    .action(async (flags: DemoFlags) => {
      const work = mkdtempSync(join(tmpdir(), 'earshot-demo-'));
      try {
        await runDemo(flags, work);
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    });
}

async function runDemo(flags: DemoFlags, work: string): Promise<void> {
  const say = (line: string): boolean => process.stdout.write(`${line}\n`);
  const certs = join(work, 'certs');
  const script = join(root, 'scripts', 'make-certs.sh');
  if (!existsSync(flags.wav))
    throw new EarshotError('E_DEMO', `demo recording not found: ${flags.wav}`);
  execFileSync('bash', [script, certs, '--device-id', 'demo-speaker'], { stdio: 'ignore' });
  const log = createRootLogger({ level: 'warn' });
  const cloud = await startCloudServer({
    cert: join(certs, 'server.crt'),
    key: join(certs, 'server.key'),
    ca: join(certs, 'ca.crt'),
    logger: log,
  });
  say(`reference cloud: ${cloud.url} (mutual TLS, throw-away certificates)`);
  const playToFile = Boolean(flags.out) || !hasSoundCard();
  const replyFile = flags.out ?? join(process.cwd(), 'earshot-demo-reply.wav');
  const ledger = join(work, 'ledger.jsonl');
  const config = loadConfig({
    patch: {
      'device.id': 'demo-speaker',
      'gpio.backend': 'simulated',
      'cloud.url': cloud.url,
      'cloud.ca': join(certs, 'ca.crt'),
      'cloud.cert': join(certs, 'device.crt'),
      'cloud.key': join(certs, 'device.key'),
      'privacy.ledger': ledger,
      'audio.playback.sink': playToFile ? 'file' : 'auto',
      'audio.playback.file': replyFile,
    },
  });
  let lastLeds = '';
  let replyHeard = false;
  cloud.events.on('replied', () => (replyHeard = true));
  const draw = (e: SimEvent, leds: string): void => {
    const t = `${e.t.toFixed(2).padStart(6)}s`;
    if (e.event === 'led' && leds !== lastLeds) {
      lastLeds = leds;
      say(`${t}  LEDs  ${leds}`);
    } else if (e.event === 'state') say(`${t}  state ${e.previous} → ${e.state}`);
    else if (e.event === 'wake')
      say(`${t}  heard the wake word "${e.keyword}" (score ${e.score.toFixed(2)})`);
    else if (e.event === 'upload') {
      say(
        `${t}  sent ${(e.bytes / 32000).toFixed(2)} s of audio (${e.bytes} bytes, ${e.preRollMs} ms before the wake word), ` +
          `${e.ack ? `acknowledged, saved by the cloud: ${e.ack.stored ? 'yes' : 'no'}` : 'not acknowledged'}`,
      );
    }
  };
  let render = (): string => '';
  say(`microphone: ${flags.wav}\n`);
  const summary = await simulate({
    wav: flags.wav,
    config,
    log,
    realtime: !flags.fast,
    onStarted: (runtime) => {
      render = () => runtime.gpio.render();
    },
    onEvent: (e) => draw(e, render()),
  });
  await cloud.close();
  const verified = await verifyLedger(ledger);
  say('');
  say(
    `summary: ${summary.wakes} wake word(s), ${summary.uploads} upload(s) over TLS, reply ${replyHeard ? 'received' : 'NOT received'}`,
  );
  say(
    `reply:   ${playToFile ? `written to ${replyFile} (no sound card here)` : 'played on the speaker'}`,
  );
  say(
    `ledger:  ${verified.ok ? 'verified' : 'FAILED verification'}, ${verified.entries.length} entries (earshot ledger show --ledger FILE)`,
  );
  say(
    `privacy: "don't save recordings" was ${config.privacy.dontSaveRecordings ? 'on' : 'off'}; no recording of the voice was written to disk`,
  );
  if (summary.uploads < 1 || !replyHeard || !verified.ok) {
    throw new EarshotError('E_DEMO', 'the demo did not complete: see the lines above');
  }
}
