import { randomBytes } from 'node:crypto';
import { AudioLoop } from '../audio/audio-loop.js';
import { EnergyVad } from '../audio/energy-vad.js';
import { Player } from '../audio/player.js';
import { SileroVad, sileroOptions } from '../audio/silero-vad.js';
import { createSink } from '../audio/sinks/create-sink.js';
import type { AudioSink } from '../audio/sinks/sink.js';
import type { FrameSource } from '../audio/sources/source.js';
import { loadBoardProfile } from '../config/board-profile.js';
import { diffKeys } from '../config/diff.js';
import { withChanges } from '../config/load.js';
import type { Config } from '../config/schema.js';
import type { Dashboard } from '../dashboard/index.js';
import { Gpio, type BackendFactory } from '../gpio/index.js';
import { modelFallbacks } from '../models/prebuilt.js';
import { MqttBridge } from '../mqtt/index.js';
import { Ledger } from '../privacy/ledger.js';
import { ledgerPath } from '../privacy/ledger-path.js';
import type { Frame } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import { partLogger, type Logger } from '../shared/logger.js';
import { VERSION } from '../shared/version.js';
import { ConfiguredWake, wakeChoices } from '../wake/factory.js';
import { Device } from './device.js';
import { buttonEvent, commandEvent } from './inputs.js';
import { ledgerRecorder } from './ledger-recorder.js';
import { LinkWait } from './link-wait.js';
import { audioDevices, cloudTransport, ownerDashboard } from './part-factories.js';
import type { CloudSettings, Part, UtteranceTransport } from './ports.js';
import { StatusBook } from './status-book.js';

export interface RuntimeOptions {
  config: Config;
  /** The root logger; each part gets its own child. */
  log: Logger;
  clock: Clock;
  /** The microphone (arecord) or a recording; a function gets the capture device to use. */
  source: FrameSource | ((captureDevice: string) => FrameSource);
  /** Default: the cloud link when `cloud.url` is set, else the local stand-in. */
  transport?: (log: Logger) => UtteranceTransport;
  /** Default: from `audio.playback`. */
  sink?: AudioSink;
  gpioBackendFactory?: BackendFactory;
  /** Called before each frame reaches the device (simulate moves its clock here). */
  beforeFrame?: (frame: Frame) => void | Promise<void>;
  /** Start muted (e.g. the mute switch was on at shutdown). */
  startMuted?: boolean;
  /**
   * Wait up to this long for the cloud link before the microphone opens (simulate
   * against a cloud: a run should not depend on how fast TLS connects).
   */
  waitForLinkMs?: number;
  /** How often a failed ledger is checked for recovery. */
  ledgerProbeMs?: number;
  /** Utterance ids are `${idPrefix}-${n}`; random unless given (simulate makes runs repeatable). */
  idPrefix?: string;
}

/**
 * The whole device, built from the configuration: the only place that knows every part.
 * Each part gets what it needs in its constructor; here, and only here, the parts'
 * events are connected to the Device's inputs (and the status book's). `start()` starts
 * the parts in the order of `parts`, `stop()` stops them in reverse. Adding a part means
 * writing it and listing it below.
 */
export class Runtime {
  readonly gpio: Gpio;
  readonly player: Player;
  readonly loop: AudioLoop;
  readonly transport: UtteranceTransport;
  readonly ledger: Ledger;
  readonly mqtt: MqttBridge | undefined;
  readonly dashboard: Dashboard | undefined;
  readonly wake: ConfiguredWake;
  readonly vad: SileroVad | EnergyVad;
  readonly device: Device;
  readonly status: StatusBook;
  readonly log: Logger;
  private readonly parts: Part[];
  private readonly started: Part[] = [];
  private phase: 'new' | 'running' | 'stopped' = 'new';
  private config: Config;

