import { InvalidArgumentError, Option, type Command } from 'commander';
import { GARBAGE_KINDS, startCloudServer, type GarbageKind } from '../../cloud/index.js';
import { EarshotError } from '../../shared/errors.js';
import { createRootLogger } from '../../shared/logger.js';

/**
 * `earshot cloud`: the reference cloud as a process, for development and demos.
 * The first line on stdout is exactly `listening on wss://HOST:PORT` (scripts and
 * tests read the port from it); then one line per device event. Logs go to stderr.
 */
interface CloudFlags {
  port: number;
  host: string;
  cert: string;
  key: string;
  ca?: string;
  token?: string;
  store?: string;
  maxPayload?: number;
  voice: 'auto' | 'flite' | 'espeak-ng' | 'tone';
  reply: 'speech' | 'tone' | 'none';
  captureStopAfter?: number;
  expectSpeech?: boolean;
  replyDelay?: number;
  stall?: boolean;
  dropAfter?: number;
  stopReading?: boolean;
  garbage: GarbageKind[];
  wrongReplyFormat?: boolean;
  open?: boolean;
  receiptKey?: string;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
}

function integer(name: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`expected an integer >= ${min} for ${name}`);
    }
    return n;
  };
}

function garbage(value: string, previous: GarbageKind[] = []): GarbageKind[] {
  if (!(GARBAGE_KINDS as readonly string[]).includes(value)) {
    throw new InvalidArgumentError(`expected one of ${GARBAGE_KINDS.join(', ')}`);
  }
  return [...previous, value as GarbageKind];
}

export function registerCloud(program: Command): void {
  program
    .command('cloud')
    .description('run the reference cloud: a TLS WebSocket server speaking earshot.v1')
    .option('--port <n>', 'port to listen on; 0 picks a free one', integer('--port', 0), 8443)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .requiredOption('--cert <file>', 'server certificate (PEM), e.g. from scripts/make-certs.sh')
    .requiredOption('--key <file>', 'server private key (PEM)')
    .option('--ca <file>', 'require client certificates signed by this CA (mutual TLS)')
    .option(
      '--token <token>',
      'require this bearer token (better: EARSHOT_CLOUD_TOKEN, not visible in ps)',
    )
    .option('--store <dir>', 'keep recordings as WAV here, only when a device allows it')
    .option('--open', 'accept any device, with neither --ca nor --token (development only)')
    .option(
      '--receipt-key <file>',
      'sign every acknowledgement with this Ed25519 private key (PEM); devices pin its public key (cloud.receiptKey)',
    )
    .option('--max-payload <bytes>', 'largest frame accepted', integer('--max-payload', 1024))
    .addOption(
      new Option('--voice <engine>', 'speech engine for replies')
        .choices(['auto', 'flite', 'espeak-ng', 'tone'])
        .default('auto'),
    )
    .addOption(
      new Option('--reply <kind>', 'answer with speech, a tone, or nothing')
        .choices(['speech', 'tone', 'none'])
        .default('speech'),
    )
    .option(
      '--capture-stop-after <ms>',
      'send capture.stop after this much audio',
      integer('--capture-stop-after', 0),
    )
    .option('--expect-speech', 'ask for a follow-up after each reply')
    .option('--reply-delay <ms>', 'wait before replying', integer('--reply-delay', 0))
    .option('--stall', 'stop answering pings after hello (a hung cloud)')
    .option(
      '--drop-after <ms>',
      'drop the connection after this much audio of an utterance',
      integer('--drop-after', 0),
    )
    .option('--stop-reading', 'stop reading the socket when an utterance starts (a slow cloud)')
    .option(
      '--garbage <kind>',
      `send a bad frame after hello (repeatable): ${GARBAGE_KINDS.join(', ')}`,
      garbage,
      [],
    )
    .option('--wrong-reply-format', 'announce replies in a format the device did not offer')
    .addOption(
      new Option('--log-level <level>', 'log level (logs go to stderr)')
        .choices(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
        .default('info'),
    )
    .action(async (flags: CloudFlags) => {
      const logger = createRootLogger({ level: flags.logLevel }).child({ part: 'cloud' });
      const token = flags.token ?? process.env.EARSHOT_CLOUD_TOKEN;
      if (flags.ca === undefined && token === undefined) {
        if (!flags.open) {
          throw new EarshotError(
            'E_USAGE',
            'the cloud would accept any device: give --ca (mutual TLS) or --token',
            { hint: 'for development on a trusted machine, say so with --open' },
          );
        }
        logger.warn('OPEN: any device that reaches this port is accepted (--open)');
      }
      const server = await startCloudServer({
        host: flags.host,
        port: flags.port,
        cert: flags.cert,
        key: flags.key,
        ca: flags.ca,
        token,
        store: flags.store,
        receiptKey: flags.receiptKey,
        ...(flags.maxPayload !== undefined ? { maxPayloadBytes: flags.maxPayload } : {}),
        voice: flags.voice,
        logger,
        behaviour: {
          reply: flags.reply,
          captureStopAfterMs: flags.captureStopAfter,
          expectSpeech: Boolean(flags.expectSpeech),
          replyDelayMs: flags.replyDelay ?? 0,
          stall: Boolean(flags.stall),
          dropAfterMs: flags.dropAfter,
          stopReading: Boolean(flags.stopReading),
          garbage: flags.garbage,
          wrongReplyFormat: Boolean(flags.wrongReplyFormat),
        },
      });
      // Signals are handled before the first line: a script that reads it may stop us at once.
      const stopped = new Promise<void>((resolve) => {
        const stop = (): void => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      process.stdout.write(`listening on ${server.url}\n`);
      const out = (line: string): boolean => process.stdout.write(`${line}\n`);
      server.events.on('hello', (s) =>
        out(
          `device ${s.hello.deviceId} connected (dontSaveRecordings: ${s.hello.privacy.dontSaveRecordings})`,
        ),
      );
      server.events.on('utterance', (u) =>
        out(
          `utterance ${u.id} from ${u.deviceId}: ${u.audio.length} bytes, ` +
            `${u.integrityOk ? 'sha256 ok' : 'INTEGRITY MISMATCH'}, ` +
            (u.storedPath ? `stored ${u.storedPath}` : 'not stored'),
        ),
      );
      server.events.on('aborted', (a) => out(`utterance ${a.id} aborted (${a.reason})`));
      server.events.on('rejected', (r) => out(`refused ${r.remote}: ${r.reason}`));
      await stopped;
      await server.close();
    });
}
