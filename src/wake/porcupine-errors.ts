import type { ErrorCode } from '../shared/error-codes.js';
import { EarshotError, errorMessage } from '../shared/errors.js';

/**
 * Porcupine's failures as EarshotErrors with a stable code and a hint that says what to
 * do. Porcupine checks its AccessKey online when it starts, so most of these appear at
 * start-up on a device without a key, without network, or over its quota; the device
 * shows the code (LED, MQTT, `earshot doctor`) and may fall back to openWakeWord.
 *
 * Errors are told apart by class name, not `instanceof`: the package is loaded lazily
 * and may be absent, and its classes are not importable without loading it.
 */
const KEY_HINT =
  'set wake.porcupine.accessKey (or PICOVOICE_ACCESS_KEY) to the AccessKey from https://console.picovoice.ai/';

const BY_CLASS: Record<string, { code: ErrorCode; what: string; hint: string }> = {
  PorcupineActivationError: {
    code: 'E_WAKE_ACTIVATION',
    what: 'Porcupine could not validate its AccessKey',
    hint: 'the AccessKey is checked online at start-up: check the network and the key',
  },
  PorcupineActivationLimitReachedError: {
    code: 'E_WAKE_ACTIVATION_LIMIT',
    what: "the AccessKey's activation limit is reached",
    hint: 'free a device in the Picovoice Console or use another AccessKey',
  },
  PorcupineActivationRefusedError: {
    code: 'E_WAKE_KEY_REFUSED',
    what: 'Picovoice refused the AccessKey',
    hint: `the key is revoked or belongs to another account; ${KEY_HINT}`,
  },
  PorcupineActivationThrottledError: {
    code: 'E_WAKE_ACTIVATION_THROTTLED',
    what: 'Picovoice is throttling activations of this AccessKey',
    hint: 'wait and restart; too many devices or restarts used the key in a short time',
  },
  PorcupineIOError: {
    code: 'E_WAKE_PORCUPINE_IO',
    what: 'Porcupine could not read a model or keyword file',
    hint: 'check that every wake.porcupine.keywords path is a readable .ppn file',
  },
  PorcupineOutOfMemoryError: {
    code: 'E_WAKE_PORCUPINE_MEMORY',
    what: 'Porcupine ran out of memory',
    hint: 'free memory on the device or use fewer keywords',
  },
};

/**
 * Turns anything thrown by Porcupine's constructor or `process` into an EarshotError.
 * Porcupine quotes a malformed AccessKey in its message; `accessKey` is masked out, so
 * the secret never reaches a log, MQTT or the doctor's report.
 */
export function mapPorcupineError(err: unknown, accessKey?: string): EarshotError {
  if (err instanceof EarshotError) return err;
  const name = (err as { constructor?: { name?: string } })?.constructor?.name ?? '';
  let message = errorMessage(err);
  if (accessKey) message = message.split(accessKey).join('***');
  const known = BY_CLASS[name];
  if (known) {
    return new EarshotError(known.code, `${known.what}: ${detail(message)}`, {
      cause: err,
      hint: known.hint,
    });
  }
  if (name === 'PorcupineInvalidArgumentError' && /accesskey/i.test(message)) {
    return new EarshotError(
      'E_WAKE_KEY_INVALID',
      `the Porcupine AccessKey is not valid: ${detail(message)}`,
      {
        cause: err,
        hint: KEY_HINT,
      },
    );
  }
  if (name === 'PorcupineInvalidArgumentError' || err instanceof RangeError) {
    return new EarshotError(
      'E_WAKE_PORCUPINE_ARGUMENT',
      `Porcupine rejected its settings: ${detail(message)}`,
      {
        cause: err,
        hint: 'check wake.porcupine.keywords (.ppn files for this platform) and sensitivity',
      },
    );
  }
  return new EarshotError('E_WAKE_PORCUPINE', `Porcupine failed: ${detail(message)}`, {
    cause: err,
    hint: 'run `earshot doctor` for details; set wake.engine to openwakeword to run without it',
  });
}

/** The error for a device that has no AccessKey at all. */
export function noKeyError(): EarshotError {
  return new EarshotError('E_WAKE_NO_KEY', 'Porcupine needs an AccessKey and none is set', {
    hint: KEY_HINT,
  });
}

/**
 * Porcupine's messages put the useful part in an indented stack of native details
 * (`[1] 5fe5c79 00000190: Failed to parse AccessKey`): keep the text, drop the codes.
 */
function detail(message: string): string {
  const text = message
    .split('\n')
    .map((line) => line.replace(/^\s*\[\d+\]\s*/, '').replace(/^[0-9a-f]+ [0-9A-F]+:\s*/, ''))
    .map((line) => line.trim())
    .filter((line) => line !== '' && line !== 'Picovoice Error.' && !/^[0-9a-f]+$/.test(line))
    .join(' ');
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
