import type { SegmenterOptions } from './vad.js';
import type { TtsFormat } from './speech.js';

/** How the stand-in behaves; every field can be changed between runs (`setBehaviour`). */
export interface StandinBehaviour {
  /** The long-lived access token it accepts. */
  token: string;
  pipelines: Array<{ id: string; name: string }>;
  preferredPipeline: string;
  /** Whether the token may read the device registry (`unauthorized` otherwise). */
  registry: 'allowed' | 'unauthorized';
  /** The device registry (`config/device_registry/list`). */
  devices: Array<{ id: string; identifiers: Array<[string, string]>; area_id?: string | null }>;
  /** HA's end-of-speech VAD; `null`: none (the end frame or the run timeout ends the audio). */
  vad: SegmenterOptions | null;
  ttsFormat: TtsFormat;
  /**
   * A failure to act out: an `error` event at its stage (`stall`: the intent never
   * finishes, so the run's own `timeout` fires: `run-end`, then `error timeout`).
   */
  fail?: 'stt-no-text-recognized' | 'intent-failed' | 'tts-failed' | 'stall';
  /** What the TTS URL answers: the audio, a 404, or bytes that are not audio. */
  ttsHttp: 'ok' | 404 | 'garbage';
  /** The agent asks a follow-up question (`continue_conversation`) for these texts. */
  continueConversation: (text: string) => boolean;
  /** The agent and TTS stream: `intent-progress {tts_start_streaming}` before intent-end. */
  streamResponse: boolean;
  /**
   * HA's VAD ends on the same audio the device ended on: its `stt-vad-end` crosses the
   * device's end frame on the wire (sent when the end frame arrives, before `stt-end`).
   */
  vadEndCrossesEndFrame?: boolean;
  /** Close the socket (as a crash would) after this many audio bytes of a run. */
  dropAfterAudioBytes?: number;
  /** Answer `ping` with `pong` (off: a hung HA, for the heartbeat). */
  answerPings: boolean;
  /** Wait this long before answering a run (`result`, `run-start`). */
  resultDelayMs: number;
  /** The agent: text → the answer's speech. */
  answer: (text: string) => { speech: string; responseType: string };
}

/** What the stand-in saw of one `assist_pipeline/run`, for tests and benchmarks. */
export interface RunRecord {
  connection: number;
  /** The command as received. */
  message: Record<string, unknown>;
  handlerId?: number;
  /** Audio received for the run (before HA's VAD stopped reading, and after). */
  audio: Buffer;
  /** Bytes that arrived after the audio had ended (VAD end or end frame). */
  bytesAfterEnd: number;
  endFrame: boolean;
  /** performance.now() of the first audio byte, the end frame, the VAD end, tts-end. */
  firstAudioAt?: number;
  endFrameAt?: number;
  /** Wall time (Date.now()) of the end frame: compared with the ledger's times. */
  endFrameWall?: number;
  vadEndAt?: number;
  ttsEndAt?: number;
  transcript?: string;
  answer?: string;
  conversationId?: string;
  /** Event types sent, in order (`result` first). */
  sent: string[];
}
