import { configDefaults, defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

/**
 * `npm run test:quick`: the edit-test loop. Every unit and fuzz test and the fast
 * integration tests (the device end to end against a real cloud and broker, the
 * privacy invariants, the wake word); left out are the slow files that start whole
 * daemons, emulate arm64, build images or inject long faults. `npm test` runs them all.
 */
export const SLOW_FILES = [
  'test/integration/arm64-simulate.test.ts',
  'test/integration/fault-cloud-link.test.ts',
  'test/integration/image-build.test.ts',
  'test/integration/fault-soak.test.ts',
  'test/integration/run-daemon.test.ts',
  'test/integration/fault-parts.test.ts',
  'test/integration/bench-daemon.test.ts',
  'test/integration/doctor-checks.test.ts',
  'test/integration/doctor-cloud.test.ts',
  'test/integration/fault-reload.test.ts',
  'test/integration/fault-ledger-full.test.ts',
  'test/integration/fault-mic.test.ts',
  'test/integration/fault-cloud-replies.test.ts',
  'test/integration/install-script.test.ts',
  'test/integration/cli-ledger-mqtt.test.ts',
  // Home Assistant: two requests at real time each, and a daemon on the paced microphone.
  'test/integration/assist/assist-failures.test.ts',
  'test/integration/assist/assist-daemon.test.ts',
  // Home Assistant end to end: the quick lane keeps its client and CLI tests; the
  // device and privacy files replay whole requests against the stand-in (~50 s).
  'test/integration/assist/assist-device.test.ts',
  'test/integration/assist/assist-privacy.test.ts',
  // The trust-boundary attacks: whole daemons and clouds under attack for seconds each.
  'test/adversarial/device-evil-cloud.test.ts',
  'test/adversarial/ledger-tamper.test.ts',
  'test/adversarial/reference-cloud.test.ts',
  'test/adversarial/mqtt-remote.test.ts',
  'test/adversarial/small-findings.test.ts',
  // The owner's page in chromium against a daemon on the paced microphone.
  'test/integration/dashboard/browser.test.ts',
  // The wake word switched over MQTT: a daemon on the paced microphone for two loops.
  'test/integration/wake-choice-mqtt.test.ts',
];

export default mergeConfig(
  base,
  defineConfig({ test: { exclude: [...configDefaults.exclude, ...SLOW_FILES] } }),
);