  constructor(private readonly options: RuntimeOptions) {
    const { config, log, clock } = options;
    this.config = config;
    this.log = partLogger(log, 'device');
    const profile = loadBoardProfile(config.board);
    const audio = audioDevices(config, profile);
    this.gpio = new Gpio({
      profile,
      config: config.gpio,
      logger: partLogger(log, 'gpio'),
      clock,
      ...(options.gpioBackendFactory ? { backendFactory: options.gpioBackendFactory } : {}),
    });
    const sink =
      options.sink ??
      createSink({ ...config.audio.playback, device: audio.playback }, partLogger(log, 'audio'));
    const playback = config.audio.playback;
    this.player = new Player(sink, partLogger(log, 'audio'), playback.volume, {
      maxReplyMs: playback.maxReplySeconds * 1000,
      maxBufferedMs: playback.replyBufferSeconds * 1000,
    });
    this.transport = options.transport
      ? options.transport(partLogger(log, 'link'))
      : cloudTransport(config, partLogger(log, 'link'), clock);
    this.mqtt = config.mqtt.url
      ? new MqttBridge(
          config.mqtt,
          {
            id: config.device.id,
            name: config.device.name,
            firmwareVersion: VERSION,
            model: profile.name,
            ...(config.wake.engine === 'openwakeword'
              ? { wakeWords: [...wakeChoices(config.wake).keys()] }
              : {}),
          },
          partLogger(log, 'mqtt'),
          { clock, policy: config.remote },
        )
      : undefined;
    this.ledger = new Ledger({
      file: ledgerPath(config),
      maxBytes: config.privacy.ledgerMaxBytes,
      log: partLogger(log, 'privacy'),
      clock,
      ...(options.ledgerProbeMs ? { probeMs: options.ledgerProbeMs } : {}),
    });
    this.wake = new ConfiguredWake(config.wake, partLogger(log, 'wake'));
    const u = config.utterance;
    this.vad =
      u.vad === 'silero'
        ? new SileroVad(sileroOptions(u))
        : new EnergyVad({
            thresholdDb: u.energyThresholdDb,
            trailingSilenceMs: u.trailingSilenceMs,
          });
    this.loop = new AudioLoop({
      source: typeof options.source === 'function' ? options.source(audio.capture) : options.source,
      queueFrames: config.audio.queueFrames,
      log: partLogger(log, 'audio'),
      handler: async (frame) => {
        await options.beforeFrame?.(frame);
        await this.device.onFrame(frame);
      },
    });
    this.device = new Device({
      config,
      clock,
      log: this.log,
      vad: this.vad,
      capture: this.loop,
      wake: this.wake,
      transport: this.transport,
      lights: this.gpio,
      player: this.player,
      recorder: ledgerRecorder(this.ledger),
      idPrefix: options.idPrefix ?? randomBytes(6).toString('hex'),
      ...(options.startMuted ? { startMuted: true } : {}),
    });
    this.status = new StatusBook(
      config.privacy.dontSaveRecordings,
      () => this.player.volume,
      this.log,
    );
    this.dashboard = config.dashboard.enabled
      ? ownerDashboard(config, partLogger(log, 'dashboard'), {
          snapshot: () => this.status.snapshot(),
          leds: () => this.gpio.ledStates(),
          mqtt: () => this.mqtt?.status,
        })
      : undefined;
    this.connect();
    // The order parts start in; they stop in reverse. The device starts last: it opens
    // the microphone once everything that hears, shows and sends is up.
    this.parts = [
      this.gpio,
      this.ledger,
      this.wake,
      this.vad,
      this.player,
      ...(this.mqtt ? [this.mqtt] : []),
      ...(this.dashboard ? [this.dashboard] : []),
      this.transport,
      ...(options.waitForLinkMs
        ? [new LinkWait(this.transport, options.waitForLinkMs, this.log)]
        : []),
      this.loop,
      this.device,
    ];
  }

  /** Every subscription between parts, in one place. */
  private connect(): void {
    const { device, status, transport, gpio, loop, ledger, player, wake, mqtt, dashboard } = this;
    status.watchDevice(device);
    transport.on('status', (s) => {
      status.onLink(s);
      if (s.status === 'up') device.dispatch({ type: 'linkUp' });
      else if (s.status === 'down')
        device.dispatch({ type: 'linkDown', cause: s.cause ?? 'unknown' });
    });
    transport.on('ack', (a) => device.dispatch({ type: 'ack', ...a }));
    transport.on('captureStop', ({ id }) => device.dispatch({ type: 'captureStop', id }));
    transport.on('utteranceFailed', (f) => {
      this.log.error({ id: f.id, code: f.code, message: f.message }, 'utterance failed');
      device.dispatch({ type: 'utteranceFailed', ...f });
    });
    transport.on('replyStart', ({ id, format }) =>
      device.dispatch({ type: 'replyStarted', id, format }),
    );
    transport.on('replyAudio', (chunk, id) =>
      device.dispatch({ type: 'replyAudio', chunk, ...(id !== undefined ? { id } : {}) }),
    );
    transport.on('replyEnd', ({ id, expectSpeech }) =>
      device.dispatch({ type: 'replyEnded', id, expectSpeech }),
    );
    transport.on('settings', (s) => this.applyCloudSettings(s));
    transport.on('transcript', (t) => this.log.info({ id: t.id, text: t.text }, 'heard'));
    transport.on('replyText', (r) =>
      this.log.info(
        {
          id: r.id,
          text: r.text,
          conversation: r.conversationId,
          followup: r.continueConversation,
        },
        'answer',
      ),
    );
    if (transport.destination) status.setDestination(transport.destination);
    player.on('replyDone', ({ aborted, error, refused }) => {
      // A reply the device stopped itself (barge-in, mute) is already behind it.
      if (aborted && !error) return;
      device.dispatch({
        type: 'playbackDone',
        ...(error ? { error } : {}),
        ...(refused ? { refused } : {}),
      });
    });
    player.on('flow', ({ paused }) => transport.pauseReplies?.(paused));
    ledger.on('failed', (err) =>
      device.dispatch({ type: 'partFailed', part: 'ledger', cause: err.message }),
    );
    ledger.on('recovered', () => device.dispatch({ type: 'partRecovered', part: 'ledger' }));
    loop.on('capture', (s) => {
      if (s.running) device.dispatch({ type: 'partRecovered', part: 'capture' });
      else if (!s.requested) {
        device.dispatch({ type: 'partFailed', part: 'capture', cause: s.cause ?? 'stopped' });
      }
    });
    loop.on('dropped', (n) => status.onDropped(n));
    ledger.on('head', (head) => status.onLedgerHead(head));
    gpio.on('status', (st) => status.onPartStatus('gpio', st.degraded));
    gpio.on('button', (b) => {
      this.log.info(b, 'button');
      const event = buttonEvent(b);
      if (event) device.dispatch(event);
      else this.log.info(b, 'long press (no action assigned)');
    });
    wake.on('status', (fallback) => {
      // The device answers on the fallback engine; the owner sees that something they
      // configured is not in use: log (by the factory), doctor, MQTT problems and LEDs.
      status.onPartStatus('wake', fallback);
      gpio.setDegraded('wake', fallback !== undefined);
    });
    if (dashboard) {
      dashboard.on('command', (cmd) => {
        this.log.info({ cmd }, 'command from the web page');
        device.dispatch(commandEvent(cmd));
      });
      dashboard.on('status', (problem) => status.onPartStatus('dashboard', problem));
      status.on('changed', () => dashboard.refresh());
      gpio.on('led', () => dashboard.refresh());
      mqtt?.on('status', () => dashboard.refresh());
    }
    wake.on('keywords', ({ name }) => status.onWakeWord(name));
    if (mqtt) {
      mqtt.on('command', (cmd) => {
        this.log.info({ cmd }, 'command');
        device.dispatch(commandEvent(cmd));
      });
      status.onPartStatus('mqtt', mqtt.insecurity);
      device.on('refused', (r) =>
        mqtt.reportRefused(
          r.what === 'wakeWord' ? mqtt.topics.command.wakeWord : mqtt.topics.command.announce,
          r.text,
          r.code,
          r.why,
        ),
      );
      status.on('changed', () => mqtt.update(status.snapshot()));
      // The first snapshot, published as soon as the broker is there.
      mqtt.update(status.snapshot());
    }
  }

