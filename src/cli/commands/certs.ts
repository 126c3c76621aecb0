import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { EarshotError } from '../../shared/errors.js';

/** scripts/ of the package: three levels up from both src/cli/commands and dist/cli/commands. */
const SCRIPT = fileURLToPath(new URL('../../../scripts/make-certs.sh', import.meta.url));

interface CertsFlags {
  name: string[];
  ip: string[];
  deviceId?: string;
  device: string[];
  days?: string;
  force?: boolean;
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/**
 * `earshot certs`: your own CA, a server certificate for the names and addresses the
 * cloud is reached by, and device certificates whose CN is the device id. One
 * implementation, `scripts/make-certs.sh` (openssl), which this runs.
 */
export function registerCerts(program: Command): void {
  program
    .command('certs')
    .description('make a CA, a server certificate for your names/IPs and device certificates')
    .argument('<outdir>', 'where to write them (kept files that still fit are reused)')
    .option('--name <dns>', 'a host name the cloud is reached by (repeatable)', collect, [])
    .option('--ip <address>', 'an IP address the cloud is reached by (repeatable)', collect, [])
    .option('--device-id <id>', "the device certificate's id (device.crt; default earshot)")
    .option(
      '--device <id>',
      'one more device certificate, devices/ID.crt (repeatable)',
      collect,
      [],
    )
    .option('--days <n>', 'validity of server and device certificates (default 825)')
    .option('--force', 'start over: a new CA and new certificates')
    .addHelpText(
      'after',
      '\nWithout --name and --ip the server certificate is for localhost, 127.0.0.1 and ::1.\n' +
        'Copy ca.crt and one device certificate with its key to each device; keep ca.key\n' +
        'off the devices. earshot doctor warns 30 days before a certificate expires.',
    )
    .action((outdir: string, flags: CertsFlags) => {
      if (!existsSync(SCRIPT)) {
        throw new EarshotError('E_CERTS', `${SCRIPT} is missing`, {
          hint: 'run earshot certs from a clone or the npm package (it ships scripts/)',
        });
      }
      const args = [SCRIPT, outdir];
      for (const n of flags.name) args.push('--name', n);
      for (const a of flags.ip) args.push('--ip', a);
      if (flags.deviceId) args.push('--device-id', flags.deviceId);
      for (const d of flags.device) args.push('--device', d);
      if (flags.days) args.push('--days', flags.days);
      if (flags.force) args.push('--force');
      const r = spawnSync('bash', args, { stdio: 'inherit' });
      if (r.error) throw new EarshotError('E_CERTS', `cannot run bash: ${r.error.message}`);
      process.exitCode = r.status ?? 1;
    });
}
