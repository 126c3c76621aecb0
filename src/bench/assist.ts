import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { NullSink } from '../audio/sinks/null-sink.js';
import { WavSource } from '../audio/sources/wav-source.js';
import { loadConfig } from '../config/load.js';
import { Runtime } from '../device/wiring.js';
import { ReplyDecoder } from '../assist/reply-decoder.js';
import { synthesize } from '../ha-standin/speech.js';
import { startHaStandin } from '../ha-standin/server.js';
import type { PcmFormat } from '../shared/audio-format.js';
import { RealClock } from '../shared/clock.js';
import { createRootLogger } from '../shared/logger.js';
import { readCaptureWav } from '../shared/wav.js';

/**
 * `npm run bench:assist`: the latencies the Home Assistant transport adds, in one
 * process against the HA stand-in over TLS on loopback, with the recording paced at
 * real time (as a microphone delivers it):
 *   - wake → first audio byte at HA (the run started, held audio flushed behind the
 *     handler byte once `run-start` named it),
 *   - end of the utterance on the device (its VAD, or HA's `stt-vad-end`) → the end
 *     frame at HA (includes the ledger's fsync, which comes first: P4),
 *   - `tts-end` sent by HA → the first decoded sample of the answer at the sink
 *     (the HTTPS fetch, the mp3 decoder's first frame, the Player).
 * Speech recognition and synthesis are the stand-in's (PocketSphinx, flite) and are
 * not in any of these figures.
 *
 *   npm run bench:assist -- [--runs N] [--format mp3|wav|flac] [--json]
 */
const root = new URL('../../', import.meta.url).pathname;

class TimedSink extends NullSink {
  firstWrite: number | undefined;
  rate = 0;
  override async open(format: PcmFormat): Promise<void> {
    // Earcons are 16 kHz; the answer comes at its own rate (22.05 kHz here).
    if (format.sampleRate !== 16000) this.rate = format.sampleRate;
    await super.open(format);
  }
  override write(chunk: Buffer): void {
    if (this.rate) this.firstWrite ??= performance.now();
    super.write(chunk);
  }
}

function stats(xs: number[]): { n: number; p50: number; p90: number; max: number } {
  const s = [...xs].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))] ?? NaN;
  const r = (x: number): number => Math.round(x * 100) / 100;
  return { n: s.length, p50: r(q(0.5)), p90: r(q(0.9)), max: r(s[s.length - 1] ?? NaN) };
}

/**
 * The decoder alone: CPU per second of decoded speech, decoding a 20 s answer in
 * network-sized pieces (4 KiB), for each format.
 */
async function decoderCost(): Promise<Record<string, { cpuMsPerAudioSecond: number }>> {
  const text = 'The weather today is mild, with a light breeze from the west. '.repeat(5);
  const out: Record<string, { cpuMsPerAudioSecond: number }> = {};
  for (const format of ['mp3', 'flac', 'wav'] as const) {
    const file = await synthesize(text, format);
    let seconds = 0;
    const cpu0 = process.cpuUsage();
    const rounds = 5;
    for (let r = 0; r < rounds; r++) {
      const d = new ReplyDecoder();
      let n = 0;
      for (let i = 0; i < file.length; i += 4096) {
        const pcm = await d.push(file.subarray(i, i + 4096));
        n += (pcm?.length ?? 0) / 2;
      }
      n += ((await d.end())?.length ?? 0) / 2;
      seconds += n / d.format!.sampleRate;
      d.free();
    }
    const cpu = process.cpuUsage(cpu0);
    out[format] = {
      cpuMsPerAudioSecond: Math.round(((cpu.user + cpu.system) / 1000 / seconds) * 100) / 100,
    };
  }
  return out;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      runs: { type: 'string', default: '10' },
      format: { type: 'string', default: 'mp3' },
      json: { type: 'boolean', default: false },
    },
  });
  const runs = Math.max(1, Number(values.runs));
  const format = values.format as 'mp3' | 'wav' | 'flac';
  const work = mkdtempSync(join(tmpdir(), 'earshot-bench-assist-'));
  execFileSync('bash', [join(root, 'scripts/make-certs.sh'), work, '--device-id', 'bench'], {
    stdio: 'ignore',
  });
  const token = join(work, 'token');
  writeFileSync(token, 'bench-token\n');
  chmodSync(token, 0o600);
  const standin = await startHaStandin({
    cert: join(work, 'server.crt'),
    key: join(work, 'server.key'),
    behaviour: { token: 'bench-token', ttsFormat: format },
  });
  const log = createRootLogger({ level: 'error' });
  const samples = await readCaptureWav(join(root, 'test/fixtures/alexa-what-time.wav'));
  const wakeToFirstByte: number[] = [];
  const closeToEndFrame: number[] = [];
  const ttsEndToSink: number[] = [];
  const cpuStart = process.cpuUsage();

  for (let i = 0; i < runs; i++) {
    const config = loadConfig({
      patch: {
        'device.id': 'bench',
        'cloud.protocol': 'home-assistant',
        'cloud.url': standin.url,
        'cloud.ca': join(work, 'ca.crt'),
        'cloud.tokenFile': token,
        'gpio.backend': 'simulated',
        'privacy.ledger': join(work, `ledger-${i}.jsonl`),
      },
    });
    const sink = new TimedSink();
    const runtime = new Runtime({
      config,
      log,
      clock: new RealClock(),
      sink,
      source: new WavSource({ samples, pace: 'realtime' }),
      waitForLinkMs: 5000,
    });
    const before = standin.runs.length;
    let tWake: number | undefined;
    let tClose: number | undefined;
    await runtime.start();
    runtime.device.on('wake', () => (tWake ??= performance.now()));
    runtime.device.on('state', (s) => {
      if (s.state === 'thinking') tClose ??= performance.now();
    });
    await runtime.loop.finished();
    // The answer: STT and TTS at the stand-in take a moment after the recording ends.
    const deadline = performance.now() + 15_000;
    while (sink.firstWrite === undefined && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    await runtime.player.idle();
    await runtime.stop();
    const run = standin.runs[before];
    if (tWake && run?.firstAudioAt) wakeToFirstByte.push(run.firstAudioAt - tWake);
    if (tClose && run?.endFrameAt) closeToEndFrame.push(run.endFrameAt - tClose);
    if (run?.ttsEndAt && sink.firstWrite) ttsEndToSink.push(sink.firstWrite - run.ttsEndAt);
    if (!values.json) process.stderr.write(`run ${i + 1}/${runs}\n`);
  }
  const cpu = process.cpuUsage(cpuStart);
  await standin.close();
  const decoder = await decoderCost();
  rmSync(work, { recursive: true, force: true });
  const result = {
    runs,
    format,
    wakeToFirstAudioAtHaMs: stats(wakeToFirstByte),
    utteranceCloseToEndFrameMs: stats(closeToEndFrame),
    ttsEndToFirstSampleAtSinkMs: stats(ttsEndToSink),
    /** The whole process (device and stand-in) over all runs, for scale. */
    cpuSeconds: Math.round(((cpu.user + cpu.system) / 1e6) * 100) / 100,
    decoder,
    targets: { ttsEndToFirstSampleAtSinkMs: 150 },
  };
  process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:assist: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
