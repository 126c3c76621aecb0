import { createHash } from 'node:crypto';
import type { Clock, TimerHandle } from '../shared/clock.js';
import { EarshotError, errorCode, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import type { TransportEvents } from '../device/ports.js';
import type { AssistClient } from './client.js';
import { HaCommandError } from './client.js';
import {
  errorData,
  intentEndData,
  intentProgressData,
  runStartData,
  sttEndData,
  ttsEndData,
  type HaEvent,
} from './messages.js';
import { ReplyDecoder } from './reply-decoder.js';
import { TtsFetch, ttsUrl, type TtsFetchOptions } from './tts-fetch.js';

export interface RunContext {
  client: AssistClient;
  emit: <K extends keyof TransportEvents>(event: K, ...args: TransportEvents[K]) => void;
  clock: Clock;
  log: Logger;
  /** `https://host:port` of Home Assistant: relative TTS URLs are fetched from here. */
  origin: string;
  fetch: TtsFetchOptions;
  /** Device-side guard on the whole run (HA has its own, sent as `timeout`). */
  runTimeoutMs: number;
  /** Audio held until `run-start` names the handler. */
  holdBytes: number;
  /** Audio waiting in the socket before the request fails (E_BACKPRESSURE). */
  maxBufferedBytes: number;
  /** The answer continues a conversation: the next follow-up carries its id. */
  onConversation: (conversationId: string | undefined, continues: boolean) => void;
  onDone: (id: string) => void;
}

/**
 * After `run-end`, how long an `error` may still follow: HA's whole-run timeout cancels
 * the run (which sends `run-end`) and only then sends its `error` (websocket_api.py).
 */
const AFTER_RUN_END_MS = 250;
/** How much longer than HA's own run timeout the device waits before it gives up. */
const GUARD_GRACE_MS = 3000;

/**
 * One `assist_pipeline/run`: an utterance (stt → tts), an announcement (tts → tts) or a
 * typed question (intent → tts). It maps HA's events onto the transport port's:
 * `stt-vad-end` → captureStop, `stt-end` → transcript, `intent-end` → replyText (and the
 * follow-up's conversation), `tts-end` (or `tts_start_streaming`, earlier) → the answer
 * fetched, decoded as it streams and played: replyStart / replyAudio / replyEnd; every
 * error → utteranceFailed with HA's own code. It ends exactly once.
 */
export class PipelineRun {
  private cmdId: number | undefined;
  private handler: number | undefined;
  private held: Buffer[] = [];
  private heldBytes = 0;
  private audioEnded = false;
  private endSent = false;
  private sent = 0;
  private readonly hash = createHash('sha256');
  private ttsUrl: string | undefined;
  private fetch: TtsFetch | undefined;
  private fetching: Promise<void> | undefined;
  private readonly decoder = new ReplyDecoder();
  private replyStarted = false;
  private expectSpeech = false;
  private done = false;
  private guard: TimerHandle | undefined;
  private afterEnd: TimerHandle | undefined;
  private finishing = false;
  /** HA's side has ended (run-end, or the command failed): nothing to cancel there. */
  private haEnded = false;

  constructor(
    readonly id: string,
    private readonly ctx: RunContext,
    private readonly message: Record<string, unknown>,
  ) {}

  start(): void {
    const { client, clock, runTimeoutMs } = this.ctx;
    // HA keeps the same limit (`timeout`) and says so itself; this guard is for an HA
    // that says nothing at all, so it waits a little longer.
    const guardMs = runTimeoutMs + GUARD_GRACE_MS;
    this.guard = clock.setTimeout(
      () => this.fail('E_ASSIST_TIMEOUT', `no answer from Home Assistant within ${guardMs} ms`),
      guardMs,
    );
    const { id, result } = client.command(this.message, (e) => this.onEvent(e));
    this.cmdId = id;
    result.catch((err: unknown) => {
      this.haEnded = true;
      if (err instanceof HaCommandError) this.fail(err.code, err.error.message);
      else this.fail(errorCode(err), errorMessage(err));
    });
  }

  get bytesSent(): number {
    return this.sent;
  }

  /** Audio for the run: held until the handler is known, then sent behind its byte. */
  write(pcm: Buffer): boolean {
    if (this.done || this.audioEnded) return false;
    if (this.handler === undefined) {
      if (this.heldBytes + pcm.length > this.ctx.holdBytes) {
        this.fail(
          'E_ASSIST_HOLD_OVERFLOW',
          `Home Assistant did not start the run before ${this.ctx.holdBytes} bytes of audio`,
        );
        return false;
      }
      this.held.push(Buffer.from(pcm));
      this.heldBytes += pcm.length;
    } else if (!this.send(pcm)) {
      return false;
    }
    this.hash.update(pcm);
    this.sent += pcm.length;
    return true;
  }

  /** The end of the audio: the handler byte alone (now, or once the handler is known). */
  endAudio(): { bytes: number; sha256: string } {
    this.audioEnded = true;
    this.sendEnd();
    return { bytes: this.sent, sha256: this.hash.copy().digest('hex') };
  }

  /** The device gave up on it (abort, barge-in, mute): no more events, HA is told. */
  cancel(): void {
    if (this.done) return;
    this.finish();
  }

  /** The sound card is behind: stop reading the answer, or read on. */
  pauseReply(paused: boolean): void {
    this.fetch?.pause(paused);
  }

  /** The connection is gone: the run fails with the link's cause. */
  lost(cause: string): void {
    this.fail('E_LINK_DOWN', `Home Assistant connection lost: ${cause}`);
  }

  private send(pcm: Buffer): boolean {
    const { client, maxBufferedBytes } = this.ctx;
    if (client.bufferedAmount > maxBufferedBytes) {
      this.fail('E_BACKPRESSURE', `more than ${maxBufferedBytes} bytes wait in the socket`);
      return false;
    }
    const frame = Buffer.allocUnsafe(pcm.length + 1);
    frame[0] = this.handler!;
    pcm.copy(frame, 1);
    if (client.sendBinary(frame)) return true;
    this.fail('E_LINK_DOWN', 'Home Assistant is not connected');
    return false;
  }

  private sendEnd(): void {
    if (this.endSent || this.done || this.handler === undefined || !this.audioEnded) return;
    this.endSent = true;
    this.ctx.client.sendBinary(Buffer.from([this.handler]));
  }

  private onEvent(e: HaEvent): void {
    if (this.done) return;
    const data = e.data;
    switch (e.type) {
      case 'run-start': {
        const d = runStartData.safeParse(data);
        if (!d.success) return this.fail('E_BAD_MESSAGE', 'run-start without its data');
        this.ttsUrl = d.data.tts_output?.url;
        this.decoder.prepare(d.data.tts_output?.mime_type);
        const handler = d.data.runner_data?.stt_binary_handler_id ?? undefined;
        if (this.message.start_stage === 'stt') {
          if (handler === undefined)
            return this.fail('E_BAD_MESSAGE', 'run-start without a handler id');
          this.handler = handler;
          for (const pcm of this.held.splice(0)) if (!this.send(pcm)) return;
          this.heldBytes = 0;
          this.sendEnd();
        }
        return;
      }
      case 'stt-vad-end':
        this.ctx.emit('captureStop', { id: this.id });
        return;
      case 'stt-end': {
        const d = sttEndData.safeParse(data);
        if (d.success) this.ctx.emit('transcript', { id: this.id, text: d.data.stt_output.text });
        return;
      }
      case 'intent-progress': {
        const d = intentProgressData.safeParse(data);
        // The answer is being spoken as it is written: fetch it now, it streams.
        if (d.success && d.data.tts_start_streaming && this.ttsUrl) this.startFetch(this.ttsUrl);
        return;
      }
      case 'intent-end': {
        const d = intentEndData.safeParse(data);
        if (!d.success) return;
        const out = d.data.intent_output;
        this.expectSpeech = out.continue_conversation === true;
        const conversationId = out.conversation_id ?? undefined;
        this.ctx.onConversation(conversationId, this.expectSpeech);
        this.ctx.emit('replyText', {
          id: this.id,
          text: out.response?.speech?.plain?.speech ?? '',
          ...(conversationId ? { conversationId } : {}),
          continueConversation: this.expectSpeech,
        });
        return;
      }
      case 'tts-end': {
        const d = ttsEndData.safeParse(data);
        if (!d.success) return this.fail('E_BAD_MESSAGE', 'tts-end without tts_output.url');
        this.startFetch(d.data.tts_output.url);
        return;
      }
      case 'run-end':
        this.haEnded = true;
        if (this.fetch) return;
        // No spoken answer (blank speech): done, unless an error follows at once.
        this.afterEnd = this.ctx.clock.setTimeout(() => {
          if (!this.fetch) this.finishReply();
        }, AFTER_RUN_END_MS);
        return;
      case 'error': {
        const d = errorData.safeParse(data);
        const code = d.success ? d.data.code : 'error';
        const message = d.success ? d.data.message : 'Home Assistant reported an error';
        if (this.replyStarted) {
          this.ctx.log.warn({ id: this.id, code }, 'error after the answer began; it plays on');
          return;
        }
        return this.fail(code, message);
      }
      default:
        return;
    }
  }

  private startFetch(url: string): void {
    if (this.fetch || this.done) return;
    let target: URL;
    try {
      target = ttsUrl(this.ctx.origin, url);
    } catch (err) {
      return this.fail(errorCode(err), errorMessage(err));
    }
    this.ctx.clock.clearTimeout(this.guard);
    this.guard = undefined;
    const fetch = new TtsFetch(target, this.ctx.fetch);
    this.fetch = fetch;
    this.fetching = fetch
      .run(async (chunk) => {
        if (this.done) return;
        const pcm = await this.decoder.push(chunk);
        if (pcm) this.audio(pcm);
      })
      .then(async () => {
        if (this.done) return;
        const tail = await this.decoder.end();
        if (tail) this.audio(tail);
        this.finishReply();
      })
      .catch((err: unknown) => {
        const e =
          err instanceof EarshotError
            ? err
            : new EarshotError('E_ASSIST_TTS_HTTP', errorMessage(err));
        this.fail(e.code, e.message);
      });
  }

  /** The decoder is freed once no decode is in flight (wasm memory, freed once). */
  private freeDecoder(): void {
    if (this.fetching) void this.fetching.finally(() => this.decoder.free());
    else this.decoder.free();
  }

  private audio(pcm: Buffer): void {
    if (this.done) return;
    if (!this.replyStarted) {
      this.replyStarted = true;
      this.ctx.emit('replyStart', { id: this.id, format: this.decoder.format! });
    }
    this.ctx.emit('replyAudio', pcm, this.id);
  }

  private finishReply(): void {
    if (this.done) return;
    const expectSpeech = this.expectSpeech;
    this.finish();
    this.ctx.emit('replyEnd', { id: this.id, expectSpeech });
  }

  private fail(code: string, message: string): void {
    if (this.done) return;
    this.ctx.log.warn({ id: this.id, code, message }, 'Home Assistant run failed');
    this.finish();
    this.ctx.emit('utteranceFailed', { id: this.id, code, message });
  }

  /** Ends the run once: timers, the fetch, the decoder, HA's side of the run. */
  private finish(): void {
    if (this.finishing) return;
    this.finishing = true;
    this.done = true;
    const { client, clock } = this.ctx;
    clock.clearTimeout(this.guard);
    clock.clearTimeout(this.afterEnd);
    this.fetch?.abort();
    this.freeDecoder();
    this.held = [];
    if (this.cmdId !== undefined) {
      client.release(this.cmdId);
      // Cancels HA's run if it is still going (a no-op answer otherwise).
      if (client.isUp && !this.haEnded) {
        client
          .command({ type: 'unsubscribe_events', subscription: this.cmdId })
          .result.catch(() => undefined);
      }
    }
    this.ctx.onDone(this.id);
  }
}