  /** Starts every part in order; a part that cannot start stops the ones already started. */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    this.phase = 'running';
    for (const part of this.parts) {
      try {
        await part.start();
      } catch (err) {
        this.log.error({ part: part.name, err: errorMessage(err) }, 'part did not start');
        await this.stop();
        throw err;
      }
      this.started.push(part);
    }
    for (const { model, reason } of modelFallbacks()) {
      this.log.warn(
        { model, reason },
        'model opened from its .onnx, not its ORT file (more memory)',
      );
    }
    collectStartupGarbage();
  }

  /** Stops every started part in reverse order; LEDs end off, the capture process ends. */
  async stop(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'stopped';
    for (const part of [...this.started].reverse()) {
      try {
        await part.stop();
      } catch (err) {
        this.log.error({ part: part.name, err: errorMessage(err) }, 'part did not stop cleanly');
      }
    }
  }

  /**
   * Applies a reloaded configuration's settings that can change while running
   * (volume, retention, log level); everything else needs a restart, and says so.
   */
  applyLiveSettings(next: Config): void {
    const current = this.config;
    if (next.audio.playback.volume !== current.audio.playback.volume) {
      this.device.dispatch({ type: 'volume', volume: next.audio.playback.volume });
    }
    if (next.privacy.dontSaveRecordings !== current.privacy.dontSaveRecordings) {
      this.device.dispatch({
        type: 'retention',
        dontSaveRecordings: next.privacy.dontSaveRecordings,
      });
    }
    if (next.log.level !== current.log.level) this.options.log.level = next.log.level;
    const live = ['audio.playback.volume', 'privacy.dontSaveRecordings', 'log.level'];
    const changed = diffKeys(current, next).filter((k) => !live.includes(k));
    this.config = next;
    this.log.info(
      { applied: live, needsRestart: changed },
      changed.length
        ? 'config reloaded; some changes take effect after a restart'
        : 'config reloaded',
    );
  }

  /** Settings from the cloud go through the config schema, like a file's. */
  private applyCloudSettings(settings: CloudSettings): void {
    let next: Config;
    try {
      next = withChanges(
        this.config,
        { 'audio.playback.volume': settings.volume },
        'cloud settings',
      );
    } catch (err) {
      this.log.warn({ settings, err: errorMessage(err) }, 'settings from the cloud refused');
      return;
    }
    this.log.info({ settings }, 'settings from the cloud');
    this.applyLiveSettings(next);
  }
}

// Callers outside the device (doctor, ask) pick the same ALSA devices as the daemon.
export { audioDevices };

/**
 * Collects the start-up garbage (config parsing, model loading, the first handshakes)
 * once, now, instead of leaving it to V8's memory reducer, which runs seconds later,
 * after the first requests have allocated on top of it: that overlap made the daemon's
 * peak RSS, and collecting here lowered and steadied it (`npm run bench:daemon`). A
 * full collection of this heap takes milliseconds; capture is already buffered by the
 * recorder's pipe. Only where node exposes `gc` (the unit's `--expose-gc`).
 */
function collectStartupGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}
