import { randomBytes } from 'node:crypto';
import type { CloudConfig } from '../config/sections/cloud.js';
import type { PcmFormat } from '../shared/audio-format.js';
import { RealClock } from '../shared/clock.js';
import { EarshotError } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { HaCommandError } from './client.js';
import { pipelineList } from './messages.js';
import { AssistTransport } from './transport.js';

/**
 * Home Assistant for commands that run once (`earshot ask`, `earshot doctor`): connect,
 * ask one thing, disconnect. The daemon uses the transport itself.
 */
export async function openAssist(
  cloud: CloudConfig,
  registryIdentifier: string,
  log: Logger,
  timeoutMs: number,
): Promise<AssistTransport> {
  const transport = new AssistTransport({ cloud, registryIdentifier, log, clock: new RealClock() });
  const up = new Promise<void>((resolve, reject) => {
    let cause = 'no answer';
    const timer = setTimeout(
      () => reject(new EarshotError('E_LINK_DOWN', `Home Assistant: ${cause}`)),
      timeoutMs,
    );
    transport.on('status', (s) => {
      if (s.status === 'up') {
        clearTimeout(timer);
        resolve();
      } else if (s.status === 'down' && s.cause) {
        cause = s.cause;
        // A refused token or an unreadable token file will not get better by waiting.
        if (/auth_invalid|tokenFile|certificate|ECONNREFUSED|HTTP \d/.test(cause)) {
          clearTimeout(timer);
          reject(
            new EarshotError(
              /auth_invalid/.test(cause) ? 'E_ASSIST_AUTH' : 'E_LINK_DOWN',
              `Home Assistant: ${cause}`,
            ),
          );
        }
      }
    });
  });
  await transport.start();
  try {
    await up;
  } catch (err) {
    await transport.stop();
    throw err;
  }
  return transport;
}

export interface Spoken {
  /** The answer's text (intent runs only). */
  text?: string;
  conversationId?: string;
  format?: PcmFormat;
  /** Samples of the spoken answer that were decoded. */
  samples: number;
}

/** Where the spoken answer goes, as it is decoded. */
export interface SpokenSink {
  begin(format: PcmFormat): void;
  write(pcm: Buffer): void;
}

/**
 * One text through the pipeline: `ask` runs intent → tts (a typed question), `say`
 * runs tts → tts (speak this text). Resolves once the answer has been decoded in full.
 */
export function speakOnce(
  transport: AssistTransport,
  mode: 'ask' | 'say',
  text: string,
  sink?: SpokenSink,
): Promise<Spoken> {
  const id = `once-${randomBytes(4).toString('hex')}`;
  const out: Spoken = { samples: 0 };
  return new Promise<Spoken>((resolve, reject) => {
    transport.on('replyText', (r) => {
      if (r.id !== id) return;
      out.text = r.text;
      if (r.conversationId) out.conversationId = r.conversationId;
    });
    transport.on('replyStart', (r) => {
      if (r.id !== id) return;
      out.format = r.format;
      sink?.begin(r.format);
    });
    transport.on('replyAudio', (pcm, rid) => {
      if (rid !== id) return;
      out.samples += pcm.length / 2;
      sink?.write(pcm);
    });
    transport.on('replyEnd', (r) => {
      if (r.id === id) resolve(out);
    });
    transport.on('utteranceFailed', (f) => {
      if (f.id === id) reject(new HaCommandError({ code: f.code, message: f.message }));
    });
    if (mode === 'ask') transport.ask(id, text);
    else transport.announce(id, text);
  });
}

/** The pipelines HA offers, and which is preferred. */
export async function listPipelines(
  transport: AssistTransport,
): Promise<{ pipelines: Array<{ id: string; name?: string | undefined }>; preferred?: string }> {
  const r = pipelineList.parse(
    await transport.client.command({ type: 'assist_pipeline/pipeline/list' }).result,
  );
  return {
    pipelines: r.pipelines,
    ...(r.preferred_pipeline ? { preferred: r.preferred_pipeline } : {}),
  };
}
