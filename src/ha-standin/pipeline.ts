import { randomBytes } from 'node:crypto';
import { MIME, synthesize, transcribe } from './speech.js';
import type { RunRecord, StandinBehaviour } from './types.js';
import { Segmenter } from './vad.js';

/** A TTS result a run will make, served at `/api/tts_proxy/<token>` (tts/__init__.py). */
export interface TtsStream {
  mime: string;
  audio: Promise<Buffer>;
  resolve: (audio: Buffer) => void;
  reject: (err: Error) => void;
}

export interface RunHost {
  behaviour: () => StandinBehaviour;
  send: (message: Record<string, unknown>) => void;
  /** Registers a TTS stream under its token (HA makes it at run-start). */
  addTts: (token: string, stream: TtsStream) => void;
  /** The run is over: its handler is freed. */
  done: () => void;
  drop: () => void;
}

const ULID = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
function ulid(): string {
  return [...randomBytes(26)].map((b) => ULID[b % 32]).join('');
}

/**
 * One `assist_pipeline/run`, in the order `websocket_api.py` and `pipeline.py` send it:
 * `run-start` (handler id, tts_output), `stt-start`, audio behind the handler byte
 * (HA's VAD: `stt-vad-start` / `stt-vad-end`; the empty payload ends it), `stt-end`,
 * `intent-start` / `intent-progress` / `intent-end`, `tts-start` / `tts-end` (a relative
 * URL), `run-end`; an `error` event then `run-end` on failure; `run-end` then
 * `error timeout` when the run's own timeout fires.
 */
export class StandinRun {
  private readonly segmenter: Segmenter | undefined;
  private audioDone = false;
  private ended = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly ttsToken = `${randomBytes(16).toString('base64url')}`;
  private tts: TtsStream | undefined;

  constructor(
    readonly id: number,
    readonly record: RunRecord,
    private readonly host: RunHost,
  ) {
    const vad = host.behaviour().vad;
    this.segmenter = vad ? new Segmenter(vad) : undefined;
  }

  private event(type: string, data: unknown): void {
    if (this.ended && type !== 'error') return;
    this.record.sent.push(type);
    this.host.send({
      id: this.id,
      type: 'event',
      event: { type, data, timestamp: new Date().toISOString() },
    });
  }

  /** After the `result`: run-start and the first stage. */
  start(): void {
    const m = this.record.message;
    const b = this.host.behaviour();
    const timeoutS = typeof m.timeout === 'number' ? m.timeout : 300;
    this.timer = setTimeout(() => this.timeout(), timeoutS * 1000);
    const conversationId =
      typeof m.conversation_id === 'string' && m.conversation_id ? m.conversation_id : ulid();
    this.record.conversationId = conversationId;
    const ext = b.ttsFormat;
    const token = `${this.ttsToken}.${ext}`;
    let resolve!: (a: Buffer) => void;
    let reject!: (e: Error) => void;
    const audio = new Promise<Buffer>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    audio.catch(() => undefined);
    this.tts = { mime: MIME[ext], audio, resolve, reject };
    this.host.addTts(token, this.tts);
    this.event('run-start', {
      pipeline: typeof m.pipeline === 'string' ? m.pipeline : b.preferredPipeline,
      language: 'en',
      conversation_id: conversationId,
      runner_data: { stt_binary_handler_id: this.record.handlerId ?? null, timeout: timeoutS },
      tts_output: {
        token,
        url: `/api/tts_proxy/${token}`,
        mime_type: MIME[ext],
        stream_response: b.streamResponse,
      },
    });
    const input = (m.input ?? {}) as Record<string, unknown>;
    if (m.start_stage === 'stt') {
      this.event('stt-start', {
        engine: 'stt.pocketsphinx',
        metadata: {
          language: 'en-US',
          format: 'wav',
          codec: 'pcm',
          bit_rate: 16,
          sample_rate: 16000,
          channel: 1,
        },
      });
    } else if (m.start_stage === 'intent') {
      void this.intent(String(input.text ?? ''));
    } else if (m.start_stage === 'tts') {
      void this.speak(String(input.text ?? ''));
    }
  }

