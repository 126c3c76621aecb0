import type { Command } from 'commander';
import { MicSource } from '../../audio/sources/mic-source.js';
import { NoCloudTransport } from '../../device/local-transport.js';
import { Runtime } from '../../device/wiring.js';
import { statusLine } from '../../service/status-line.js';
import { SystemdNotifier } from '../../service/systemd-notify.js';
import { RealClock } from '../../shared/clock.js';
import { errorMessage } from '../../shared/errors.js';
import { createRootLogger, partLogger, type Logger } from '../../shared/logger.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';

/** How long shutdown may take before the process exits anyway. */
const STOP_DEADLINE_MS = 5000;

export function registerRun(program: Command): void {
  addConfigOptions(
    program
      .command('run')
      .description('run the speaker: microphone, wake word, LEDs and buttons, cloud link, MQTT'),
  ).action(async (flags: ConfigOptions) => {
    const config = configFromOptions(flags);
    const log = createRootLogger({ level: config.log.level, format: config.log.format });
    // Before anything is spawned: children must not inherit NOTIFY_SOCKET.
    const notifier = SystemdNotifier.fromProcess(partLogger(log, 'systemd'));
    const clock = new RealClock();
    const source = (device: string): MicSource =>
      new MicSource({
        device,
        restart: config.audio.capture.restart,
        clock,
        log: partLogger(log, 'audio'),
      });
    const runtime = new Runtime({
      config,
      log,
      clock,
      source,
      // No local-only mode: without a cloud the speaker is offline, not a local recorder.
      ...(config.cloud.url ? {} : { transport: () => new NoCloudTransport() }),
    });
    await runtime.start();
    const { device, status } = runtime;
    notifier.ready(statusLine(status.snapshot()));
    const reportStatus = (): void => notifier.status(statusLine(status.snapshot()));
    status.on('changed', reportStatus);
    const watchdog = startWatchdog(runtime, notifier);
    log.info({ device: config.device.id, state: device.state }, 'earshot is running');

    process.on('SIGHUP', () => reload(flags, runtime, log));
    const signal = await untilSignal();
    log.info({ signal }, 'stopping');
    status.off('changed', reportStatus);
    notifier.stopping('stopping');
    clearInterval(watchdog);
    const deadline = setTimeout(() => {
      log.error({ deadlineMs: STOP_DEADLINE_MS }, 'shutdown took too long; exiting anyway');
      process.exit(1);
    }, STOP_DEADLINE_MS);
    deadline.unref();
    try {
      await runtime.stop();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'shutdown failed');
    }
    await notifier.flush();
  });
}

/**
 * The systemd watchdog is fed by the audio loop's own progress, not by a timer that
 * would keep a wedged daemon alive: while capture is open, a ping needs frames to have
 * gone through the loop since the last one. While capture is closed on purpose (muted)
 * or being restarted after a failure, there are no frames to wait for, and the event
 * loop turning is the sign of life.
 */
function startWatchdog(runtime: Runtime, notifier: SystemdNotifier): NodeJS.Timeout {
  let lastFrames = -1;
  const everyMs = Math.max(250, Math.floor((notifier.watchdogMs ?? 20_000) / 4));
  const timer = setInterval(() => {
    const frames = runtime.loop.framesHandled;
    const progressing = frames !== lastFrames;
    lastFrames = frames;
    if (progressing || !runtime.loop.isCapturing || !runtime.loop.sourceRunning)
      notifier.watchdogPing();
  }, everyMs);
  timer.unref();
  return timer;
}

/** SIGHUP: re-read the config. An invalid file is refused and the running config stays. */
function reload(flags: ConfigOptions, runtime: Runtime, log: Logger): void {
  let next;
  try {
    next = configFromOptions(flags);
  } catch (err) {
    log.error(
      { err: errorMessage(err) },
      'reload refused: the new configuration is invalid; the running one stays',
    );
    return;
  }
  runtime.applyLiveSettings(next);
}

function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
