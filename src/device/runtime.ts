import { AudioLoop } from '../audio/audio-loop.js';
import { EnergyVad } from '../audio/energy-vad.js';
import { SileroVad } from '../audio/silero-vad.js';
import { Player } from '../audio/player.js';
import { createSink } from '../audio/sinks/create-sink.js';
import type { AudioSink } from '../audio/sinks/sink.js';
import type { FrameSource } from '../audio/sources/source.js';
import { loadBoardProfile, type BoardProfile } from '../config/board-profile.js';
import type { Config } from '../config/schema.js';
import { Gpio, type BackendFactory } from '../gpio/index.js';
import type { Frame } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { errorMessage } from '../shared/errors.js';
import { partLogger, type Logger } from '../shared/logger.js';
import { MqttBridge } from '../mqtt/index.js';
import { VERSION } from '../shared/version.js';
import type { WakeDetector } from '../wake/detector.js';
import { createWakeDetector } from '../wake/factory.js';
import { Device } from './device.js';
import { CloudTransport } from './cloud-transport.js';
import { LocalTransport } from './local-transport.js';
import type { UploadRecorder, UtteranceTransport } from './ports.js';
import { Ledger } from '../privacy/ledger.js';
import { ledgerPath } from '../privacy/ledger-path.js';

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
  /** Called with the device as soon as it exists, before it boots (to watch every event). */
  onDevice?: (device: Device) => void;
  /** Start muted (e.g. the mute switch was on at shutdown). */
  startMuted?: boolean;
  /**
   * Wait up to this long for the cloud link before the microphone opens (simulate
   * against a cloud: a run should not depend on how fast TLS connects).
   */
  waitForLinkMs?: number;
  /** How often a failed ledger is probed for recovery. */
  ledgerProbeMs?: number;
}