  /** A binary frame's payload for this run's handler. */
  audio(payload: Buffer): void {
    const r = this.record;
    if (payload.length === 0) {
      r.endFrame = true;
      r.endFrameAt ??= performance.now();
      r.endFrameWall ??= Date.now();
      if (!this.audioDone && this.host.behaviour().vadEndCrossesEndFrame) {
        this.event('stt-vad-end', { timestamp: Math.round((r.audio.length / 32_000) * 1000) });
        r.vadEndAt = performance.now();
      }
      this.endAudio();
      return;
    }
    if (this.audioDone) {
      r.bytesAfterEnd += payload.length;
      return;
    }
    r.firstAudioAt ??= performance.now();
    r.audio = Buffer.concat([r.audio, payload]);
    const drop = this.host.behaviour().dropAfterAudioBytes;
    if (drop !== undefined && r.audio.length >= drop) {
      this.host.drop();
      return;
    }
    for (const e of this.segmenter?.process(payload) ?? []) {
      this.event(e.type === 'start' ? 'stt-vad-start' : 'stt-vad-end', {
        timestamp: e.timestampMs,
      });
      if (e.type === 'end') {
        r.vadEndAt = performance.now();
        this.endAudio();
      }
    }
  }

  /** The client unsubscribed, or the connection closed: the task is cancelled. */
  cancel(): void {
    this.end();
  }

  private endAudio(): void {
    if (this.audioDone) return;
    this.audioDone = true;
    void this.afterAudio();
  }

  private async afterAudio(): Promise<void> {
    const b = this.host.behaviour();
    let text: string;
    try {
      text = b.fail === 'stt-no-text-recognized' ? '' : await transcribe(this.record.audio);
    } catch {
      return this.error('stt-stream-failed', 'Unexpected error during speech-to-text');
    }
    if (this.ended) return;
    this.record.transcript = text;
    if (!text) return this.error('stt-no-text-recognized', 'No text recognized');
    this.event('stt-end', { stt_output: { text } });
    await this.intent(text);
  }

  private async intent(text: string): Promise<void> {
    const b = this.host.behaviour();
    const m = this.record.message;
    this.event('intent-start', {
      engine: 'conversation.home_assistant',
      language: 'en',
      intent_input: text,
      conversation_id: this.record.conversationId,
      device_id: m.device_id ?? null,
      prefer_local_intents: false,
    });
    if (b.fail === 'intent-failed') {
      return this.error('intent-failed', 'Unexpected error during intent recognition');
    }
    if (b.fail === 'stall') return; // the run's timeout ends it
    const a = b.answer(text);
    this.record.answer = a.speech;
    this.event('intent-progress', { chat_log_delta: { role: 'assistant' } });
    this.event('intent-progress', { chat_log_delta: { content: a.speech } });
    const speaking = b.streamResponse ? this.synth(a.speech) : undefined;
    if (speaking) this.event('intent-progress', { tts_start_streaming: true });
    const continues = b.continueConversation(text);
    this.event('intent-end', {
      processed_locally: true,
      intent_output: {
        response: {
          speech: { plain: { speech: a.speech, extra_data: null } },
          card: {},
          language: 'en',
          response_type: a.responseType,
          data: { targets: [], success: [], failed: [] },
        },
        conversation_id: this.record.conversationId,
        continue_conversation: continues,
      },
    });
    await this.speak(a.speech, speaking);
  }

  private async speak(text: string, started?: Promise<void>): Promise<void> {
    const b = this.host.behaviour();
    if (!text.trim()) return this.end(); // blank speech: no TTS stage
    this.event('tts-start', { engine: 'tts.flite', language: 'en', voice: 'slt', tts_input: text });
    if (b.fail === 'tts-failed')
      return this.error('tts-failed', 'Unexpected error during text-to-speech');
    try {
      await (started ?? this.synth(text));
    } catch {
      return this.error('tts-failed', 'Unexpected error during text-to-speech');
    }
    if (this.ended) return;
    const token = `${this.ttsToken}.${b.ttsFormat}`;
    this.record.ttsEndAt = performance.now();
    this.event('tts-end', {
      tts_output: {
        media_id: `media-source://tts/tts.flite?message=${encodeURIComponent(text)}`,
        token,
        url: `/api/tts_proxy/${token}`,
        mime_type: MIME[b.ttsFormat],
      },
    });
    this.end();
  }

  private synth(text: string): Promise<void> {
    const tts = this.tts!;
    return synthesize(text, this.host.behaviour().ttsFormat).then(
      (audio) => tts.resolve(audio),
      (err: Error) => {
        tts.reject(err);
        throw err;
      },
    );
  }

  private error(code: string, message: string): void {
    this.event('error', { code, message });
    this.end();
  }

  private timeout(): void {
    if (this.ended) return;
    // Cancelling the task runs `run.end()` first: run-end, then the timeout error.
    this.end();
    this.ended = true;
    this.event('error', { code: 'timeout', message: 'Timeout running pipeline' });
  }

  private end(): void {
    if (this.ended) return;
    this.event('run-end', null);
    this.ended = true;
    clearTimeout(this.timer);
    this.tts?.reject(new Error('run ended without audio'));
    this.host.done();
  }
}
