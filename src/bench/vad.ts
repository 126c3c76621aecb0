import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { EnergyVad } from '../audio/energy-vad.js';
import { SileroVad, sileroOptions, type FrameSpeechOptions } from '../audio/silero-vad.js';
import { loadConfig } from '../config/load.js';
import { EarshotError } from '../shared/errors.js';
import { openWakeWord } from '../wake/factory.js';
import {
  FIRST_ENDPOINTER,
  measure,
  MODEL_ONLY_VAD,
  OLD_RULE,
  type Measurement,
} from './endpoint/measure.js';
import {
  chooseHangover,
  idealVadBound,
  pauseStats,
  ruleTable,
  sweep,
  vadSweep,
  type ByNoise,
  type RuleRow,
} from './endpoint/report.js';
import { openRecordings, readRecordings } from './endpoint/recordings.js';
import {
  composeRequest,
  DEFAULT_RANGES,
  planRequests,
  withNoise,
  type BenchRequest,
  type Range,
} from './endpoint/requests.js';
import { endThresholdSweep, roomSweep } from './endpoint/room-sweep.js';
import { VOICES, type Split } from './endpoint/sources.js';
import type { Summary } from './endpoint/score.js';
import { Synth } from './endpoint/synth.js';
import { clipSource, WakeFinder } from './endpoint/traces.js';
import { findAudioFiles } from './wake/audio-files.js';

/**
 * `npm run bench:vad`: when does the device close an utterance? Generated requests
 * ("alexa", a pause, one or two phrases with pauses inside) from flite and espeak-ng
 * voices and the corpus' speakers, clean and with pink noise, go through the wake word
 * engine and then through the old rule (700 ms after any speech), the endpointer as it
 * first shipped (Silero's decisions alone) and the device's own utterance session (the
 * endpointer and the VAD's decisions as configured). Per noise level: the delay from
 * the end of the last word to the close (median, p90), and the cut-offs (closed before
 * the last word was over).
 *
 * The requests are split by voice, speaker and text: `--split tune` (with `--sweep`,
 * the evidence the default timings were chosen from) and `--split heldout` (the
 * figures). Seeded: the same arguments give the same requests and figures.
 *
 * `--recordings DIR` measures recorded requests instead (src/bench/endpoint/recordings.ts:
 * people's own, labelled), as recorded and with the same noise added; `--sweep` then
 * sweeps on them.
 *
 *   npm run bench:vad -- [--split heldout|tune] [--sweep] [--count N] [--seed N]
 *     [--phrase-pause MIN-MAX] [--recordings DIR] [--set key=value]… [--corpus DIR]
 *     [--cache DIR] [--json]
 */
const SNRS: ReadonlyArray<[string, number | undefined]> = [
  ['clean', undefined],
  ['20 dB', 20],
  ['10 dB', 10],
];
const HANGOVERS = [320, 400, 480, 560, 640, 720, 800, 880];
const WAKE_TAILS = [0, 240, 320, 400, 480, 560, 640];
/** The speech decisions swept: Silero's end threshold, and the noise margin (60: off). */
const END_THRESHOLDS = [0.35, 0.4, 0.45, 0.5, 0.6];
const NOISE_MARGINS_DB = [3, 6, 9, 60];
/**
 * The hangover by room swept: each room's estimated-SNR bound (dB), and how much shorter
 * (quiet) or longer (noisy) its hangover is than `trailingSilenceMs` (ms).
 */
const ROOMS = {
  quiet: { snrDb: [24, 26, 28, 30, 32, 35], byMs: [0, 80, 160, 240] },
  noisy: { snrDb: [12, 14, 15, 16, 17, 18, 20], byMs: [0, 80, 160, 240, 320] },
};
/** Silero's end threshold swept together with the noisy room. */
const END_WITH_ROOMS = {
  thresholds: [0.5, 0.55, 0.6, 0.65, 0.7, 0.75],
  noisySnrDb: [15, 16, 17, 18],
  noisyByMs: [80, 160, 240, 320],
};

