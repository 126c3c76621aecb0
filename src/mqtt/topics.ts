/**
 * The topic layout, in one place so the bridge, the discovery configs, the README and the
 * tests cannot drift apart. Everything lives under one base topic (default
 * `earshot/<device id>`): state topics are nouns (`<base>/mute`), the topics that change
 * a setting end in `/set` (`<base>/mute/set`), one-shot actions live under
 * `<base>/command/…`.
 */
export interface StateTopics {
  /** `online` / `offline`, retained; `offline` is also the connection's last will. */
  availability: string;
  /** Device state name (`idle`, `listening` …), retained. */
  state: string;
  /** `ON` while the device is in `listening`, else `OFF`; retained. */
  listening: string;
  /** `ON` / `OFF`, retained. */
  mute: string;
  /** Output volume 0–100, retained. */
  volume: string;
  /** "Don't save recordings" `ON` / `OFF`, retained. */
  dontSaveRecordings: string;
  /** JSON `{status, cause?}` of the cloud link, retained. */
  link: string;
  /** JSON `{time, keyword, score}` of the last wake, retained. */
  lastWake: string;
  /** JSON counters (wakes, uploads, failures, false wakes, dropped frames), retained. */
  counters: string;
  /** JSON `{count, problems: [{part, code, message}]}`, retained. */
  problems: string;
  /** JSON answer to a rejected command; not retained. */
  error: string;
  /**
   * `<seq>:<sha256>` of the newest ledger entry, retained: an anchor of the ledger
   * outside the device (Home Assistant's history keeps every value it sees).
   */
  ledgerHead: string;
  /** JSON `{protocol, host, retentionSent}`: where uploads go, retained. */
  destination: string;
  /** The wake word listened for (a choice's name), retained. */
  wakeWord: string;
}

export interface CommandTopics {
  mute: string;
  volume: string;
  dontSaveRecordings: string;
  listen: string;
  stop: string;
  falseWake: string;
  /** The wake word to listen for (a choice's name); HA's `select` entity publishes here. */
  wakeWord: string;
  /** A text to speak (an announcement); HA's `notify` entity publishes here. */
  announce: string;
  /** A whole command as JSON, e.g. `{"type":"volume","volume":40}`. */
  json: string;
}

export interface MqttTopics {
  base: string;
  state: StateTopics;
  command: CommandTopics;
  /**
   * Subscription filters for commands. Wildcards rather than the exact topics, so that a
   * typo (`<base>/volme/set`) is answered on the error topic instead of vanishing.
   */
  commandFilters: string[];
}

export function defaultBaseTopic(deviceId: string): string {
  return `earshot/${deviceId}`;
}

export function mqttTopics(base: string): MqttTopics {
  const t = (suffix: string): string => `${base}/${suffix}`;
  return {
    base,
    state: {
      availability: t('availability'),
      state: t('state'),
      listening: t('listening'),
      mute: t('mute'),
      volume: t('volume'),
      dontSaveRecordings: t('dont_save_recordings'),
      link: t('link'),
      lastWake: t('wake/last'),
      counters: t('counters'),
      problems: t('problems'),
      error: t('error'),
      ledgerHead: t('ledger/head'),
      destination: t('destination'),
      wakeWord: t('wake_word'),
    },
    command: {
      mute: t('mute/set'),
      volume: t('volume/set'),
      dontSaveRecordings: t('dont_save_recordings/set'),
      listen: t('command/listen'),
      stop: t('command/stop'),
      falseWake: t('command/false_wake'),
      wakeWord: t('wake_word/set'),
      announce: t('command/announce'),
      json: t('command'),
    },
    commandFilters: [t('+/set'), t('command'), t('command/+')],
  };
}

/** Does `topic` match the subscription `filter` (with `+` and `#`)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

/** Home Assistant's birth / last-will topic: `<prefix>/status` carries `online` / `offline`. */
export function haStatusTopic(discoveryPrefix: string): string {
  return `${discoveryPrefix}/status`;
}
