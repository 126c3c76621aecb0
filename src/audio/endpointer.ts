import { FRAME_MS } from '../shared/audio-format.js';

/** Why an utterance ended on the device side. */
export type EndpointReason = 'vad' | 'maxLength' | 'noSpeech';

export type EndpointDecision = { state: 'continue' } | { state: 'ended'; reason: EndpointReason };

export interface EndpointerOptions {
  /**
   * Silence after the command's speech that ends the utterance (the hangover), in a room
   * neither quiet nor noisy (see the two below).
   */
  trailingSilenceMs: number;
  /**
   * A quiet room (the utterance's estimated SNR at least `quietRoomSnrDb`): the VAD hears
   * the pauses as they are, so a hangover this much shorter cuts off no more people.
   */
  quietRoomSnrDb?: number;
  quietRoomShorterByMs?: number;
  /**
   * A noisy room (the estimated SNR under `noisyRoomSnrDb`): the VAD misses quiet words,
   * and a missed word looks like a long pause, so a hangover this much longer keeps the
   * request. Relative, so one setting of `trailingSilenceMs` moves every room's.
   */
  noisyRoomSnrDb?: number;
  noisyRoomLongerByMs?: number;
  /**
   * Silence after the wake word, before the command has begun, that gives up
   * (`noSpeech`). Longer than the hangover: people pause after the wake word while the
   * light comes on. Never longer than `noSpeechTimeoutMs`.
   */
  commandWaitMs: number;
  /**
   * Speech that goes on from the wake word into the live audio is the wake word's own
   * tail for this long (the detector fires before the word is over); only speech past
   * it counts as the command.
   */
  wakeTailMs: number;
  /** Command speech needed before the hangover can end the utterance (not a click). */
  minSpeechMs?: number;
  /** Hard cap on the utterance, pre-roll included. */
  maxMs: number;
  /** No command speech by this much live audio: give up. */
  noSpeechTimeoutMs: number;
}

/** Where the utterance is, as the endpointer sees it: one state, no flags. */
type Phase =
  /**
   * Still inside the speech run the wake word fired on: `runMs` of it heard live, then
   * `gapMs` of a dip that may still be inside the word.
   */
  | { name: 'wake'; runMs: number; gapMs: number }
  /**
   * Waiting for the command: `speechMs` heard so far (too little yet), `silenceMs` since
   * the last of it; `patienceMs` of silence gives up.
   */
  | { name: 'awaiting'; speechMs: number; silenceMs: number; patienceMs: number }
  /** The command has begun; `silenceMs` since its last speech frame. */
  | { name: 'command'; silenceMs: number }
  | { name: 'ended'; reason: EndpointReason };

const CONTINUE: EndpointDecision = { state: 'continue' };
/** Two frames: as the VADs have always required before a hangover. */
const MIN_SPEECH_MS = 160;
/**
 * A dip this short in the wake word's tail is still the word: the detector often fires
 * before its last syllable, and the closure of the "k" in "Alexa" can make one frame
 * read as silence. Without it the rest of the word counted as the command, and the
 * pause after the word ended the utterance (`npm run bench:vad`, held out: 3 of 622
 * requests at 20 dB).
 */
const WAKE_GAP_MS = 80;

/**
 * Decides when an utterance is over, from one speech/non-speech decision per frame of
 * live audio (the VAD's, smoothed), without a clock or I/O: the same input gives the
 * same answer in the device, the benchmark and the tests.
 *
 * After a wake word the audio starts in the wake word's own tail; the pause that
 * follows it is not the end of the request, so the hangover only starts once command
 * speech has begun. Until then the longer `commandWaitMs` applies, bounded by the
 * no-speech timeout. Without a wake word (a button, a follow-up) the command can begin
 * at once.
 */
export class Endpointer {
  private phase: Phase = { name: 'awaiting', speechMs: 0, silenceMs: 0, patienceMs: Infinity };
  private liveMs = 0;
  private preRollMs = 0;