async function main(): Promise<void> {
  const root = new URL('../../', import.meta.url).pathname;
  const { values } = parseArgs({
    options: {
      corpus: { type: 'string', default: resolve(root, '..', 'shared', 'corpus') },
      cache: {
        type: 'string',
        default: resolve(root, 'node_modules', '.cache', 'earshot', 'bench-vad'),
      },
      count: { type: 'string', default: '400' },
      seed: { type: 'string', default: '1' },
      split: { type: 'string', default: 'heldout' },
      sweep: { type: 'boolean', default: false },
      'phrase-pause': { type: 'string' },
      recordings: { type: 'string' },
      set: { type: 'string', multiple: true, default: [] },
      json: { type: 'boolean', default: false },
    },
  });
  const split = (values.sweep ? 'tune' : values.split) as Split;
  if (split !== 'tune' && split !== 'heldout') throw new Error('--split is tune or heldout');
  const count = positiveInt(values.count!, '--count');
  const seed = positiveInt(values.seed!, '--seed');
  const phrasePause = values['phrase-pause']
    ? parseRange(values['phrase-pause'])
    : DEFAULT_RANGES.phrasePause;
  const config = loadConfig({ overrides: values.set! });
  const timings = config.utterance;
  const preRollMs = config.audio.preRollMs;

  // Recorded requests stand in for the generated ones (and need no corpus).
  const recorded = values.recordings ? await openRecordings(values.recordings) : undefined;
  const hasCorpus = !recorded && existsSync(join(values.corpus!, 'positive', 'alexa'));
  const alexaFiles = hasCorpus
    ? await findAudioFiles(join(values.corpus!, 'positive', 'alexa'))
    : [];
  const wordFiles = hasCorpus ? await findAudioFiles(join(values.corpus!, 'negative')) : [];
  if (!hasCorpus && !recorded)
    process.stderr.write(`bench:vad: no corpus at ${values.corpus}: synthesized voices only\n`);
  const ranges = { ...DEFAULT_RANGES, phrasePause };
  const plans = recorded
    ? []
    : planRequests({ seed, count, split, alexaFiles, wordFiles, ...ranges });

  const detector = openWakeWord(config.wake);
  await detector.start();
  const vad = sileroOptions(timings);
  const silero = await SileroVad.open(vad);
  const tools = {
    wake: new WakeFinder(detector),
    silero,
    vad,
    energy: new EnergyVad({
      thresholdDb: timings.energyThresholdDb,
      trailingSilenceMs: timings.trailingSilenceMs,
    }),
    timings,
    preRollMs,
  };
  const source = clipSource(new Synth(values.cache!));
  const total = recorded?.labels.length ?? plans.length;
  const requests = async function* (): AsyncGenerator<BenchRequest> {
    if (recorded) yield* readRecordings(recorded);
    else for (const plan of plans) yield await composeRequest(plan, source);
  };
  const byNoise: ByNoise = Object.fromEntries(SNRS.map(([name]) => [name, [] as Measurement[]]));
  const started = process.hrtime.bigint();
  let done = 0;
  for await (const request of requests()) {
    for (const [name, snr] of SNRS) {
      byNoise[name]!.push(await measure(request, withNoise(request, snr), tools));
    }
    if (++done % 25 === 0) process.stderr.write(`bench:vad: ${done}/${total} requests\n`);
  }
  await silero.close();
  await detector.stop();

  const generated = {
    split,
    seed,
    count,
    voices: VOICES.filter((v) => v.split === split).map((v) => `${v.engine}:${v.name}`),
    corpus: hasCorpus
      ? { alexa: alexaFiles.length, words: wordFiles.length, heldOutShare: '1/3 by file' }
      : null,
    ranges,
  };
  const out = {
    ...(recorded
      ? { split: 'recordings', recordings: { dir: resolve(values.recordings!), count: total } }
      : generated),
    timings: {
      trailingSilenceMs: timings.trailingSilenceMs,
      commandWaitMs: timings.commandWaitMs,
      wakeTailMs: timings.wakeTailMs,
      speechEndThreshold: timings.speechEndThreshold,
      noiseMarginDb: timings.noiseMarginDb,
      quietRoomSnrDb: timings.quietRoomSnrDb,
      quietRoomShorterByMs: timings.quietRoomShorterByMs,
      noisyRoomSnrDb: timings.noisyRoomSnrDb,
      noisyRoomLongerByMs: timings.noisyRoomLongerByMs,
    },
    oldRule: { ...OLD_RULE, vad: MODEL_ONLY_VAD },
    firstEndpointer: { ...FIRST_ENDPOINTER, vad: MODEL_ONLY_VAD },
    results: ruleTable(byNoise),
    idealVad: idealVadBound(byNoise['clean']!),
    pauses: Object.fromEntries(Object.entries(byNoise).map(([k, ms]) => [k, pauseStats(ms, vad)])),
    ...(values.sweep ? sweeps(byNoise, timings, vad, preRollMs) : {}),
    wallSeconds: Math.round(Number(process.hrtime.bigint() - started) / 1e9),
  };
  const heading = recorded
    ? `${total} recorded requests from ${values.recordings}`
    : `${split} half, ${count} requests`;
  process.stdout.write(
    values.json ? `${JSON.stringify(out)}\n` : text(out.results, { ...out, heading }),
  );
}

