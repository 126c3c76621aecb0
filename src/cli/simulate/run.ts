import { WavSource } from '../../audio/sources/wav-source.js';
import { readCaptureWav } from '../../shared/wav.js';
import type { AudioSink } from '../../audio/sinks/sink.js';
import type { Config } from '../../config/schema.js';
import type { UtteranceTransport } from '../../device/ports.js';
import type { Device } from '../../device/device.js';
import type { BackendFactory } from '../../gpio/index.js';
import { LocalTransport } from '../../device/local-transport.js';
import { Runtime } from '../../device/wiring.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../../shared/audio-format.js';
import { ManualClock, RealClock, type Clock } from '../../shared/clock.js';
import { EarshotError } from '../../shared/errors.js';
import type { Logger } from '../../shared/logger.js';

/** One line of `earshot simulate --json`. Times are seconds of the WAV's own time line. */
export type SimEvent =
  | { event: 'state'; t: number; state: string; previous: string }
  | { event: 'led'; t: number; name: string; on: boolean; color?: string }
  | { event: 'wake'; t: number; keyword: string; score: number; frame: number; accepted: boolean }
  | {
      event: 'upload';
      t: number;
      /** When the upload was opened (the first byte sent). */
      openT: number;
      id: string;
      audioStartT: number;
      audioEndT: number;
      bytes: number;
      preRollMs: number;
      reason: string;
      outcome: string;
      trigger: string;
      sha256: string;
      dontSaveRecordings: boolean;
      ack?: { stored: boolean; t: number };
    }
  | { event: 'press'; t: number; name: string }
  /** What the cloud heard (Home Assistant's speech-to-text). */
  | { event: 'transcript'; t: number; id: string; text: string }
  /** The answer's text, before its audio; a follow-up continues `conversationId`. */
  | {
      event: 'reply';
      t: number;
      id: string;
      text: string;
      conversationId?: string;
      continueConversation: boolean;
    }
  /** A reply (or announcement) finished playing: what reached the sink. */
  | {
      event: 'played';
      t: number;
      id: string;
      bytes: number;
      sampleRate: number;
      seconds: number;
      aborted: boolean;
    }
  | {
      event: 'summary';
      t: number;
      seconds: number;
      frames: number;
      wakes: number;
      uploads: number;
      droppedFrames: number;
      finalState: string;
      wakeEngine: string;
      transport: string;
      /** With a cloud configured: whether the link ever came up, and why not. */
      cloud?: { reached: boolean; cause?: string };
      wallMs: number;
    };

export interface Press {
  name: 'mute' | 'action';
  seconds: number;
}

export interface SimulateOptions {
  wav: string;
  config: Config;
  log: Logger;
  realtime?: boolean;
  presses?: Press[];
  transport?: (log: Logger) => UtteranceTransport;
  sink?: AudioSink;
  /** Every event as it happens. */
  onEvent: (e: SimEvent) => void;
  /** After the recording ends, how long (ms of simulated time) to wait for the device to settle. */
  settleMs?: number;
  /** Builds the GPIO backends (tests record an SPI LED chain's frames). */
  gpioBackendFactory?: BackendFactory;
  /** Called once the runtime is running (e.g. to attach MQTT). */
  onStarted?: (runtime: Runtime) => Promise<void> | void;
}

const round = (t: number): number => Math.round(t * 1000) / 1000;

/** The local stand-in answers this long (virtual time) after an utterance ends. */
export const LOCAL_ANSWER_MS = 80;
/** A guard, in real time, for the wait on the ledger while the virtual clock stands. */
const LEDGER_WAIT_MS = 10_000;

/**
 * Runs the real device pipeline with a WAV file as the microphone and simulated GPIO.
 * Without `realtime` the clock is virtual: it advances 80 ms per frame, so every event
 * time is on the WAV's time line and a run is the same however fast the machine is.
 */
