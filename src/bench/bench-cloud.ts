import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { startCloudServer, type CloudServer, type CloudServerOptions } from '../cloud/index.js';

const root = new URL('../../', import.meta.url).pathname;

/** Where a benchmark's device finds its side of mutual TLS. */
export interface DeviceCerts {
  ca: string;
  cert: string;
  key: string;
}

/**
 * The reference cloud for a benchmark: throw-away certificates from the project's own
 * script (scripts/make-certs.sh) in `dir`, and the cloud on a free loopback port asking
 * for the device's certificate (mutual TLS, as a real deployment).
 */
export async function startBenchCloud(
  dir: string,
  deviceId: string,
  options: Omit<CloudServerOptions, 'cert' | 'key' | 'ca'> = {},
): Promise<{ cloud: CloudServer; device: DeviceCerts }> {
  execFileSync('bash', [join(root, 'scripts/make-certs.sh'), dir, '--device-id', deviceId], {
    stdio: 'ignore',
  });
  const cloud = await startCloudServer({
    cert: join(dir, 'server.crt'),
    key: join(dir, 'server.key'),
    ca: join(dir, 'ca.crt'),
    ...options,
  });
  return {
    cloud,
    device: {
      ca: join(dir, 'ca.crt'),
      cert: join(dir, 'device.crt'),
      key: join(dir, 'device.key'),
    },
  };
}
