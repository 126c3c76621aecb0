import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot, tempDir } from './paths.js';

/**
 * Development certificates made by the project's own `scripts/make-certs.sh` (so the
 * script is exercised by every TLS test), in a temporary directory per test file.
 */
export interface TestCerts {
  dir: string;
  deviceId: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  deviceCert: string;
  deviceKey: string;
  otherCa: string;
  otherDeviceCert: string;
  otherDeviceKey: string;
  cleanup: () => void;
}

export const makeCertsScript = join(repoRoot, 'scripts', 'make-certs.sh');

export function makeCerts(deviceId = 'test-device'): TestCerts {
  const { dir, cleanup } = tempDir('earshot-certs-');
  execFileSync('bash', [makeCertsScript, dir, '--device-id', deviceId], { stdio: 'pipe' });
  const f = (name: string): string => join(dir, name);
  return {
    dir,
    deviceId,
    ca: f('ca.crt'),
    serverCert: f('server.crt'),
    serverKey: f('server.key'),
    deviceCert: f('device.crt'),
    deviceKey: f('device.key'),
    otherCa: f('other-ca.crt'),
    otherDeviceCert: f('other-device.crt'),
    otherDeviceKey: f('other-device.key'),
    cleanup,
  };
}