export async function simulate(options: SimulateOptions): Promise<SimEvent & { event: 'summary' }> {
  const started = performance.now();
  const samples = await readCaptureWav(options.wav);
  const seconds = samples.length / SAMPLE_RATE;
  for (const press of options.presses ?? []) {
    if (press.seconds > seconds) {
      throw new EarshotError(
        'E_USAGE',
        `--press ${press.name}@${press.seconds} is after the end of ${options.wav} (${round(seconds)} s)`,
        { hint: 'give a time inside the recording' },
      );
    }
  }
  const manual = options.realtime ? undefined : new ManualClock();
  const clock: Clock = manual ?? new RealClock();
  const config: Config = {
    ...options.config,
    gpio: { ...options.config.gpio, backend: 'simulated' },
  };
  const frameEnd = (index: number): number => (index + 1) * FRAME_MS;
  // Without a cloud, the stand-in answers on the virtual clock, so a run prints the
  // same lines every time.
  const local =
    !options.transport && !config.cloud.url
      ? new LocalTransport(manual ? { clock, answerMs: LOCAL_ANSWER_MS } : {})
      : undefined;
  const transport = options.transport ?? (local ? () => local : undefined);
  const source = new WavSource({
    samples,
    pace: options.realtime ? 'realtime' : 'fast',
    onUnheard: (i) => manual?.advanceTo(frameEnd(i)),
  });
  const runtime = new Runtime({
    config,
    log: options.log,
    clock,
    source,
    ...(transport ? { transport } : {}),
    ...(options.gpioBackendFactory ? { gpioBackendFactory: options.gpioBackendFactory } : {}),
    ...(options.sink ? { sink: options.sink } : {}),
    beforeFrame: async (frame) => {
      if (!manual) return;
      await waitForNetwork(frame);
      await waitForLedger();
      manual.advanceTo(frameEnd(frame.index));
    },
    waitForLinkMs: config.cloud.connectTimeoutMs,
  });
  // Shutdown turns every LED off and closes the link; those changes come after the
  // summary and are not part of the recording's events.
  let finished = false;
  // On the real clock, time 0 is when the recording starts (after models have loaded):
  // events from before are held until then and reported at 0.
  let origin: number | undefined = options.realtime ? undefined : 0;
  const early: Array<{ at: number; e: SimEvent }> = [];
  const emit = (e: SimEvent, at?: number): void => {
    if (finished && e.event !== 'summary') return;
    if (origin === undefined) early.push({ at: at ?? clock.now(), e });
    else options.onEvent(e);
  };
  const sec = (ms: number): number => round(Math.max(0, ms - (origin ?? 0)) / 1000);
  const uploads = new Map<string, SimEvent & { event: 'upload' }>();
  let wakes = 0;
  // On a virtual clock the recording runs far faster than real time. While the device
  // waits on a real network (thinking, speaking), the recording is paced at real time,
  // so a real cloud's reply is not timed out by audio that "passed" in microseconds.
  let sync: { virtual: number; real: number } | undefined;
  const waitForNetwork = async (frame: { index: number }): Promise<void> => {
    const state = runtime.device.state;
    if (runtime.transport.kind === 'local' || (state !== 'thinking' && state !== 'speaking')) {
      sync = undefined;
      return;
    }
    sync ??= { virtual: clock.now(), real: performance.now() };
    const ahead = frameEnd(frame.index) - sync.virtual - (performance.now() - sync.real);
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead));
  };
  // An utterance that ended is written to the ledger (fsync) before it is committed to
  // the cloud. On the virtual clock that wait takes no time: the clock stands still
  // until the stand-in has it, so the acknowledgement does not depend on the disk.
  const waitForLedger = async (): Promise<void> => {
    if (!local || runtime.device.state !== 'thinking' || local.openUtterances === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      local.allClosed(),
      new Promise((r) => (timer = setTimeout(r, LEDGER_WAIT_MS))),
    ]);
    clearTimeout(timer);
  };
  function watch(device: Device): void {
    device.on('state', (s) =>
      emit({ event: 'state', t: sec(s.at), state: s.state, previous: s.previous }),
    );
    device.on('wake', (w) => {
      wakes += 1;
      emit({
        event: 'wake',
        t: sec(w.at),
        keyword: w.keyword,
        score: round(w.score),
        frame: w.frameIndex,
        accepted: w.accepted,
      });
    });
    device.on('upload', (u) => {
      const line: SimEvent & { event: 'upload' } = {
        event: 'upload',
        t: sec(u.closedAt),
        openT: sec(u.openedAt),
        id: u.id,
        audioStartT: round(u.startSample / SAMPLE_RATE),
        audioEndT: round(u.endSample / SAMPLE_RATE),
        bytes: u.bytes,
        preRollMs: u.preRollMs,
        reason: u.reason,
        outcome: u.outcome,
        trigger: u.trigger.kind,
        sha256: u.sha256,
        dontSaveRecordings: u.dontSaveRecordings,
      };
      uploads.set(u.id, line);
      if (u.outcome !== 'sent') emit(line);
    });
    device.on('ack', (a) => {
      const line = uploads.get(a.id);
      // A sent upload is printed once, with its acknowledgement. One that was not sent
      // was printed when it ended; the cloud's acknowledgement of the abort adds nothing.
      if (line && !line.ack && line.outcome === 'sent') {
        line.ack = { stored: a.stored, t: sec(a.at) };
        emit(line);
      }
    });
  }
  const now = (): number => sec(clock.now());

  watch(runtime.device);
  const link: { reached: boolean; cause?: string } = { reached: false };
  runtime.transport.on('status', (s) => {
    if (s.status === 'up') link.reached = true;
    else if (s.status === 'down' && s.cause && s.cause !== 'stopped') link.cause = s.cause;
  });
  watchAnswers(runtime, emit, now);
  runtime.gpio.on('led', (e) =>
    emit({
      event: 'led',
      t: sec(e.at),
      name: e.name,
      on: e.on,
      ...(e.color ? { color: e.color } : {}),
    }),
  );
  await runtime.start();
  if (origin === undefined) {
    origin = clock.now();
    for (const { e } of early) options.onEvent({ ...e, t: 0 });
  }
  const device = runtime.device;
  const simulated = runtime.gpio.simulated;
  for (const press of options.presses ?? []) {
    if (!simulated) throw new EarshotError('E_SIMULATE', 'button presses need simulated GPIO');
    clock.setTimeout(() => {
      emit({ event: 'press', t: now(), name: press.name });
      simulated.press(press.name);
      clock.setTimeout(() => simulated.release(press.name), 120);
    }, press.seconds * 1000);
  }
  await options.onStarted?.(runtime);

  await runtime.loop.finished();
  await settle(
    runtime,
    clock,
    manual,
    waitForLedger,
    Math.ceil(samples.length / FRAME_SAMPLES),
    options.settleMs ?? config.utterance.replyTimeoutMs + 1000,
  );
  // Uploads whose acknowledgement never came are still reported.
  for (const line of uploads.values()) if (line.outcome === 'sent' && !line.ack) emit(line);
  const summary = {
    event: 'summary' as const,
    t: now(),
    seconds: round(samples.length / SAMPLE_RATE),
    frames: Math.ceil(samples.length / FRAME_SAMPLES),
    wakes,
    uploads: [...uploads.values()].filter((u) => u.outcome === 'sent').length,
    droppedFrames: runtime.loop.droppedFrames,
    finalState: device.state,
    wakeEngine: runtime.wake?.engine ?? 'none',
    transport: runtime.transport.kind,
    ...(config.cloud.url
      ? {
          cloud: {
            reached: link.reached,
            ...(link.reached || !link.cause ? {} : { cause: link.cause }),
          },
        }
      : {}),
    wallMs: Math.round(performance.now() - started),
  };
  finished = true;
  await runtime.stop();
  emit(summary);
  return summary;
}