function sweeps(
  byNoise: ByNoise,
  timings: Parameters<typeof sweep>[1],
  vad: FrameSpeechOptions,
  preRollMs: number,
) {
  const hangover = sweep(byNoise, timings, vad, preRollMs, 'trailingSilenceMs', HANGOVERS);
  const chosen = chooseHangover(hangover);
  const tails = sweep(
    byNoise,
    { ...timings, trailingSilenceMs: chosen ?? timings.trailingSilenceMs },
    vad,
    preRollMs,
    'wakeTailMs',
    WAKE_TAILS,
  );
  const decisions = vadSweep(byNoise, timings, preRollMs, {
    thresholds: END_THRESHOLDS,
    marginsDb: NOISE_MARGINS_DB,
    hangovers: HANGOVERS,
  });
  const rooms = roomSweep(byNoise, timings, vad, preRollMs, ROOMS);
  const ends = endThresholdSweep(byNoise, timings, vad, preRollMs, END_WITH_ROOMS);
  return {
    sweep: {
      hangover,
      chosenHangoverMs: chosen ?? null,
      wakeTail: tails,
      vad: decisions,
      rooms: rooms.rows,
      chosenQuietRoom: rooms.chosenQuiet,
      endWithRooms: ends.rows,
      chosenEndWithRooms: ends.chosen,
    },
  };
}

function text(
  rows: RuleRow[],
  out: {
    heading: string;
    timings: object;
    idealVad: ReturnType<typeof idealVadBound>;
  },
): string {
  const cell = (s: Summary): string =>
    `${s.delayMedianMs}/${s.delayP90Ms} ms, cut ${s.cutPct} %${s.missedPct ? `, missed ${s.missedPct} %` : ''}`;
  const lines = [
    `${out.heading}; timings ${JSON.stringify(out.timings)}`,
    'close delay after the last word (median/p90) and cut-offs:',
    ...rows.map(
      (r) =>
        `  ${r.snr.padEnd(6)} (${r.woken}/${r.requests} woken)  old: ${cell(r.old)} | first endpointer: ${cell(r.first)} | new: ${cell(r.new)} | energy VAD: ${cell(r.energy)}`,
    ),
    ...(out.idealVad
      ? [
          `a VAD that heard every word exactly would close ${out.idealVad.hangoverMs} ms after the last word ` +
            `for under 1 % cut-offs (${out.idealVad.cutPct} %): the pauses inside these requests`,
        ]
      : []),
    '(--json for the pauses, the sweep and everything else)',
  ];
  return `${lines.join('\n')}\n`;
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1 || n > 100_000)
    throw new Error(`${name} must be an integer from 1 to 100000`);
  return n;
}

function parseRange(value: string): Range {
  const m = /^(\d+(?:\.\d+)?)-(\d+(?:\.\d+)?)$/.exec(value);
  const range = m ? { min: Number(m[1]), max: Number(m[2]) } : undefined;
  if (!range || range.min > range.max || range.max > 5) {
    throw new Error(
      `--phrase-pause takes MIN-MAX in seconds (at most 5), e.g. 0.2-0.6; got ${value}`,
    );
  }
  return range;
}

main().catch((err: unknown) => {
  // A mistake in what was asked for (a label, a flag) is a message; anything else a stack.
  const text =
    err instanceof EarshotError
      ? `${err.code}: ${err.message}${err.hint ? `\n  hint: ${err.hint}` : ''}`
      : ((err as Error).stack ?? String(err));
  process.stderr.write(`bench:vad: ${text}\n`);
  process.exitCode = 1;
});
