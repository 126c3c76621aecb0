import type { EndpointerOptions } from '../../audio/endpointer.js';
import type { EnergyVad } from '../../audio/energy-vad.js';
import type { FrameSpeechOptions, SileroVad } from '../../audio/silero-vad.js';
import { FRAME_MS, FRAME_SAMPLES, SAMPLE_RATE, framesForMs } from '../../shared/audio-format.js';
import { LocalTransport } from '../../device/local-transport.js';
import { UtteranceAudio } from '../../device/utterance-audio.js';
import type { BenchRequest } from './requests.js';
import { outcome, replay, type Close, type Outcome } from './score.js';
import {
  decisions,
  frameAt,
  frameCount,
  liveDecisions,
  probabilityTrace,
  type VadTrace,
  type WakeFinder,
} from './traces.js';

/**
 * One generated request at one noise level, through the device's parts: the wake word
 * engine finds the frame it fires on; then the old rule (any speech, then a fixed
 * trailing silence, on a VAD that starts afresh with the live audio), the endpointer as
 * it first shipped (the model's decisions alone), the device's own `UtteranceAudio`
 * with the configured endpointer and VAD (the new rule, exactly as the device runs it),
 * and the same rule on the energy VAD.
 */
export interface Tools {
  wake: WakeFinder;
  /** Silero with the configured decisions (`sileroOptions`). */
  silero: SileroVad;
  /** The configured decisions, for replaying them. */
  vad: FrameSpeechOptions;
  energy: EnergyVad;
  timings: EndpointerOptions;
  preRollMs: number;
}

type Timings = Omit<EndpointerOptions, 'maxMs' | 'noSpeechTimeoutMs'>;

/** The rule before the endpointer: 700 ms after any speech, the wake word's included. */
export const OLD_RULE: Timings = {
  trailingSilenceMs: 700,
  commandWaitMs: Infinity,
  wakeTailMs: 0,
};

/** The model's decisions before the noise floor: the old rule and the first endpointer. */
export const MODEL_ONLY_VAD: FrameSpeechOptions = { speechThreshold: 0.5, silenceThreshold: 0.35 };

/** The endpointer as it first shipped (with `MODEL_ONLY_VAD`). */
export const FIRST_ENDPOINTER: Timings = {
  trailingSilenceMs: 720,
  commandWaitMs: 3000,
  wakeTailMs: 480,
};

export interface Measurement {
  id: string;
  /** False: the wake word did not fire, so there was no utterance to end. */
  woken: boolean;
  liveStartMs: number;
  commandStartMs: number;
  lastWordEndMs: number;
  /** Silences inside the command as composed (the truth, not the VAD's view). */
  innerPausesMs: number[];
  old?: Outcome;
  first?: Outcome;
  session?: Outcome;
  /** The new rule on a VAD that starts afresh with the live audio (not primed). */
  unprimed?: Outcome;
  energy?: Outcome;
  /** What Silero heard, primed with the pre-roll as the device does. */
  primed?: VadTrace;
  /** The replay of `primed` closes where the session did. */
  replayAgrees?: boolean;
}

const ms = (samples: number): number => (samples / SAMPLE_RATE) * 1000;

export async function measure(
  request: BenchRequest,
  audio: Int16Array,
  tools: Tools,
): Promise<Measurement> {
  const base = {
    id: request.id,
    commandStartMs: ms(request.layout.commandStart),
    lastWordEndMs: ms(request.layout.lastWordEnd),
    innerPausesMs: request.layout.innerPausesMs,
  };
  const { lastWordEndMs } = base;
  const wake = await tools.wake.find(audio);
  if (wake === undefined) return { ...base, woken: false, liveStartMs: NaN };
  const liveStartMs = (wake + 1) * FRAME_MS;
  const score = (close: Close | undefined): Outcome => outcome(close, liveStartMs, lastWordEndMs);
  const { timings, preRollMs } = tools;

  const fresh = await probabilityTrace(tools.silero, audio, wake, 0);
  const old = replay(
    { ...timings, ...OLD_RULE },
    decisions(fresh, MODEL_ONLY_VAD),
    preRollMs,
    false,
  );
  const freshLive = liveDecisions(fresh, tools.vad);
  const unprimed = replay(timings, freshLive.speech, preRollMs, true, freshLive.snrDb);

  const primeFrames = Math.ceil(((preRollMs / 1000) * SAMPLE_RATE) / FRAME_SAMPLES);
  const primed = await probabilityTrace(tools.silero, audio, wake, primeFrames);
  const first = replay(
    { ...timings, ...FIRST_ENDPOINTER },
    decisions(primed, MODEL_ONLY_VAD),
    preRollMs,
    true,
  );
  const live = liveDecisions(primed, tools.vad);
  const replayed = replay(timings, live.speech, preRollMs, true, live.snrDb);

  const session = await runSession(audio, wake, tools);
  const energyTrace: boolean[] = [];
  for (let f = wake + 1; f < frameCount(audio); f++) {
    energyTrace.push(tools.energy.isSpeech(frameAt(audio, f)));
  }
  const energy = replay(timings, energyTrace, preRollMs, true);
  return {
    ...base,
    woken: true,
    liveStartMs,
    old: score(old),
    first: score(first),
    session: score(session),
    unprimed: score(unprimed),
    energy: score(energy),
    primed,
    replayAgrees: replayed?.frames === session?.frames && replayed?.reason === session?.reason,
  };
}

/**
 * The device's utterance session on this request: the pre-roll ring as the device
 * holds it (ending with the wake frame), then the live frames until it reports an end.
 */
async function runSession(
  audio: Int16Array,
  wake: number,
  tools: Tools,
): Promise<Close | undefined> {
  const transport = new LocalTransport();
  const handle = transport.openUtterance({
    id: 'bench',
    trigger: { kind: 'wake', keyword: 'alexa', score: 1, frameIndex: wake },
    preRollMs: tools.preRollMs,
    dontSaveRecordings: true,
  });
  const preRollSamples = Math.round((tools.preRollMs / 1000) * SAMPLE_RATE);
  const ring = [];
  for (let f = Math.max(0, wake - framesForMs(tools.preRollMs)); f <= wake; f++) {
    ring.push(frameAt(audio, f));
  }
  const start = (wake + 1) * FRAME_SAMPLES - preRollSamples;
  const session = new UtteranceAudio(handle, tools.timings, tools.silero, start, tools.preRollMs);
  session.sendPreRoll(ring, Math.min(preRollSamples, ring.length * FRAME_SAMPLES));
  // As the device does: the VAD hears the frames of the pre-roll before the live audio.
  session.prime(ring.slice(-Math.ceil(preRollSamples / FRAME_SAMPLES)));
  try {
    for (let f = wake + 1; f < frameCount(audio); f++) {
      const reason = await session.onFrame(frameAt(audio, f));
      if (reason === 'vad' || reason === 'maxLength' || reason === 'noSpeech') {
        return { frames: f - wake, reason };
      }
    }
    return undefined;
  } finally {
    session.abort('stopped');
  }
}
