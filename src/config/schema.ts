import { z } from 'zod';
import { audioSection } from './sections/audio.js';
import { cloudSection } from './sections/cloud.js';
import { dashboardSection } from './sections/dashboard.js';
import { deviceSection } from './sections/device.js';
import { gpioSection } from './sections/gpio.js';
import { logSection } from './sections/log.js';
import { mqttSection } from './sections/mqtt.js';
import { privacySection } from './sections/privacy.js';
import { remoteSection } from './sections/remote.js';
import { utteranceSection } from './sections/utterance.js';
import { wakeSection } from './sections/wake.js';

/**
 * The whole configuration, the single source of truth: every default, range and
 * allowed value lives here, and every part reads the typed result. Objects are
 * strict, so a misspelt key is an error, not a silently ignored setting.
 */
export const configSchema = z.strictObject({
  /** Board profile: a name from `hardware/` (`generic`, `respeaker-2mic`) or a file path. */
  board: z.string().min(1).default('generic'),
  device: deviceSection,
  log: logSection,
  audio: audioSection,
  wake: wakeSection,
  utterance: utteranceSection,
  cloud: cloudSection,
  privacy: privacySection,
  gpio: gpioSection,
  mqtt: mqttSection,
  remote: remoteSection,
  dashboard: dashboardSection,
});

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

/** Dotted paths whose values are masked by `earshot config print`. */
export const SECRET_KEYS: readonly string[] = [
  'wake.porcupine.accessKey',
  'cloud.token',
  'mqtt.password',
];
