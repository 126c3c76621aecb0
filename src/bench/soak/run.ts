import { writeFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { NullSink } from '../../audio/sinks/null-sink.js';
import { CloudTransport } from '../../device/cloud-transport.js';
import { Runtime } from '../../device/wiring.js';
import { verifyLedger } from '../../privacy/verify.js';
import { FRAME_MS, FRAME_SAMPLES } from '../../shared/audio-format.js';
import { ManualClock } from '../../shared/clock.js';
import { seededRandom } from '../wake/noise.js';
import { Chaos, type ChaosCounts } from './chaos.js';
import { fullGc, MemoryTrack, MIB, openFds, Tally } from './metrics.js';
import { MixedSource, type MixStats } from './mixed-source.js';
import { SoakObserver, type SoakCounts } from './observer.js';
import { buildWorld } from './setup.js';

/**
 * One soak: N simulated hours of mixed room audio through the real device pipeline
 * (openWakeWord, VAD, state machine, ledger, TLS link) against the reference cloud
 * in this process, with cloud faults and mute presses at random moments. The clock
 * is virtual and moves with the audio, except while the device waits for the cloud
 * (thinking, speaking): there it follows real time, as `earshot simulate` does, so
 * the real network's replies are not timed out by audio that passed in microseconds.
 */
export interface SoakOptions {
  hours: number;
  seed: number;
  /**
   * Simulated hours left out of the memory slope; default the first quarter of the run.
   * Memory grows for a while without leaking: V8 widens its young generation (tens of
   * MiB of heap committed, not used) and the allocator its arenas, over the first
   * simulated hours, then stays flat. The heap slope (after a full collection) is the
   * sharper leak signal; the RSS slope catches native leaks.
   */
  warmupHours?: number;
  faultEveryMin?: number;
  muteEveryMin?: number;
  /** Write every memory sample here as CSV. */
  samplesFile?: string;
  /** Called about once a second of real time. */
  onProgress?: (p: SoakProgress) => void;
}

export interface SoakProgress {
  simulatedHours: number;
  hours: number;
  wallSeconds: number;
  wakes: number;
  uploads: number;
  rssMiB: number;
}

export interface SoakReport extends SoakCounts {
  simulatedHours: number;
  seed: number;
  wallSeconds: number;
  wallSecondsPerSimulatedHour: number;
  failures: Record<string, number>;
  abortedOnPurpose: Record<string, number>;
  chaos: ChaosCounts;
  mix: MixStats;
  droppedFrames: number;
  rssStartMiB: number;
  rssEndMiB: number;
  rssPeakMiB: number;
  warmupHours: number;
  rssSlopeMiBPerHour: number;
  heapSlopeMiBPerHour: number;
  memorySamples: number;
  eventLoopLagP99Ms: number;
  eventLoopLagMaxMs: number;
  fdStart: number;
  fdEnd: number;
  fdPeak: number;
  ledgerVerified: boolean;
  ledgerProblem?: string;
  ledgerEntries: number;
  ledgerFiles: number;
  /** Warnings and errors the daemon logged, by message. */
  logWarnings: Record<string, number>;
  finalState: string;
}

const FRAMES_PER_HOUR = (3600 * 1000) / FRAME_MS;
const FRAMES_PER_MINUTE = FRAMES_PER_HOUR / 60;
const round = (v: number, digits = 2): number => Number(v.toFixed(digits));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A pino destination that only counts warnings and errors by message. */
function countingLogger(tally: Tally): pino.Logger {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      try {
        const line = JSON.parse(chunk.toString()) as { level?: number; msg?: string };
        tally.add(`${(line.level ?? 0) >= 50 ? 'error' : 'warn'}: ${line.msg ?? '?'}`);
      } catch {
        tally.add('unparsable log line');
      }
      done();
    },
  });
  return pino({ level: 'warn', base: {} }, stream);
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const started = performance.now();
  const lag = monitorEventLoopDelay({ resolution: 10 });
  const hours = options.hours;
  const warmupHours = options.warmupHours ?? hours * 0.25;
  const random = seededRandom(options.seed);
  const logTally = new Tally();
  const log = countingLogger(logTally);
  const world = await buildWorld({ log, replyTimeoutMs: 5000, ledgerMaxBytes: 256 * 1024 });
  const clock = new ManualClock();
  const frameEnd = (index: number): number => (index + 1) * FRAME_MS;
  const totalFrames = Math.round(hours * FRAMES_PER_HOUR);
  const gc = fullGc();
  // The collection pauses the event loop on purpose: it is not lag the daemon caused.
  let measuring = false;
  const memory = new MemoryTrack(() => {
    if (measuring) lag.disable();
    gc();
    if (measuring) lag.enable();
  });
  const observer = new SoakObserver();
  observer.watchCloud(world.cloud);
  let fdPeak = 0;
  let rssPeak = 0;
  let lastMinute = -1;
  const sampleMinute = (index: number): void => {
    const minute = Math.floor(index / FRAMES_PER_MINUTE);
    if (minute === lastMinute) return;
    lastMinute = minute;
    memory.sample(index / FRAMES_PER_HOUR);
    const last = memory.rss[memory.rss.length - 1]!;
    rssPeak = Math.max(rssPeak, last[1]);
    fdPeak = Math.max(fdPeak, openFds());
  };
  const source = new MixedSource({
    clips: world.clips,
    totalFrames,
    random,
    onUnheard: (i) => {
      clock.advanceTo(frameEnd(i));
      sampleMinute(i);
    },
  });
  // While the device waits on the real network, audio is paced at real time.
  let sync: { virtual: number; real: number } | undefined;
  let lastIndex = 0;
  const runtime: Runtime = new Runtime({
    config: world.config,
    log,
    clock,
    source,
    sink: new NullSink(),
    beforeFrame: async (frame) => {
      const state = runtime.device.state;
      if (state === 'thinking' || state === 'speaking') {
        sync ??= { virtual: clock.now(), real: performance.now() };
        const ahead = frameEnd(frame.index) - sync.virtual - (performance.now() - sync.real);
        if (ahead > 0) await sleep(ahead);
      } else sync = undefined;
      clock.advanceTo(frameEnd(frame.index));
      lastIndex = frame.index;
      sampleMinute(frame.index);
    },
    // The first wake word must not race the TLS handshake.
    waitForLinkMs: 15_000,
  });
  observer.watchDevice(runtime.device);
  observer.watchLeds(runtime.gpio);

  let chaos: Chaos | undefined;
  let progress: NodeJS.Timeout | undefined;
  try {
    await runtime.start();
    await waitFor(() => linkUp(runtime), 15_000, 'the cloud link to come up');
    const fdStart = openFds();
    const rssStart = process.memoryUsage().rss / MIB;
    const buttons = runtime.gpio.simulated;
    if (!buttons) throw new Error('soak needs simulated GPIO');
    chaos = new Chaos({
      clock,
      random,
      cloud: world.cloud,
      buttons,
      faultEveryMin: options.faultEveryMin ?? 12,
      muteEveryMin: options.muteEveryMin ?? 40,
    });
    chaos.start();
    lag.enable();
    measuring = true;
    const report = (): SoakProgress => ({
      simulatedHours: clock.now() / 3_600_000,
      hours,
      wallSeconds: (performance.now() - started) / 1000,
      wakes: observer.counts.wakes,
      uploads: observer.counts.uploads,
      rssMiB: process.memoryUsage().rss / MIB,
    });
    if (options.onProgress) {
      const onProgress = options.onProgress;
      progress = setInterval(() => onProgress(report()), 1000);
      progress.unref();
    }

    await runtime.loop.finished();
    measuring = false;
    lag.disable();
    chaos.stop();
    await settle(runtime, clock, lastIndex + 1);
    // Compare descriptors like with like: the link up again, the device at rest.
    await waitFor(() => linkUp(runtime), 15_000, 'the cloud link to come back').catch(() => {});
    await sleep(300);
    const fdEnd = openFds();
    const rssEnd = process.memoryUsage().rss / MIB;
    const finalState = runtime.device.state;
    const droppedFrames = runtime.loop.droppedFrames;
    await runtime.stop();
    observer.finish();
    const verified = await verifyLedger(world.ledger);
    if (options.samplesFile) writeFileSync(options.samplesFile, `${memory.rows.join('\n')}\n`);
    const slopes = memory.slopes(warmupHours);
    const wallSeconds = (performance.now() - started) / 1000;
    return {
      simulatedHours: round(totalFrames / FRAMES_PER_HOUR, 3),
      seed: options.seed,
      wallSeconds: round(wallSeconds, 1),
      wallSecondsPerSimulatedHour: round(wallSeconds / hours, 1),
      ...observer.counts,
      failures: observer.failures.toJSON(),
      abortedOnPurpose: observer.aborts.toJSON(),
      chaos: chaos.counts,
      mix: source.stats,
      droppedFrames,
      rssStartMiB: round(rssStart, 1),
      rssEndMiB: round(rssEnd, 1),
      rssPeakMiB: round(rssPeak, 1),
      warmupHours: round(warmupHours, 3),
      rssSlopeMiBPerHour: round(slopes.rss, 3),
      heapSlopeMiBPerHour: round(slopes.heap, 3),
      memorySamples: slopes.samples,
      eventLoopLagP99Ms: round(lag.percentile(99) / 1e6, 1),
      eventLoopLagMaxMs: round(lag.max / 1e6, 1),
      fdStart,
      fdEnd,
      fdPeak,
      ledgerVerified: verified.ok,
      ...(verified.problem
        ? { ledgerProblem: `${verified.problem.kind}: ${verified.problem.message}` }
        : {}),
      ledgerEntries: verified.entries.length,
      ledgerFiles: verified.files.length,
      logWarnings: logTally.toJSON(),
      finalState,
    };
  } finally {
    clearInterval(progress);
    chaos?.stop();
    await runtime.stop().catch(() => undefined);
    await world.dispose();
  }
}

function linkUp(runtime: Runtime): boolean {
  return runtime.transport instanceof CloudTransport && runtime.transport.link.isUp;
}

async function waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * After the stream: the room goes quiet (silence frames) until the device is back at
 * rest, so the last request ends, is recorded and acknowledged like every other.
 */
async function settle(runtime: Runtime, clock: ManualClock, nextFrame: number): Promise<void> {
  const busy = (): boolean => ['listening', 'thinking', 'speaking'].includes(runtime.device.state);
  const deadline = performance.now() + 30_000;
  let index = nextFrame;
  while (busy() && performance.now() < deadline) {
    if (runtime.device.state === 'listening') {
      clock.advanceTo((index + 1) * FRAME_MS);
      await runtime.device.onFrame({ index, samples: new Int16Array(FRAME_SAMPLES) });
      index += 1;
      continue;
    }
    await sleep(5);
    clock.advanceBy(5);
  }
  await runtime.player.idle();
  // Acknowledgements of the last uploads are still on their way.
  await sleep(500);
}
