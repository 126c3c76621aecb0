import { readFileSync } from 'node:fs';
import mqtt from 'mqtt';
import { brokerWeakness } from '../../mqtt/connection.js';
import { ERROR_CODES } from '../../shared/error-codes.js';
import { loadBoardProfile } from '../../config/board-profile.js';
import type { Config } from '../../config/schema.js';
import { Gpio, SPI_GROUP_HINT, type BackendFactory } from '../../gpio/index.js';
import { CloudLink } from '../../link/index.js';
import { modelFallbacks } from '../../models/prebuilt.js';
import { RealClock } from '../../shared/clock.js';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { VERSION } from '../../shared/version.js';
import { createWakeDetector } from '../../wake/factory.js';
import { result, type CheckResult } from './check.js';

const OWW_LICENSE =
  'openWakeWord pretrained models are CC BY-NC-SA 4.0 (non-commercial); use Porcupine or your own model for a product';

export async function checkWake(config: Config): Promise<CheckResult> {
  const t0 = performance.now();
  try {
    const { detector, fallback } = await createWakeDetector(config.wake, silentLogger());
    const ms = Math.round(performance.now() - t0);
    await detector.stop();
    const what = `${detector.engine} loaded in ${ms} ms, keywords: ${detector.keywords.join(', ')}`;
    if (fallback) {
      return result(
        'wake word',
        true,
        'warn',
        `${what}; FELL BACK from porcupine: ${fallback.message}`,
        'fix the Picovoice AccessKey (wake.porcupine.accessKey or PICOVOICE_ACCESS_KEY)',
      );
    }
    const license =
      detector.engine === 'openwakeword' ? `; ${OWW_LICENSE}` : '; Picovoice AccessKey accepted';
    const slow = modelFallbacks();
    if (slow.length > 0) {
      const which = slow.map((f) => `${f.model} (${f.reason})`).join(', ');
      return result(
        'wake word',
        true,
        'warn',
        `${what}; opened from .onnx instead of the ORT files, about a MiB more each: ${which}${license}`,
        'convert the models again: npm run build in the install folder (scripts/install.sh does it)',
      );
    }
    return result('wake word', true, 'pass', what + license);
  } catch (err) {
    return result(
      'wake word',
      true,
      'fail',
      errorMessage(err),
      err instanceof EarshotError ? err.hint : undefined,
    );
  }
}

const SPI_HINTS: Record<string, string> = {
  E_SPI_UNAVAILABLE:
    'SPI is not enabled: dtparam=spi=on in /boot/firmware/config.txt (install.sh writes it), then reboot',
  E_SPI_PERMISSION: SPI_GROUP_HINT,
  E_SPI_MODULE: 'build it on the device: cd /opt/earshot && sudo npm rebuild spi-device',
  E_SPI_IO: 'check the kernel log (journalctl -k)',
};

export async function checkGpio(
  config: Config,
  /** Tests give the pins and the SPI device; the daemon's defaults otherwise. */
  backendFactory?: BackendFactory,
): Promise<CheckResult> {
  if (config.gpio.backend === 'simulated') {
    return result(
      'gpio',
      true,
      'warn',
      `board ${config.board}: simulated pins (gpio.backend: simulated)`,
      'set gpio.backend: onoff on a Pi',
    );
  }
  const gpio = new Gpio({
    profile: loadBoardProfile(config.board),
    config: { ...config.gpio, onUnavailable: 'fail' },
    logger: silentLogger(),
    clock: new RealClock(),
    ...(backendFactory ? { backendFactory } : {}),
  });
  try {
    await gpio.start();
    gpio.stop();
    const degraded = gpio.status?.degraded;
    if (degraded) {
      // The buttons work but the LEDs do not (an SPI chain that could not be opened).
      return result(
        'gpio',
        true,
        'warn',
        `board ${config.board}: buttons open, LEDs dark: ${degraded.message} [${degraded.code}]`,
        SPI_HINTS[degraded.code],
      );
    }
    return result(
      'gpio',
      true,
      'pass',
      `board ${config.board}: LEDs and buttons open (${gpio.status?.backend ?? 'onoff'})`,
    );
  } catch (err) {
    return result(
      'gpio',
      true,
      'fail',
      `board ${config.board}: ${errorMessage(err)}`,
      err instanceof EarshotError ? err.hint : undefined,
    );
  }
}

/** A real TLS handshake and protocol hello with the configured certificates. */
export async function checkCloud(config: Config, timeoutMs: number): Promise<CheckResult> {
  if (!config.cloud.url)
    return result(
      'cloud',
      true,
      'fail',
      'cloud.url is not set',
      'set cloud.url (wss://…) and the certificates',
    );
  let link: CloudLink;
  try {
    link = new CloudLink({
      cloud: config.cloud,
      hello: {
        deviceId: config.device.id,
        firmware: VERSION,
        dontSaveRecordings: config.privacy.dontSaveRecordings,
      },
      logger: silentLogger(),
    });
  } catch (err) {
    return result(
      'cloud',
      true,
      'fail',
      errorMessage(err),
      err instanceof EarshotError ? err.hint : undefined,
    );
  }
  const outcome = await new Promise<CheckResult>((resolve) => {
    const timer = setTimeout(
      () =>
        resolve(
          result('cloud', true, 'fail', `${config.cloud.url}: ${link.status.cause ?? 'no answer'}`),
        ),
      timeoutMs,
    );
    link.on('status', (s) => {
      if (s.status === 'up') {
        clearTimeout(timer);
        resolve(result('cloud', true, 'pass', `${config.cloud.url}: TLS handshake and hello ok`));
      } else if (s.status === 'down' && s.cause && s.cause !== 'not started') {
        clearTimeout(timer);
        resolve(
          result(
            'cloud',
            true,
            'fail',
            `${config.cloud.url}: ${s.cause}`,
            'check cloud.url, cloud.ca, cloud.cert/key and the clock',
          ),
        );
      }
    });
    link.start();
  });
  await link.stop();
  return outcome;
}

/** Connects to the broker with the configured credentials (without announcing anything). */
export async function checkMqtt(config: Config, timeoutMs: number): Promise<CheckResult> {
  const m = config.mqtt;
  if (!m.url) return result('mqtt', false, 'skip', 'MQTT is off (mqtt.url not set)');
  try {
    const client = await mqtt.connectAsync(m.url, {
      clientId: `${m.clientId ?? `earshot-${config.device.id}`}-doctor`,
      reconnectPeriod: 0,
      connectTimeout: timeoutMs,
      ...(m.username ? { username: m.username } : {}),
      ...(m.password ? { password: m.password } : {}),
      ...(m.ca ? { ca: readFileSync(m.ca) } : {}),
      ...(m.cert ? { cert: readFileSync(m.cert) } : {}),
      ...(m.key ? { key: readFileSync(m.key) } : {}),
    });
    await client.endAsync();
    const weak = brokerWeakness(m);
    if (weak)
      return result(
        'mqtt',
        false,
        'warn',
        `${m.url}: connected, but with ${weak}`,
        ERROR_CODES.E_MQTT_INSECURE.hint,
      );
    return result('mqtt', false, 'pass', `${m.url}: connected`);
  } catch (err) {
    return result(
      'mqtt',
      false,
      'fail',
      `${m.url}: ${errorMessage(err)}`,
      'check mqtt.url, credentials and certificates',
    );
  }
}
