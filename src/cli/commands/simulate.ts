import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { EarshotError } from '../../shared/errors.js';
import { createRootLogger } from '../../shared/logger.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';
import { simulate, type Press, type SimEvent } from '../simulate/run.js';

interface SimulateFlags extends ConfigOptions {
  wav: string;
  json?: boolean;
  press: Press[];
  realtime?: boolean;
  ledger?: string;
  mqtt?: string;
  cloud?: string;
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
}

export function parsePress(value: string, previous: Press[] = []): Press[] {
  const m = /^(mute|action)@(\d+(?:\.\d+)?)$/.exec(value.trim());
  if (!m) {
    throw new EarshotError(
      'E_USAGE',
      `--press ${value}: expected NAME@SECONDS with NAME mute or action, e.g. mute@1.5`,
    );
  }
  return [...previous, { name: m[1] as Press['name'], seconds: Number(m[2]) }];
}

export function registerSimulate(program: Command): void {
  addConfigOptions(
    program
      .command('simulate')
      .description(
        'run the real device pipeline with a WAV file as the microphone and simulated GPIO',
      )
      .requiredOption('--wav <file>', '16 kHz mono WAV to use as the microphone')
      .option('--json', 'print one JSON object per line (state, led, wake, upload, summary)')
      .option(
        '--press <name@seconds>',
        'press a button at that point of the WAV (repeatable)',
        parsePress,
        [],
      )
      .option(
        '--realtime',
        'pace the WAV at real time (default: as fast as possible, virtual clock)',
      )
      .option('--ledger <file>', 'record uploads in this ledger (default: a throw-away one)')
      .option('--mqtt <url>', 'publish state to and take commands from this MQTT broker')
      .option('--cloud <url>', 'send uploads to this cloud (wss://…) instead of the local stand-in')
      .option('--ca <file>', "with --cloud: the CA that signed the cloud's certificate")
      .option('--cert <file>', 'with --cloud: the device certificate (mutual TLS)')
      .option('--key <file>', 'with --cloud: the device key')
      .option('--token <token>', 'with --cloud: a bearer token'),
  ).action(async (flags: SimulateFlags) => {
    // Without --ledger the run gets a throw-away ledger: a simulation never writes
    // into the speaker's real record.
    const scratch = flags.ledger ? undefined : mkdtempSync(join(tmpdir(), 'earshot-simulate-'));
    const patch: Record<string, unknown> = {
      'gpio.backend': 'simulated',
      'privacy.ledger': flags.ledger ?? join(scratch!, 'ledger.jsonl'),
    };
    if (flags.mqtt) patch['mqtt.url'] = flags.mqtt;
    if (flags.cloud) {
      patch['cloud.url'] = flags.cloud;
      patch['cloud.ca'] = flags.ca;
      patch['cloud.cert'] = flags.cert;
      patch['cloud.key'] = flags.key;
      patch['cloud.token'] = flags.token;
    } else if (flags.ca || flags.cert || flags.key || flags.token) {
      throw new EarshotError('E_USAGE', '--ca, --cert, --key and --token go with --cloud URL');
    }
    try {
      const config = configFromOptions(flags, patch);
      const log = createRootLogger({
        // The events are the output; the log only says what went wrong.
        level: 'warn',
        format: config.log.format,
      });
      const summary = await simulate({
        wav: flags.wav,
        config,
        log,
        realtime: Boolean(flags.realtime),
        presses: flags.press,
        onEvent: flags.json ? printJson : printHuman,
      });
      if (summary.cloud && !summary.cloud.reached) {
        // Asked for a cloud and never got one: not a successful run, whatever it printed.
        process.stderr.write(
          `earshot: the cloud at ${flags.cloud} was never reached: ${summary.cloud.cause ?? 'no answer'}\n`,
        );
        process.exitCode = EXIT_NO_CLOUD;
      }
    } finally {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
    }
  });
}

/** The exit status of a run that asked for a cloud (`--cloud`) and never reached it. */
export const EXIT_NO_CLOUD = 4;

function printJson(e: SimEvent): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

function printHuman(e: SimEvent): void {
  const t = `${e.t.toFixed(2).padStart(7)}s`;
  switch (e.event) {
    case 'state':
      process.stdout.write(`${t}  state  ${e.previous} → ${e.state}\n`);
      break;
    case 'led':
      process.stdout.write(`${t}  led    ${e.name} ${e.on ? 'on' : 'off'}\n`);
      break;
    case 'wake':
      process.stdout.write(
        `${t}  wake   "${e.keyword}" score ${e.score.toFixed(2)}${e.accepted ? '' : ' (ignored)'}\n`,
      );
      break;
    case 'press':
      process.stdout.write(`${t}  press  ${e.name}\n`);
      break;
    case 'upload':
      process.stdout.write(
        `${t}  upload ${e.outcome} ${e.bytes} bytes, audio ${e.audioStartT.toFixed(2)}–${e.audioEndT.toFixed(2)} s` +
          ` (pre-roll ${e.preRollMs} ms, ended by ${e.reason})${e.ack ? ', acknowledged' : ''}\n`,
      );
      break;
    case 'summary':
      process.stdout.write(
        `\n${e.seconds} s of audio in ${e.wallMs} ms: ${e.wakes} wake(s), ${e.uploads} upload(s), ` +
          `${e.droppedFrames} dropped frame(s); wake engine ${e.wakeEngine}, uploads to ${e.transport}; ` +
          `final state ${e.finalState}\n`,
      );
      break;
  }
}
