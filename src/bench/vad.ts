import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EnergyVad, type VadDecision } from '../audio/energy-vad.js';
import { SileroVad } from '../audio/silero-vad.js';
import { loadConfig } from '../config/load.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE } from '../shared/audio-format.js';
import { decodeAudio, findAudioFiles } from './wake/audio-files.js';
import { findSpeech } from './wake/envelope.js';
import { mix, noiseRmsForSnr, PinkNoise } from './wake/noise.js';

/**
 * `npm run bench:vad`: device-side end of speech, energy VAD against Silero VAD, on real
 * speech (the corpus' recordings of people speaking) with pink noise mixed in at several
 * signal-to-noise ratios. For each clip the true end of speech comes from the clean
 * clip's energy envelope; each detector runs frame by frame with the configured trailing
 * silence, exactly as during an utterance, and is scored on:
 *   - cut: it ended the utterance before the speech was over (the request is clipped),
 *   - missed: it never ended (the utterance runs to the hard cap),
 *   - late: how long after the true end it ended (median, p90): the owner's wait.
 *
 *   npm run bench:vad -- [--corpus DIR] [--limit N] [--json]
 */
interface Score {
  clips: number;
  cut: number;
  missed: number;
  lateMs: number[];
}

const pct = (xs: number[], p: number): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]!) : NaN;
};

async function main(): Promise<void> {
  const root = new URL('../../', import.meta.url).pathname;
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: resolve(root, '..', 'shared', 'corpus') },
      limit: { type: 'string', default: '150' },
      json: { type: 'boolean', default: false },
    },
  });
  const config = loadConfig();
  const trailing = config.utterance.trailingSilenceMs;
  const files = (await findAudioFiles(join(values.corpus!, 'negative')))
    .filter((_, i, all) => i % Math.max(1, Math.floor(all.length / Number(values.limit))) === 0)
    .slice(0, Number(values.limit));
  if (files.length === 0) throw new Error(`no recordings under ${values.corpus}/negative`);
  const silero = await SileroVad.open({ trailingSilenceMs: trailing });
  const results: Record<string, { energy: Score; silero: Score }> = {};
  for (const snr of [Infinity, 20, 10, 5]) {
    const key = snr === Infinity ? 'clean' : `${snr} dB`;
    const r = {
      energy: { clips: 0, cut: 0, missed: 0, lateMs: [] as number[] },
      silero: { clips: 0, cut: 0, missed: 0, lateMs: [] as number[] },
    };
    const noise = new PinkNoise(7);
    for (const file of files) {
      const clean = await decodeAudio(file);
      const span = findSpeech(clean);
      // The clip, then 3 s of its quiet tail level, as a room after the request.
      const padded = new Int16Array(clean.length + 3 * SAMPLE_RATE);
      padded.set(clean);
      const floor = new Float32Array(padded.length);
      noise.fill(floor, snr === Infinity ? 10 : noiseRmsForSnr(span.speechRms, snr));
      const audio = mix(padded, floor);
      const truthEndMs = (span.endSample / SAMPLE_RATE) * 1000;
      const startFrame = Math.floor(span.startSample / FRAME_SAMPLES);
      const energy = new EnergyVad({
        thresholdDb: config.utterance.energyThresholdDb,
        trailingSilenceMs: trailing,
      });
      silero.reset();
      let eEnd: number | undefined;
      let sEnd: number | undefined;
      for (let f = startFrame; (f + 1) * FRAME_SAMPLES <= audio.length; f++) {
        const frame = {
          index: f,
          samples: audio.subarray(f * FRAME_SAMPLES, (f + 1) * FRAME_SAMPLES),
        };
        const endMs = (f + 1) * FRAME_MS;
        const e: VadDecision = energy.process(frame);
        if (e === 'ended' && eEnd === undefined) eEnd = endMs;
        if (sEnd === undefined && (await silero.process(frame)) === 'ended') sEnd = endMs;
        if (eEnd !== undefined && sEnd !== undefined) break;
      }
      for (const [name, end] of [
        ['energy', eEnd],
        ['silero', sEnd],
      ] as const) {
        const s = r[name];
        s.clips += 1;
        if (end === undefined) s.missed += 1;
        else if (end - trailing < truthEndMs - 2 * FRAME_MS) s.cut += 1;
        else s.lateMs.push(end - truthEndMs);
      }
    }
    results[key] = r;
  }
  await silero.close();
  const table = Object.entries(results).map(([snr, r]) => ({
    snr,
    ...Object.fromEntries(
      (['energy', 'silero'] as const).map((n) => [
        n,
        {
          cutPct: Math.round((r[n].cut / r[n].clips) * 1000) / 10,
          missedPct: Math.round((r[n].missed / r[n].clips) * 1000) / 10,
          lateMedianMs: pct(r[n].lateMs, 0.5),
          lateP90Ms: pct(r[n].lateMs, 0.9),
        },
      ]),
    ),
  }));
  const out = { clips: files.length, trailingSilenceMs: trailing, results: table };
  process.stdout.write(
    values.json ? `${JSON.stringify(out)}\n` : `${JSON.stringify(out, null, 2)}\n`,
  );
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:vad: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
