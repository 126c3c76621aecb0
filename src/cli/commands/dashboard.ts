import { existsSync } from 'node:fs';
import type { Command } from 'commander';
import { certificateFingerprint, makeSelfSigned } from '../../dashboard/cert.js';
import { dashboardFiles } from '../../dashboard/files.js';
import { hashPassword, writePasswordHash } from '../../dashboard/password.js';
import { EarshotError } from '../../shared/errors.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

interface PasswordFlags extends ConfigOptions {
  stdin?: boolean;
}

interface CertFlags extends ConfigOptions {
  name: string[];
  ip: string[];
  force?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** Reads a line from a terminal without echoing it. */
function askHidden(prompt: string): Promise<string> {
  const stdin = process.stdin;
  process.stdout.write(prompt);
  return new Promise((resolve, reject) => {
    let value = '';
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    const done = (err?: Error): void => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stdout.write('\n');
      if (err) reject(err);
      else resolve(value);
    };
    const onData = (chunk: string): void => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new EarshotError('E_USAGE', 'cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else value += ch;
      }
    };
    stdin.on('data', onData);
  });
}

async function readStdin(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    text += chunk.toString('utf8');
    if (text.length > 4096) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/**
 * `earshot dashboard password` sets the web page's password (only its scrypt hash is
 * kept); `earshot dashboard cert` makes the self-signed certificate the page uses when
 * the device has none of its own (the installer runs it).
 */
export function registerDashboard(program: Command): void {
  const dashboard = program
    .command('dashboard')
    .description("the owner's web page: set its password, make its certificate");

  addConfigOptions(
    dashboard
      .command('password')
      .description('set the web page password (asked twice; only a scrypt hash is stored)')
      .option('--stdin', 'read the password from the first line of standard input'),
  ).action(async (flags: PasswordFlags) => {
    const files = dashboardFiles(configFromOptions(flags));
    let password: string;
    if (flags.stdin || !process.stdin.isTTY) {
      password = await readStdin();
    } else {
      password = await askHidden('New password: ');
      if ((await askHidden('Again: ')) !== password) {
        throw new EarshotError('E_DASHBOARD_PASSWORD', 'the two passwords differ; nothing changed');
      }
    }
    await writePasswordHash(files.passwordFile, await hashPassword(password));
    process.stdout.write(
      `password set (${files.passwordFile}); sessions signed in before stay valid until they end\n`,
    );
  });

  addConfigOptions(
    dashboard
      .command('cert')
      .description("make the page's self-signed certificate (kept unless --force)")
      .option(
        '--name <dns>',
        'a host name the page is reached by (repeatable; default this host)',
        collect,
        [],
      )
      .option('--ip <address>', 'an IP address the page is reached by (repeatable)', collect, [])
      .option('--force', 'replace an existing certificate'),
  ).action(async (flags: CertFlags) => {
    const config = configFromOptions(flags);
    const files = dashboardFiles(config);
    if (!files.selfSigned) {
      throw new EarshotError(
        'E_USAGE',
        `dashboard.cert is set (${files.cert}): the page uses that certificate`,
      );
    }
    if (existsSync(files.cert) && !flags.force) {
      const info = await certificateFingerprint(files.cert);
      process.stdout.write(`kept ${files.cert}\nSHA-256 fingerprint ${info.fingerprint}\n`);
      return;
    }
    await makeSelfSigned({ cert: files.cert, key: files.key, names: flags.name, ips: flags.ip });
    const info = await certificateFingerprint(files.cert);
    process.stdout.write(
      `wrote ${files.cert} and ${files.key}\nSHA-256 fingerprint ${info.fingerprint}\n`,
    );
  });
}
