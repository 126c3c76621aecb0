import { AssistTransport } from '../assist/transport.js';
import type { BoardProfile } from '../config/board-profile.js';
import type { Config } from '../config/schema.js';
import { Dashboard, dashboardFiles, type DashboardOptions } from '../dashboard/index.js';
import { ledgerPath } from '../privacy/ledger-path.js';
import { loadReceiptPublicKey } from '../shared/receipt.js';
import { discoveryIdentifier } from '../mqtt/discovery.js';
import type { Clock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import { CloudTransport } from './cloud-transport.js';
import { LocalTransport } from './local-transport.js';
import type { UtteranceTransport } from './ports.js';

/**
 * The cloud `cloud.protocol` names: earshot.v1 or Home Assistant's Assist pipeline;
 * without `cloud.url`, the local stand-in (simulate, tests).
 */
export function cloudTransport(config: Config, log: Logger, clock: Clock): UtteranceTransport {
  if (!config.cloud.url) return new LocalTransport();
  if (config.cloud.protocol === 'home-assistant') {
    return new AssistTransport({
      cloud: config.cloud,
      registryIdentifier: discoveryIdentifier(config.device.id),
      log,
      clock,
    });
  }
  return new CloudTransport(config, log);
}

/**
 * The ALSA devices to use: the config's when set, else the board profile's (a HAT
 * names its own card), else ALSA's default.
 */
export function audioDevices(
  config: Config,
  profile: BoardProfile,
): { capture: string; playback: string } {
  const pick = (configured: string, fromProfile: string | undefined): string =>
    configured !== 'default' ? configured : (fromProfile ?? 'default');
  return {
    capture: pick(config.audio.capture.device, profile.audio?.capture),
    playback: pick(config.audio.playback.device, profile.audio?.playback),
  };
}

/** The owner's web page: reads the status book and the ledger, sends mute as MQTT does. */
export function ownerDashboard(
  config: Config,
  log: Logger,
  device: DashboardOptions['device'],
): Dashboard {
  return new Dashboard({
    config: config.dashboard,
    files: dashboardFiles(config),
    deviceName: config.device.name,
    policy: config.remote,
    ledger: {
      file: ledgerPath(config),
      ...(config.cloud.receiptKey
        ? { receiptKey: loadReceiptPublicKey(config.cloud.receiptKey) }
        : {}),
      anchorPublished: Boolean(config.mqtt.url),
    },
    device,
    log,
  });
}