/** Dotted keys whose values differ between two configs. */
function diffKeys(a: unknown, b: unknown, prefix = ''): string[] {
  if (a && b && typeof a === 'object' && typeof b === 'object' && !Array.isArray(a)) {
    const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
    return [...keys].flatMap((k) =>
      diffKeys(
        (a as Record<string, unknown>)[k],
        (b as Record<string, unknown>)[k],
        prefix ? `${prefix}.${k}` : k,
      ),
    );
  }
  return JSON.stringify(a) === JSON.stringify(b) ? [] : [prefix];
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

/** Adapts the ledger to the device's recorder port. */
function ledgerRecorder(ledger: Ledger): UploadRecorder {
  return {
    record: async (u) => {
      await ledger.append({
        type: 'utterance',
        id: u.id,
        start: u.start,
        end: u.end,
        trigger:
          u.trigger.kind === 'wake'
            ? {
                kind: 'wake',
                keyword: u.trigger.keyword,
                score: Math.round(u.trigger.score * 1000) / 1000,
              }
            : { kind: u.trigger.kind },
        preRollMs: u.preRollMs,
        durationMs: u.durationMs,
        bytes: u.bytes,
        sha256: u.sha256,
        dontSaveRecordings: u.dontSaveRecordings,
        outcome: u.outcome,
        reason: u.reason,
      });
    },
    recordAck: async (id, stored) => {
      await ledger.append({ type: 'ack', id, stored });
    },
  };
}

/**
 * Builds the whole device from the configuration and runs it: the only place that
 * knows every part. Parts get what they need in their constructors and meet only
 * through the Device's interfaces and events.
 */
export class Runtime {
  readonly gpio: Gpio;
  readonly player: Player;
  readonly loop: AudioLoop;
  readonly transport: UtteranceTransport;
  readonly ledger: Ledger;
  readonly mqtt: MqttBridge | undefined;
  private ledgerProbe: NodeJS.Timeout | undefined;
  private wakeDetector: WakeDetector | undefined;
  private vad: EnergyVad | SileroVad | undefined;
  private deviceValue: Device | undefined;
  readonly log: Logger;
  private phase: 'new' | 'running' | 'stopped' = 'new';

  constructor(private options: RuntimeOptions) {
    const { config, log, clock } = options;
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
    this.player = new Player(sink, partLogger(log, 'audio'), config.audio.playback.volume);
    this.transport = options.transport
      ? options.transport(partLogger(log, 'link'))
      : config.cloud.url
        ? new CloudTransport(config, partLogger(log, 'link'))
        : new LocalTransport();
    this.mqtt = config.mqtt.url
      ? new MqttBridge(
          config.mqtt,
          {
            id: config.device.id,
            name: config.device.name,
            firmwareVersion: VERSION,
            model: profile.name,
          },
          partLogger(log, 'mqtt'),
        )
      : undefined;
    this.ledger = new Ledger({
      file: ledgerPath(config),
      maxBytes: config.privacy.ledgerMaxBytes,
      log: partLogger(log, 'privacy'),
    });
    this.loop = new AudioLoop({
      source: typeof options.source === 'function' ? options.source(audio.capture) : options.source,
      queueFrames: config.audio.queueFrames,
      log: partLogger(log, 'audio'),
      handler: async (frame) => {
        await options.beforeFrame?.(frame);
        await this.deviceValue?.onFrame(frame);
      },
    });
  }

  get device(): Device {
    if (!this.deviceValue) throw new Error('runtime not started');
    return this.deviceValue;
  }

  get wake(): WakeDetector | undefined {
    return this.wakeDetector;
  }

  /** Starts every part; resolves when audio, wake detector and GPIO are up. */
  async start(): Promise<void> {
    if (this.phase !== 'new') return;
    const { config, log, clock } = this.options;
    await this.gpio.start();
    let ledgerError: string | undefined;
    try {
      await this.ledger.open();
    } catch (err) {
      // The rest of the device still serves (MQTT, LEDs); only uploads stay stopped.
      ledgerError = `cannot open the ledger ${this.ledger.file}: ${errorMessage(err)}`;
      this.log.error(ledgerError);
    }
    const { detector, fallback } = await createWakeDetector(config.wake, partLogger(log, 'wake'));
    this.wakeDetector = detector;
    const u = config.utterance;
    const vad =
      u.vad === 'silero'
        ? await SileroVad.open({ trailingSilenceMs: u.trailingSilenceMs })
        : new EnergyVad({
            thresholdDb: u.energyThresholdDb,
            trailingSilenceMs: u.trailingSilenceMs,
          });
    this.vad = vad;
    const device = new Device({
      vad,
      config,
      clock,
      log: this.log,
      capture: this.loop,
      wake: detector,
      transport: this.transport,
      lights: this.gpio,
      player: this.player,
      recorder: ledgerRecorder(this.ledger),
    });
    this.deviceValue = device;
    this.options.onDevice?.(device);
    if (ledgerError) device.dispatch({ type: 'partFailed', part: 'ledger', cause: ledgerError });
    this.ledger.on('failed', () => this.watchLedger());
    if (ledgerError) this.watchLedger();
    this.ledger.on('recovered', () => device.dispatch({ type: 'partRecovered', part: 'ledger' }));
    if (fallback) {
      // The device answers on the fallback engine; the owner sees that something they
      // configured is not in use: log (by the factory), doctor, MQTT problems and LEDs.
      device.status.setProblem({ part: 'wake', ...fallback });
      this.gpio.setDegraded('wake', true);
    }
    const gpioStatus = this.gpio.status;
    if (gpioStatus?.degraded) device.status.setProblem({ part: 'gpio', ...gpioStatus.degraded });
    this.gpio.on('status', (st) => {
      if (st.degraded) device.status.setProblem({ part: 'gpio', ...st.degraded });
      else device.status.clearProblem('gpio');
      device.emitChanged();
    });
    this.gpio.on('button', (b) => device.handleButton(b));
    this.loop.on('capture', (s) => {
      if (s.running) device.dispatch({ type: 'partRecovered', part: 'capture' });
      else if (!s.requested) {
        device.dispatch({ type: 'partFailed', part: 'capture', cause: s.cause ?? 'stopped' });
      }
    });
    this.loop.on('dropped', (n) => {
      device.status.droppedFrames = n;
    });
    const mqtt = this.mqtt;
    if (mqtt) {
      // MQTT is optional: it connects in the background and never holds up the device.
      mqtt.on('command', (cmd) => device.command(cmd));
      device.on('changed', () => mqtt.update(device.status.snapshot()));
      await mqtt.start();
      // The first snapshot (with any problem found while starting, e.g. simulated GPIO).
      mqtt.update(device.status.snapshot());
    }
    const linkUp = this.options.waitForLinkMs ? this.linkUp(this.options.waitForLinkMs) : undefined;
    await this.transport.start();
    if (linkUp && !(await linkUp)) this.log.warn('the cloud link is not up yet; starting anyway');
    this.loop.start();
    this.phase = 'running';
    device.booted(this.options.startMuted ?? false);
  }

  private linkUp(ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), ms);
      this.transport.on('status', (s) => {
        if (s.status === 'up' || s.status === 'disabled') {
          clearTimeout(timer);
          resolve(true);
        }
      });
    });
  }

  /**
   * Applies a reloaded configuration's settings that can change while running
   * (volume, retention, log level); everything else needs a restart, and says so.
   */
  applyLiveSettings(next: Config): void {
    const current = this.options.config;
    const device = this.device;
    if (next.audio.playback.volume !== current.audio.playback.volume) {
      device.command({ type: 'volume', volume: next.audio.playback.volume });
    }
    if (next.privacy.dontSaveRecordings !== current.privacy.dontSaveRecordings) {
      device.command({ type: 'retention', dontSaveRecordings: next.privacy.dontSaveRecordings });
    }
    if (next.log.level !== current.log.level) this.options.log.level = next.log.level;
    const live = ['audio.playback.volume', 'privacy.dontSaveRecordings', 'log.level'];
    const changed = diffKeys(current, next).filter((k) => !live.some((l) => k === l));
    this.options.config = next;
    this.log.info(
      { applied: live, needsRestart: changed },
      changed.length
        ? 'config reloaded; some changes take effect after a restart'
        : 'config reloaded',
    );
  }

  /** While the ledger is failed, check now and then whether it can be written again. */
  private watchLedger(): void {
    if (this.ledgerProbe) return;
    this.ledgerProbe = setInterval(() => {
      void this.ledger.probe().then(async (ok) => {
        if (!ok) return;
        if (
          !this.ledger.healthy ||
          this.device.currentModel.failed.some((f) => f.part === 'ledger')
        ) {
          try {
            await this.ledger.open();
          } catch {
            return;
          }
          this.ledger.markRecovered();
          this.device.dispatch({ type: 'partRecovered', part: 'ledger' });
        }
        clearInterval(this.ledgerProbe);
        this.ledgerProbe = undefined;
      });
    }, this.options.ledgerProbeMs ?? 30_000);
    this.ledgerProbe.unref();
  }

  /** Stops every part in reverse order; LEDs end off, the capture process ends. */
  async stop(): Promise<void> {
    if (this.phase !== 'running') return;
    this.phase = 'stopped';
    const device = this.device;
    if (device.state === 'listening') {
      // Half an utterance is not a request: the cloud is told to discard it.
      this.log.warn('shutdown: the utterance in flight is aborted (the cloud discards it)');
      device.dispatch({ type: 'stop' });
    } else if (device.state === 'thinking' || device.state === 'speaking') {
      this.log.info(`shutdown while ${device.state}: the reply is abandoned`);
      device.dispatch({ type: 'stop' });
    }
    const steps: Array<[string, () => Promise<void> | void]> = [
      ['audio', () => this.loop.stop()],
      ['playback', () => this.player.stopReply()],
      ['link', () => this.transport.stop()],
      ['mqtt', () => this.mqtt?.stop()],
      ['wake', () => this.wakeDetector?.stop()],
      ['vad', () => (this.vad instanceof SileroVad ? this.vad.close() : undefined)],
      ['gpio', () => this.gpio.stop()],
      ['ledger', () => this.ledger.close()],
    ];
    clearInterval(this.ledgerProbe);
    for (const [part, step] of steps) {
      try {
        await step();
      } catch (err) {
        this.log.error({ part, err: errorMessage(err) }, 'part did not stop cleanly');
      }
    }
  }
}
