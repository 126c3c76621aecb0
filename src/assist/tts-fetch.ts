import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { EarshotError, errorMessage } from '../shared/errors.js';
import { describeNetError, readTls, type TlsFiles } from './endpoint.js';

/**
 * The spoken answer's URL: HA gives a path (`/api/tts_proxy/<token>.mp3`) relative to
 * the address the device connected to. An absolute URL (older HA versions) is taken
 * only on that same origin: the device fetches nothing from anywhere else.
 */
export function ttsUrl(origin: string, url: string): URL {
  let u: URL;
  try {
    u = new URL(url, origin);
  } catch {
    throw new EarshotError('E_ASSIST_TTS_URL', 'the spoken answer has no valid URL');
  }
  if (u.origin !== origin) {
    throw new EarshotError(
      'E_ASSIST_TTS_URL',
      `spoken answer on ${u.origin}, not on ${origin}: not fetched`,
    );
  }
  return u;
}

/** The most handed on at once: about 0.25 s of 64 kbit/s mp3, 45 ms of 22 kHz wav. */
const PIECE_BYTES = 2048;

export interface TtsFetchOptions {
  tls: TlsFiles;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Fetches a spoken answer over HTTPS with the socket's certificate checks, streamed:
 * each chunk is handed on as it arrives. Bounded in size, and in time: the answer may
 * not stall (no byte for `timeoutMs` while it is being read; HA's proxy holds the
 * request until the answer is there, so the first byte counts too). While the sound
 * card is behind, `pause(true)` stops reading: TCP's own backpressure then holds HA, and
 * the clock stands. A status other than 200 fails at once. No credentials go with it
 * (the URL's token is the only secret; HA's `TextToSpeechView` needs no auth).
 * `abort()` ends it quietly.
 */
export class TtsFetch {
  private req: ReturnType<typeof httpsRequest> | undefined;
  private aborted = false;
  private timer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private gate: { promise: Promise<void>; open: () => void } | undefined;

  constructor(
    private readonly url: URL,
    private readonly options: TtsFetchOptions,
  ) {}

  abort(): void {
    this.aborted = true;
    this.gate?.open();
    this.req?.destroy();
  }

  /** Stops reading the answer (the sound card is behind), or reads on. */
  pause(paused: boolean): void {
    if (paused && !this.gate) {
      let open!: () => void;
      const promise = new Promise<void>((resolve) => (open = resolve));
      this.gate = { promise, open };
      clearTimeout(this.timer);
    } else if (!paused && this.gate) {
      const gate = this.gate;
      this.gate = undefined;
      this.arm();
      gate.open();
    }
  }

  /** Calls `onChunk` for every chunk, in order; resolves at the end of the body. */
  async run(onChunk: (chunk: Buffer) => Promise<void> | void): Promise<number> {
    const { options, url } = this;
    const started = Date.now();
    try {
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
        const req = request(url, {
          method: 'GET',
          ...readTls(options.tls),
          rejectUnauthorized: true,
          headers: { accept: 'audio/*' },
        });
        this.req = req;
        this.arm();
        req.on('response', resolve);
        req.on('error', (err) => reject(this.failure ?? err));
        req.end();
      });
      if (res.statusCode !== 200) {
        res.resume();
        throw new EarshotError('E_ASSIST_TTS_HTTP', `spoken answer: HTTP ${res.statusCode ?? 0}`);
      }
      let bytes = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          this.fail(
            new EarshotError(
              'E_ASSIST_TTS_TOO_LARGE',
              `spoken answer larger than ${options.maxBytes} bytes (cloud.assist.ttsMaxBytes)`,
            ),
          );
          break;
        }
        if (!this.gate) this.arm();
        // Handed on in small pieces (a packet may hold seconds of audio), each after the
        // gate: a pause takes effect within one piece, not one packet.
        for (let i = 0; i < chunk.length && !this.aborted; i += PIECE_BYTES) {
          if (this.gate) await this.gate.promise;
          await onChunk(chunk.subarray(i, i + PIECE_BYTES));
        }
        if (this.aborted) break;
      }
      if (this.failure) throw this.failure;
      if (!res.complete && !this.aborted) {
        throw new EarshotError('E_ASSIST_TTS_HTTP', 'spoken answer cut short');
      }
      return bytes;
    } catch (err) {
      if (this.failure) throw this.failure;
      if (err instanceof EarshotError) throw err;
      const ms = Date.now() - started;
      throw new EarshotError(
        'E_ASSIST_TTS_HTTP',
        `spoken answer: ${describeNetError(err, Boolean(options.tls.ca)) || errorMessage(err)} after ${ms} ms`,
      );
    } finally {
      clearTimeout(this.timer);
    }
  }

  private fail(err: Error): void {
    this.failure ??= err;
    this.req?.destroy();
  }

  /** (Re)starts the stall deadline. */
  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(
      () =>
        this.fail(
          new EarshotError(
            'E_ASSIST_TTS_TIMEOUT',
            `spoken answer stalled: nothing for ${this.options.timeoutMs} ms`,
          ),
        ),
      this.options.timeoutMs,
    );
  }
}