/**
 * After the recording: time goes on (as silence) until the device is back at rest,
 * a reply has played, and LED patterns have finished their current step.
 */
async function settle(
  runtime: Runtime,
  clock: Clock,
  manual: ManualClock | undefined,
  waitForLedger: () => Promise<void>,
  nextFrame: number,
  maxMs: number,
): Promise<void> {
  const busy = (): boolean => {
    const s = runtime.device.state;
    return s === 'listening' || s === 'thinking' || s === 'speaking' || s === 'booting';
  };
  const deadline = clock.now() + maxMs;
  let index = nextFrame;
  while (busy() && clock.now() < deadline) {
    if (runtime.device.state === 'listening') {
      // A microphone never stops: after the recording it hears silence, which ends
      // an open utterance exactly as a quiet room would.
      manual?.advanceTo((index + 1) * FRAME_MS);
      await runtime.device.onFrame({ index, samples: new Int16Array(FRAME_SAMPLES) });
      index += 1;
      if (!manual) await new Promise((r) => setTimeout(r, FRAME_MS));
      continue;
    }
    await waitForLedger();
    await new Promise((r) => setTimeout(r, manual ? 5 : FRAME_MS));
    manual?.advanceBy(5);
  }
  await runtime.player.idle();
}

/** The cloud's words (transcript, answer) and the replies that played, as events. */
function watchAnswers(runtime: Runtime, emit: (e: SimEvent) => void, now: () => number): void {
  const { transport, player, device } = runtime;
  transport.on('transcript', (x) =>
    emit({ event: 'transcript', t: now(), id: x.id, text: x.text }),
  );
  transport.on('replyText', (r) =>
    emit({
      event: 'reply',
      t: now(),
      id: r.id,
      text: r.text,
      ...(r.conversationId ? { conversationId: r.conversationId } : {}),
      continueConversation: r.continueConversation,
    }),
  );
  let playing: { id: string; sampleRate: number } | undefined;
  // Registered after the wiring's listener: the device has already taken it (or not).
  transport.on('replyStart', ({ id, format }) => {
    const m = device.model;
    const taken =
      (m.state.name === 'speaking' && m.state.utterance.id === id) || m.announcement?.id === id;
    if (taken) playing = { id, sampleRate: format.sampleRate };
  });
  player.on('replyDone', ({ aborted, bytes }) => {
    if (!playing) return;
    const { id, sampleRate } = playing;
    playing = undefined;
    const seconds = Math.round((bytes / 2 / sampleRate) * 1000) / 1000;
    emit({ event: 'played', t: now(), id, bytes, sampleRate, seconds, aborted });
  });
}
