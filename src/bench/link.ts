import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchCloud } from './bench-cloud.js';
import { NullSink } from '../audio/sinks/null-sink.js';
import { WavSource } from '../audio/sources/wav-source.js';
import { readCaptureWav } from '../shared/wav.js';
import { loadConfig } from '../config/load.js';
import { Runtime } from '../device/wiring.js';
import { RealClock } from '../shared/clock.js';
import { createRootLogger } from '../shared/logger.js';
import type { PcmFormat } from '../shared/audio-format.js';

/**
 * `npm run bench:link`: the latencies the cloud link adds, measured in one process
 * against the reference cloud over mutual TLS on loopback, with the recording paced
 * at real time (as a microphone delivers it):
 *   - wake → first audio byte at the cloud (the pre-roll leaving the device),
 *   - end of speech → `utterance.end` at the cloud (includes the ledger's fsync),
 *   - first reply byte from the socket → the sound card.
 *
 *   npm run bench:link -- [--runs N] [--json]
 */
const root = new URL('../../', import.meta.url).pathname;

class TimedSink extends NullSink {
  firstWrite: number | undefined;
  override async open(format: PcmFormat): Promise<void> {
    this.firstWrite = undefined;
    await super.open(format);
  }
  override write(chunk: Buffer): void {
    this.firstWrite ??= performance.now();
    super.write(chunk);
  }
}

function stats(xs: number[]): { median: number; p90: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { median: r(q(0.5)), p90: r(q(0.9)), max: r(s[s.length - 1] ?? NaN) };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { runs: { type: 'string', default: '8' }, json: { type: 'boolean', default: false } },
  });
  const runs = Math.max(1, Number(values.runs));
  const work = mkdtempSync(join(tmpdir(), 'earshot-bench-link-'));
  const log = createRootLogger({ level: 'error' });
  const { cloud, device } = await startBenchCloud(work, 'bench', {
    logger: log,
    behaviour: { reply: 'tone' },
  });
  const samples = await readCaptureWav(join(root, 'test/fixtures/alexa-what-time.wav'));
  const wakeToFirstByte: number[] = [];
  const endToUtteranceEnd: number[] = [];
  const replyToSink: number[] = [];

  for (let i = 0; i < runs; i++) {
    const config = loadConfig({
      patch: {
        'device.id': 'bench',
        'cloud.url': cloud.url,
        'cloud.ca': device.ca,
        'cloud.cert': device.cert,
        'cloud.key': device.key,
        'gpio.backend': 'simulated',
        'privacy.ledger': join(work, `ledger-${i}.jsonl`),
      },
    });
    const sink = new TimedSink();
    const clock = new RealClock();
    const runtime = new Runtime({
      config,
      log,
      clock,
      sink,
      source: new WavSource({ samples, pace: 'realtime' }),
      waitForLinkMs: 5000,
    });
    let tWake: number | undefined;
    let tSpeechEnd: number | undefined;
    let tReplyIn: number | undefined;
    let tFirstAudio: number | undefined;
    let tEnd: number | undefined;
    const onAudio = (): void => {
      if (tWake !== undefined) tFirstAudio ??= performance.now();
    };
    const onMessage = (_s: string, m: { type: string }): void => {
      if (m.type === 'utterance.end') tEnd ??= performance.now();
    };
    cloud.events.on('audio', onAudio);
    cloud.events.on('message', onMessage);
    runtime.transport.on('replyAudio', () => (tReplyIn ??= performance.now()));
    await runtime.start();
    runtime.device.on('wake', () => (tWake ??= performance.now()));
    runtime.device.on('state', (s) => {
      if (s.state === 'thinking') tSpeechEnd ??= performance.now();
    });
    await runtime.loop.finished();
    await new Promise((r) => setTimeout(r, 500));
    await runtime.player.idle();
    await runtime.stop();
    cloud.events.off('audio', onAudio);
    cloud.events.off('message', onMessage);
    if (tWake && tFirstAudio) wakeToFirstByte.push(tFirstAudio - tWake);
    if (tSpeechEnd && tEnd) endToUtteranceEnd.push(tEnd - tSpeechEnd);
    if (tReplyIn && sink.firstWrite) replyToSink.push(sink.firstWrite - tReplyIn);
    if (!values.json) process.stderr.write(`run ${i + 1}/${runs}\n`);
  }
  await cloud.close();
  rmSync(work, { recursive: true, force: true });
  const result = {
    runs,
    wakeToFirstByteMs: stats(wakeToFirstByte),
    speechEndToUtteranceEndMs: stats(endToUtteranceEnd),
    replyFirstByteToSinkMs: stats(replyToSink),
    targets: { wakeToFirstByteMs: 20, speechEndToUtteranceEndMs: 10, replyFirstByteToSinkMs: 30 },
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:link: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