  constructor(
    private readonly options: EndpointerOptions,
    private readonly frameMs = FRAME_MS,
  ) {}

  /**
   * A new utterance. `afterWake`: the live audio begins right after the frame the wake
   * word fired on, so speech at its very start is still the wake word.
   */
  start(preRollMs: number, afterWake: boolean): void {
    this.preRollMs = preRollMs;
    this.liveMs = 0;
    // Without a wake word only the no-speech timeout bounds the wait (as before).
    this.phase = afterWake
      ? { name: 'wake', runMs: 0, gapMs: 0 }
      : { name: 'awaiting', speechMs: 0, silenceMs: 0, patienceMs: Infinity };
  }

  /** True once command speech has begun. */
  get heardCommand(): boolean {
    return this.phase.name === 'command' || this.phase.name === 'ended';
  }

  /**
   * One frame of live audio, in order; `speech` is the VAD's decision for it, `snrDb`
   * the utterance's estimated SNR so far (undefined: not known, the middle hangover).
   */
  push(speech: boolean, snrDb?: number): EndpointDecision {
    const phase = this.phase;
    if (phase.name === 'ended') return { state: 'ended', reason: phase.reason };
    this.liveMs += this.frameMs;
    this.phase = this.next(phase, speech);
    const reason = this.endReason(snrDb);
    if (!reason) return CONTINUE;
    this.phase = { name: 'ended', reason };
    return { state: 'ended', reason };
  }

  private next(phase: Exclude<Phase, { name: 'ended' }>, speech: boolean): Phase {
    const { frameMs, options } = this;
    switch (phase.name) {
      case 'wake': {
        const patienceMs = options.commandWaitMs;
        if (!speech) {
          const gapMs = phase.gapMs + frameMs;
          if (gapMs <= WAKE_GAP_MS) return { ...phase, gapMs };
          return { name: 'awaiting', speechMs: 0, silenceMs: gapMs, patienceMs };
        }
        const runMs = phase.runMs + phase.gapMs + frameMs;
        // Speech past the wake word's tail: the request went on without a pause.
        if (runMs <= options.wakeTailMs) return { name: 'wake', runMs, gapMs: 0 };
        return this.heard(runMs - options.wakeTailMs, patienceMs);
      }
      case 'awaiting':
        return speech
          ? this.heard(phase.speechMs + frameMs, phase.patienceMs)
          : { ...phase, silenceMs: phase.silenceMs + frameMs };
      case 'command':
        return { name: 'command', silenceMs: speech ? 0 : phase.silenceMs + frameMs };
    }
  }

  private heard(speechMs: number, patienceMs: number): Phase {
    return speechMs >= (this.options.minSpeechMs ?? MIN_SPEECH_MS)
      ? { name: 'command', silenceMs: 0 }
      : { name: 'awaiting', speechMs, silenceMs: 0, patienceMs };
  }

  /** The hangover for a room this loud against the speaker (undefined: not known). */
  hangoverMs(snrDb: number | undefined): number {
    const o = this.options;
    if (snrDb === undefined) return o.trailingSilenceMs;
    if (snrDb >= (o.quietRoomSnrDb ?? Infinity))
      return Math.max(this.frameMs, o.trailingSilenceMs - (o.quietRoomShorterByMs ?? 0));
    if (snrDb < (o.noisyRoomSnrDb ?? -Infinity))
      return o.trailingSilenceMs + (o.noisyRoomLongerByMs ?? 0);
    return o.trailingSilenceMs;
  }

  private endReason(snrDb: number | undefined): EndpointReason | undefined {
    const { phase, options } = this;
    if (phase.name === 'command' && phase.silenceMs >= this.hangoverMs(snrDb)) return 'vad';
    if (this.liveMs + this.preRollMs >= options.maxMs) return 'maxLength';
    if (phase.name === 'command') return undefined;
    if (this.liveMs >= options.noSpeechTimeoutMs) return 'noSpeech';
    if (phase.name === 'awaiting' && phase.silenceMs >= phase.patienceMs) return 'noSpeech';
    return undefined;
  }
}
