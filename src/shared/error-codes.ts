/**
 * Every error code earshot gives out: in errors (`EarshotError.code`), in the device's
 * problems (MQTT, doctor, systemd STATUS), in `error` messages on the wire, and in the
 * ledger's reasons. One registry, so a code means one thing everywhere; the README's
 * table is generated from it (`npm run docs:errors`) and a test keeps the two equal.
 * Codes a peer sends us (a cloud's own `error` codes) are plain strings: we only log
 * and record them.
 */
export interface CodeInfo {
  /** The part that gives the code out. */
  part: string;
  /** What happened, in one sentence. */
  meaning: string;
  /** What the owner can do about it, when there is something to do. */
  hint?: string;
}

export const ERROR_CODES = {
  // config
  E_CONFIG: {
    part: 'config',
    meaning: 'A configuration value is missing, of the wrong type or out of range.',
    hint: '`earshot config check FILE` names every bad key and what is allowed.',
  },
  E_BOARD_UNKNOWN: {
    part: 'config',
    meaning: 'The board profile named in `board` does not exist.',
    hint: 'Use a file from hardware/ (e.g. generic, respeaker-2mic) or a path to your own.',
  },
  E_BOARD_PROFILE: {
    part: 'config',
    meaning: 'A board profile file is invalid.',
    hint: 'The message names the key; compare with hardware/generic.yaml.',
  },
  E_USAGE: {
    part: 'cli',
    meaning: 'A command was given options that do not go together, or a value it cannot use.',
  },
  E_BOARD_SETUP: { part: 'config', meaning: 'A board set-up file cannot be read.' },
  E_CERTS: { part: 'cli', meaning: '`earshot certs` cannot run its certificate script.' },

  // audio
  E_WAV_READ: { part: 'audio', meaning: 'A WAV file could not be read.' },
  E_WAV_TRUNCATED: {
    part: 'audio',
    meaning: 'A WAV file holds less audio than its header says (cut short).',
  },
  E_WAV_FORMAT: {
    part: 'audio',
    meaning: 'A WAV file is not 16 kHz, 16-bit mono PCM, or is not a WAV file.',
    hint: 'Convert it: sox IN.wav -r 16000 -c 1 -b 16 OUT.wav',
  },
  E_PLAYBACK: { part: 'audio', meaning: 'The sound card refused or lost the playback.' },
  E_SPEAKER_UNAVAILABLE: {
    part: 'audio',
    meaning: 'The `speaker` module could not be loaded.',
    hint: 'Install libasound2-dev and rebuild, or use `audio.playback.sink: aplay`.',
  },
  E_SINK_FORMAT: { part: 'audio', meaning: 'A sink was asked for a format it cannot write.' },
  E_REPLY_TOO_LONG: {
    part: 'audio',
    meaning: 'A reply was longer than audio.playback.maxReplySeconds and was cut.',
  },
  E_REPLY_OVERFLOW: {
    part: 'audio',
    meaning:
      'Reply audio arrived much faster than it plays (past audio.playback.replyBufferSeconds): refused.',
  },
  E_REPLY_FORMAT: {
    part: 'audio',
    meaning: "The cloud's reply is in a format the device cannot play.",
  },
  E_CAPTURE_DOWN: {
    part: 'audio',
    meaning: 'The microphone (arecord) is not running; it is retried with backoff.',
    hint: '`arecord -l` lists the cards; check `audio.capture.device` and the board profile.',
  },
  E_VAD_MODEL: { part: 'audio', meaning: 'The Silero VAD model could not be loaded.' },

  // wake word
  E_WAKE_CONFIG: { part: 'wake', meaning: 'The wake-word configuration is inconsistent.' },
  E_WAKE_STATE: { part: 'wake', meaning: 'The wake detector was used before it started.' },
  E_WAKE_FRAME: { part: 'wake', meaning: 'A frame of the wrong length reached the wake detector.' },
  E_WAKE_MODEL_UNKNOWN: {
    part: 'wake',
    meaning: 'No bundled wake-word model has this name.',
    hint: 'Use a bundled name (alexa, hey_jarvis …) or the path to an .onnx file.',
  },
  E_WAKE_CHOICE: {
    part: 'wake',
    meaning:
      'The wake word chosen at run time is not among the choices, or the engine cannot switch.',
    hint: 'Choose a name from wake.keywords or wake.choices (Home Assistant lists them); Porcupine needs a restart.',
  },
  E_WAKE_MODEL_MISSING: { part: 'wake', meaning: 'A wake-word model file is not there.' },
  E_WAKE_MODEL_LOAD: { part: 'wake', meaning: 'onnxruntime could not load a wake-word model.' },
  E_WAKE_MODEL_SHAPE: {
    part: 'wake',
    meaning: 'A wake-word model has unexpected inputs or outputs.',
  },
  E_WAKE_ENGINE_MISSING: {
    part: 'wake',
    meaning: 'The Porcupine engine (@picovoice/porcupine-node) is not installed.',
  },
  E_WAKE_NO_KEY: {
    part: 'wake',
    meaning: 'Porcupine needs a Picovoice AccessKey and none is set.',
    hint: 'Set wake.porcupine.accessKey or PICOVOICE_ACCESS_KEY.',
  },
  E_WAKE_KEY_INVALID: { part: 'wake', meaning: 'Picovoice refused the AccessKey as invalid.' },
  E_WAKE_KEY_REFUSED: { part: 'wake', meaning: 'Picovoice refused the AccessKey for this use.' },
  E_WAKE_ACTIVATION: {
    part: 'wake',
    meaning: "Porcupine could not check its AccessKey with Picovoice's servers.",
  },
  E_WAKE_ACTIVATION_LIMIT: { part: 'wake', meaning: 'The AccessKey has no activations left.' },
  E_WAKE_ACTIVATION_THROTTLED: { part: 'wake', meaning: 'Picovoice throttled the activation.' },
  E_WAKE_KEYWORD_UNKNOWN: {
    part: 'wake',
    meaning: 'Porcupine has no built-in keyword of this name.',
  },
  E_WAKE_PORCUPINE: { part: 'wake', meaning: 'Porcupine failed.' },
  E_WAKE_PORCUPINE_ARGUMENT: { part: 'wake', meaning: 'Porcupine refused an argument.' },
  E_WAKE_PORCUPINE_IO: { part: 'wake', meaning: 'Porcupine could not read a file.' },
  E_WAKE_PORCUPINE_MEMORY: { part: 'wake', meaning: 'Porcupine ran out of memory.' },

  // link (device side of the cloud connection)
  E_LINK_CONFIG: {
    part: 'link',
    meaning: '`cloud.url` is missing or not a wss:// URL.',
    hint: 'cloud.url: wss://HOST:PORT/PATH',
  },
  E_LINK_INSECURE: {
    part: 'link',
    meaning: 'A plain ws:// URL was refused (P6: TLS only).',
    hint: 'Use wss://, or set cloud.insecure for development only.',
  },
  E_LINK_TLS_FILE: { part: 'link', meaning: 'A TLS file named in `cloud` cannot be read.' },
  E_LINK_BUSY: { part: 'link', meaning: 'An utterance was opened while another was still open.' },
  E_LINK_BAD_UTTERANCE: {
    part: 'link',
    meaning: 'An utterance was opened with an invalid id, trigger or pre-roll.',
  },
  E_LINK_DOWN: {
    part: 'link',
    meaning: 'The cloud connection is down or was lost: the utterance failed and is not resent.',
  },
  E_BACKPRESSURE: {
    part: 'link',
    meaning: 'The cloud did not take the audio fast enough; the utterance was aborted.',
    hint: 'A slow network or cloud: see cloud.maxBufferedBytes.',
  },
  E_PEER_FLOOD: {
    part: 'link',
    meaning: 'The peer sent more messages than its budget allows: the connection was dropped.',
  },
  E_PEER_NOT_READING: {
    part: 'link',
    meaning: 'The peer stopped reading what was sent to it: the connection was dropped.',
  },
  E_NO_CLOUD: {
    part: 'link',
    meaning: '`cloud.url` is not set: the speaker stays offline (there is no local-only mode).',
  },
  E_OPEN: { part: 'link', meaning: 'The transport could not open an utterance.' },

  E_SECRET_FILE: {
    part: 'link',
    meaning:
      'A secret file (e.g. `cloud.tokenFile`) cannot be read, is empty, or others may read it.',
    hint: 'chmod 600 FILE (readable by the service user only).',
  },
  E_TEXT_UNSUPPORTED: {
    part: 'link',
    meaning:
      'The configured cloud takes no text requests (announcements, `earshot ask`): earshot.v1 carries audio only.',
    hint: 'Use cloud.protocol: home-assistant.',
  },
  E_ANNOUNCE_BUSY: {
    part: 'device',
    meaning:
      'An announcement was refused: the speaker is listening, thinking, speaking or announcing, or offline.',
  },

  // Home Assistant Assist (cloud.protocol: home-assistant)
  E_ASSIST_AUTH: {
    part: 'assist',
    meaning: 'Home Assistant refused the access token (auth_invalid).',
    hint: 'Make a long-lived access token (your HA profile, Security tab) and put it in cloud.tokenFile.',
  },
  E_ASSIST_HOLD_OVERFLOW: {
    part: 'assist',
    meaning: 'Home Assistant did not start the run before the audio held for it filled its bound.',
    hint: 'HA is slow or overloaded; see cloud.assist.holdMs.',
  },
  E_ASSIST_TIMEOUT: {
    part: 'assist',
    meaning: 'Home Assistant did not finish a pipeline run in time (cloud.assist.runTimeoutMs).',
  },
  E_ASSIST_TTS_URL: {
    part: 'assist',
    meaning: 'The spoken answer is on another host than Home Assistant: not fetched.',
  },
  E_ASSIST_TTS_HTTP: {
    part: 'assist',
    meaning: 'Fetching the spoken answer failed (HTTP status, TLS or connection).',
  },
  E_ASSIST_TTS_FORMAT: {
    part: 'assist',
    meaning: 'The spoken answer is not mp3, wav or flac, or does not decode.',
  },
  E_ASSIST_TTS_TOO_LARGE: {
    part: 'assist',
    meaning: 'The spoken answer is larger than cloud.assist.ttsMaxBytes.',
  },
  E_ASSIST_TTS_TIMEOUT: {
    part: 'assist',
    meaning: 'The spoken answer stalled: no byte for cloud.assist.ttsTimeoutMs while it was read.',
  },
  E_ASSIST_BUSY: {
    part: 'assist',
    meaning: 'Too many commands wait for Home Assistant on one connection.',
  },

  // the earshot.v1 protocol (on the wire, both ways)
  E_BAD_JSON: { part: 'protocol', meaning: 'A text frame was not JSON.' },
  E_BAD_MESSAGE: { part: 'protocol', meaning: 'A message does not match its schema.' },
  E_UNKNOWN_TYPE: { part: 'protocol', meaning: 'A message has an unknown type.' },
  E_UNEXPECTED: { part: 'protocol', meaning: 'A message came at a time it is not allowed.' },
  E_UNSUPPORTED_FORMAT: { part: 'protocol', meaning: 'An audio format the receiver cannot take.' },
  E_TOO_LARGE: { part: 'protocol', meaning: 'A frame or an utterance was larger than allowed.' },
  E_INTEGRITY: {
    part: 'protocol',
    meaning: "The bytes or SHA-256 received differ from the sender's.",
  },
  E_UNKNOWN_UTTERANCE: {
    part: 'protocol',
    meaning: 'A message names an utterance that is not open or not awaited.',
  },
  E_PROTOCOL_VERSION: { part: 'protocol', meaning: 'The peer speaks another protocol version.' },
  E_INTERNAL: { part: 'protocol', meaning: 'The peer failed internally.' },
  E_UNAUTHORIZED: {
    part: 'protocol',
    meaning: 'The device is not allowed: bad token or certificate.',
  },
  E_CLIENT_CERT: {
    part: 'protocol',
    meaning: 'No client certificate, or one no trusted CA signed.',
  },

  E_RECEIPT_KEY: {
    part: 'link',
    meaning: 'The receipt key (an Ed25519 PEM file) cannot be read or is not Ed25519.',
    hint: 'openssl genpkey -algorithm ed25519 -out receipt.key && openssl pkey -in receipt.key -pubout -out receipt.pub',
  },
  E_RECEIPT_MISSING: {
    part: 'link',
    meaning: 'An acknowledgement came without the signed receipt the pinned key requires: refused.',
  },
  E_RECEIPT_INVALID: {
    part: 'link',
    meaning:
      "An acknowledgement's receipt is not the cloud's signature of it: refused, never recorded.",
  },

  // reference cloud
  E_CLOUD_TLS_FILE: { part: 'cloud', meaning: 'The reference cloud cannot read a TLS file.' },
  E_CLOUD_LISTEN: { part: 'cloud', meaning: 'The reference cloud cannot listen on the address.' },

  // GPIO
  E_GPIO_UNAVAILABLE: {
    part: 'gpio',
    meaning: 'There is no GPIO here: LEDs and buttons run simulated.',
  },
  E_GPIO_PERMISSION: {
    part: 'gpio',
    meaning: 'No permission to use the GPIO pins.',
    hint: 'Add the user to the gpio group (install.sh does).',
  },
  E_GPIO_BUSY: { part: 'gpio', meaning: 'A pin is in use by another program.' },
  E_GPIO_PIN_INVALID: { part: 'gpio', meaning: 'A pin number does not exist on this board.' },
  E_GPIO_CHIP_NOT_FOUND: {
    part: 'gpio',
    meaning: 'The GPIO chip of the board profile was not found.',
  },
  E_GPIO_MODULE: { part: 'gpio', meaning: 'The onoff module could not be loaded.' },
  E_GPIO_IO: { part: 'gpio', meaning: 'Reading or writing a pin failed.' },
  E_GPIO_NO_SUCH_BUTTON: {
    part: 'gpio',
    meaning: 'A button that the board profile does not have.',
  },
  E_SPI_UNAVAILABLE: {
    part: 'gpio',
    meaning: 'No SPI device for the LED chain: the colour LEDs stay dark.',
    hint: 'Enable SPI (dtparam=spi=on in config.txt; the board set-up of install.sh does).',
  },
  E_SPI_PERMISSION: {
    part: 'gpio',
    meaning: 'No permission to open the SPI device.',
    hint: 'Add the service user to the spi group (install.sh does).',
  },
  E_SPI_MODULE: { part: 'gpio', meaning: 'The spi-device module could not be loaded.' },
  E_SPI_IO: { part: 'gpio', meaning: 'Writing to the SPI device failed.' },

  // MQTT
  E_MQTT_TLS_FILE: { part: 'mqtt', meaning: 'A TLS file named in `mqtt` cannot be read.' },
  E_MQTT_OFF: { part: 'mqtt', meaning: '`mqtt.url` is not set.' },
  E_MQTT_REMOVE: { part: 'mqtt', meaning: 'The discovery removal did not reach the broker.' },
  E_MQTT_READ: { part: 'mqtt', meaning: 'A retained value could not be read from the broker.' },
  E_MQTT_INSECURE: {
    part: 'mqtt',
    meaning: 'The broker connection has no TLS or no credentials: others can read and command.',
    hint: 'Use mqtts:// with mqtt.username/password or a client certificate.',
  },
  E_MQTT_TOO_LARGE: {
    part: 'mqtt',
    meaning: 'The broker sent a packet over mqtt.maxPacketBytes: refused before it was read.',
  },
  E_REMOTE_REFUSED: {
    part: 'mqtt',
    meaning:
      'A remote command that opens the microphone, unmutes or lets the cloud keep recordings, without the owner allowing it (remote.*).',
    hint: 'Press the button on the speaker, or allow it in the config: remote.allowUnmute, remote.allowListen, remote.allowSaveRecordings.',
  },

  // privacy
  E_LEDGER_WRITE: {
    part: 'privacy',
    meaning: 'The ledger cannot be written: uploads stop until it can (P4).',
    hint: 'Free disk space or fix the state directory.',
  },
  E_LEDGER_BUSY: { part: 'privacy', meaning: 'Too many ledger entries wait to be written.' },
  E_LEDGER_CLOSED: { part: 'privacy', meaning: 'The ledger was written to while closed.' },
  E_LEDGER_DOWN: {
    part: 'privacy',
    meaning: 'The ledger is down: no upload is made until it can be written again.',
    hint: 'Free disk space; the device retries on its own.',
  },

  // the owner's web page
  E_DASHBOARD_CERT: {
    part: 'dashboard',
    meaning:
      'The web page is not served: it needs HTTPS off loopback and its certificate or key cannot be read.',
    hint: '`earshot dashboard cert` makes a self-signed one; or set dashboard.cert and dashboard.key, or dashboard.bind: 127.0.0.1.',
  },
  E_DASHBOARD_LISTEN: {
    part: 'dashboard',
    meaning:
      'The web page is not served: its address or port cannot be used (taken, or not on this machine).',
    hint: 'Change dashboard.port or dashboard.bind.',
  },
  E_DASHBOARD_PASSWORD: {
    part: 'dashboard',
    meaning:
      'The web page password cannot be set or read (too short, malformed hash, readable by others).',
    hint: 'Set it again with `earshot dashboard password`.',
  },

  // commands
  E_SIMULATE: { part: 'cli', meaning: '`earshot simulate` cannot do what was asked.' },
  E_DEMO: { part: 'cli', meaning: 'The demo could not run or complete.' },
  E_BENCH_INPUT: {
    part: 'bench',
    meaning: 'A benchmark found no recordings where it was pointed.',
  },
  E_BENCH_LABELS: {
    part: 'bench',
    meaning: 'The labels of recorded requests (bench:vad --recordings) are missing or wrong.',
  },
  E_BENCH_SOX: {
    part: 'bench',
    meaning: 'sox, which decodes recordings for the benchmark, is missing.',
  },
  E_BENCH_DECODE: { part: 'bench', meaning: 'sox could not decode a recording.' },
  E_BENCH_RSS: { part: 'bench', meaning: 'The memory probe of a benchmark failed.' },
  E_BENCH_TOOL: {
    part: 'bench',
    meaning: 'A tool that makes benchmark audio (flite, espeak-ng, sox) is missing or failed.',
  },
  E_UNKNOWN: { part: 'any', meaning: 'An error without a code of its own.' },
} as const satisfies Record<`E_${string}`, CodeInfo>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERROR_CODES, code);
}

/** The README's table of codes (between its `error-codes` markers). */
export function errorCodeTable(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, info]: [string, CodeInfo]) => {
    const hint = info.hint ? ` ${info.hint}` : '';
    return `| \`${code}\` | ${info.part} | ${info.meaning}${hint} |`;
  });
  return ['| code | part | meaning |', '|---|---|---|', ...rows].join('\n');
}
