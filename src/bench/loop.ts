import { monitorEventLoopDelay } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { WavSource } from '../audio/sources/wav-source.js';
import { NullSink } from '../audio/sinks/null-sink.js';
import { readCaptureWav } from '../shared/wav.js';
import { loadConfig } from '../config/load.js';
import { Runtime } from '../device/wiring.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../shared/audio-format.js';
import { ManualClock } from '../shared/clock.js';
import { createRootLogger } from '../shared/logger.js';

/**
 * `npm run bench:loop`: frames per second through the whole device loop (real
 * openWakeWord detector, VAD, uploads to the local stand-in), event-loop lag p99 and
 * RSS. A benchmark, not a test: run it on a quiet machine and compare ratios.
 *
 *   npm run bench:loop -- [--wav FILE] [--repeat N] [--json]
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      wav: {
        type: 'string',
        default: new URL('../../test/fixtures/alexa-twice.wav', import.meta.url).pathname,
      },
      repeat: { type: 'string', default: '20' },
      json: { type: 'boolean', default: false },
    },
  });
  const one = await readCaptureWav(values.wav!);
  const repeat = Math.max(1, Number(values.repeat));
  const samples = new Int16Array(one.length * repeat);
  for (let i = 0; i < repeat; i++) samples.set(one, i * one.length);

  const config = loadConfig({ patch: { 'gpio.backend': 'simulated', 'log.level': 'warn' } });
  const clock = new ManualClock();
  const source = new WavSource({
    samples,
    pace: 'fast',
    onUnheard: (i) => clock.advanceTo((i + 1) * FRAME_MS),
  });
  const runtime = new Runtime({
    config,
    log: createRootLogger({ level: 'warn' }),
    clock,
    source,
    sink: new NullSink(),
    beforeFrame: (f) => clock.advanceTo((f.index + 1) * FRAME_MS),
  });
  const lag = monitorEventLoopDelay({ resolution: 1 });
  let peakRss = 0;
  const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const rssStart = process.memoryUsage().rss;

  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  await runtime.start();
  const loadMs = performance.now() - t0;
  lag.enable();
  const t1 = performance.now();
  await runtime.loop.finished();
  const wallMs = performance.now() - t1;
  const cpu = process.cpuUsage(cpu0);
  lag.disable();
  clearInterval(rssTimer);
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  const frames = runtime.loop.framesHandled;
  const wakes = runtime.status.snapshot().counters.wakes;
  await runtime.stop();

  const audioSeconds = samples.length / SAMPLE_RATE;
  const result = {
    audioSeconds: Math.round(audioSeconds),
    frames,
    framesPerSecond: Math.round(frames / (wallMs / 1000)),
    realtimeFactor: Math.round(audioSeconds / (wallMs / 1000)),
    cpuPerAudioSecond: Number(((cpu.user + cpu.system) / 1e6 / audioSeconds).toFixed(4)),
    eventLoopLagP99Ms: Number((lag.percentile(99) / 1e6).toFixed(2)),
    eventLoopLagMaxMs: Number((lag.max / 1e6).toFixed(2)),
    rssStartMiB: Math.round(rssStart / 2 ** 20),
    peakRssMiB: Math.round(peakRss / 2 ** 20),
    startupMs: Math.round(loadMs),
    wakes,
    droppedFrames: runtime.loop.droppedFrames,
    frameSamples: FRAME_SAMPLES,
  };
  if (values.json) process.stdout.write(`${JSON.stringify(result)}\n`);
  else {
    for (const [k, v] of Object.entries(result)) process.stdout.write(`${k.padEnd(20)} ${v}\n`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:loop: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
