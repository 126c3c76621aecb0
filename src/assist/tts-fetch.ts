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

export interface TtsFetchOptions {
  tls: TlsFiles;
  timeoutMs: number;
  maxBytes: number;
}

/**
 * Fetches a spoken answer over HTTPS with the socket's certificate checks, streamed:
 * each chunk is handed on as it arrives. Bounded in size and time; a status other than
 * 200 fails at once. No credentials go with it (the URL's token is the only secret;
 * HA's `TextToSpeechView` needs no auth). `abort()` ends it quietly.
 */
export class TtsFetch {
  private req: ReturnType<typeof httpsRequest> | undefined;
  private aborted = false;

  constructor(
    private readonly url: URL,
    private readonly options: TtsFetchOptions,
  ) {}

  abort(): void {
    this.aborted = true;
    this.req?.destroy();
  }

  /** Calls `onChunk` for every chunk, in order; resolves at the end of the body. */
  async run(onChunk: (chunk: Buffer) => Promise<void> | void): Promise<number> {
    const { options, url } = this;
    const started = Date.now();
    let timer: NodeJS.Timeout | undefined;
    let failure: Error | undefined;
    const fail = (err: Error): void => {
      failure ??= err;
      this.req?.destroy();
    };
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
        timer = setTimeout(
          () =>
            fail(
              new EarshotError(
                'E_ASSIST_TTS_TIMEOUT',
                `spoken answer not complete within ${options.timeoutMs} ms`,
              ),
            ),
          options.timeoutMs,
        );
        req.on('response', resolve);
        req.on('error', (err) => reject(failure ?? err));
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
          fail(
            new EarshotError(
              'E_ASSIST_TTS_TOO_LARGE',
              `spoken answer larger than ${options.maxBytes} bytes (cloud.assist.ttsMaxBytes)`,
            ),
          );
          break;
        }
        await onChunk(chunk);
        if (this.aborted) break;
      }
      if (failure) throw failure;
      if (!res.complete && !this.aborted) {
        throw new EarshotError('E_ASSIST_TTS_HTTP', 'spoken answer cut short');
      }
      return bytes;
    } catch (err) {
      if (failure) throw failure;
      if (err instanceof EarshotError) throw err;
      const ms = Date.now() - started;
      throw new EarshotError(
        'E_ASSIST_TTS_HTTP',
        `spoken answer: ${describeNetError(err, Boolean(options.tls.ca)) || errorMessage(err)} after ${ms} ms`,
      );
    } finally {
      clearTimeout(timer);
    }
  }
}
