import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { EventEmitter } from 'node:events';
import { WebSocketServer, type WebSocket } from 'ws';
import { StandinRun, type TtsStream } from './pipeline.js';
import { answer } from './speech.js';
import type { RunRecord, StandinBehaviour } from './types.js';
import { HA_SEGMENTER } from './vad.js';

export type { RunRecord, StandinBehaviour } from './types.js';

export interface StandinOptions {
  cert: string;
  key: string;
  host?: string;
  port?: number;
  behaviour?: Partial<StandinBehaviour>;
}

export interface HaStandin {
  /** `wss://HOST:PORT/api/websocket`. */
  url: string;
  origin: string;
  runs: RunRecord[];
  /** `run` (a record, when a run command arrives), `tts-served` (token, first byte time). */
  events: EventEmitter;
  setBehaviour(b: Partial<StandinBehaviour>): void;
  /** Closes every connection (as a crash would) and refuses new ones for `downMs`. */
  restart(downMs: number): void;
  close(): Promise<void>;
}

export const DEFAULT_BEHAVIOUR: StandinBehaviour = {
  token: 'standin-token',
  pipelines: [{ id: '01JSTANDINPIPELINE00000000', name: 'Home Assistant' }],
  preferredPipeline: '01JSTANDINPIPELINE00000000',
  registry: 'allowed',
  devices: [],
  vad: HA_SEGMENTER,
  ttsFormat: 'mp3',
  ttsHttp: 'ok',
  continueConversation: () => false,
  streamResponse: false,
  answerPings: true,
  resultDelayMs: 0,
  answer,
};

const GARBAGE = Buffer.from('<html>this is not audio</html>\n'.repeat(200));

/**
 * A stand-in for Home Assistant's WebSocket API and TTS proxy, written from HA's source
 * (websocket_api/, assist_pipeline/, tts/): the server speaks first (`auth_required`),
 * a bad token gets `auth_invalid` and the socket closes, ids must increase, `ping` gets
 * `pong`, a run's `result` comes before its events, binary handler ids count up per
 * connection (1, 2, 3 …), the empty payload ends the audio, TTS URLs are relative and
 * need no auth, unknown tokens get 404. Real speech: it transcribes with PocketSphinx
 * and answers with flite, as mp3 (lame), wav or flac, over HTTPS.
 */
export async function startHaStandin(options: StandinOptions): Promise<HaStandin> {
  let behaviour: StandinBehaviour = { ...DEFAULT_BEHAVIOUR, ...options.behaviour };
  const runs: RunRecord[] = [];
  const events = new EventEmitter();
  const tts = new Map<string, TtsStream>();
  const sockets = new Set<WebSocket>();
  let downUntil = 0;
  let connections = 0;

  const server: Server = createServer({
    cert: readFileSync(options.cert),
    key: readFileSync(options.key),
  });
  server.on('request', (req, res) => {
    const m = /^\/api\/tts_proxy\/([\w.-]+)$/.exec(req.url ?? '');
    const stream = m ? tts.get(m[1]!) : undefined;
    if (!stream || behaviour.ttsHttp === 404 || req.method !== 'GET') {
      res.writeHead(404).end('404: Not Found');
      return;
    }
    stream.audio.then(
      async (audio) => {
        const body = behaviour.ttsHttp === 'garbage' ? GARBAGE : audio;
        res.writeHead(200, { 'content-type': stream.mime });
        events.emit('tts-served', m![1], performance.now());
        // Streamed in chunks, as HA's StreamResponse writes them.
        for (let i = 0; i < body.length && !res.destroyed; i += 4096) {
          res.write(body.subarray(i, i + 4096));
          await new Promise((r) => setImmediate(r));
        }
        res.end();
      },
      () => res.writeHead(500).end('500 Internal Server Error'),
    );
  });
  const wss = new WebSocketServer({ noServer: true, maxPayload: 4 * 1024 * 1024 });
  server.on('upgrade', (req, socket, head) => {
    if (Date.now() < downUntil || req.url !== '/api/websocket') {
      socket.end('HTTP/1.1 503 Service Unavailable\r\n\r\n');
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws));
  });

  function serve(ws: WebSocket): void {
    connections += 1;
    const connection = connections;
    sockets.add(ws);
    let authed = false;
    let lastId = 0;
    let handlerCount = 0;
    const byHandler = new Map<number, StandinRun>();
    const byId = new Map<number, StandinRun>();
    const send = (m: Record<string, unknown>): void => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(m));
    };
    const result = (id: number, value: unknown): void =>
      send({ id, type: 'result', success: true, result: value });
    const error = (id: unknown, code: string, message: string): void =>
      send({ id, type: 'result', success: false, error: { code, message } });
    send({ type: 'auth_required', ha_version: '2025.6.0' });
    const authTimer = setTimeout(() => ws.close(), 10_000);
    ws.on('close', () => {
      sockets.delete(ws);
      clearTimeout(authTimer);
      for (const run of byId.values()) run.cancel();
    });
    ws.on('message', (data, isBinary) => {
      const buf = Buffer.isBuffer(data) ? data : Buffer.concat(data as Buffer[]);
      if (!authed) {
        let m: Record<string, unknown> | undefined;
        try {
          m = isBinary ? undefined : (JSON.parse(buf.toString()) as Record<string, unknown>);
        } catch {
          m = undefined;
        }
        if (!m) return void ws.close();
        clearTimeout(authTimer);
        if (m.type === 'auth' && m.access_token === behaviour.token) {
          authed = true;
          send({ type: 'auth_ok', ha_version: '2025.6.0' });
        } else {
          send({ type: 'auth_invalid', message: 'Invalid access token or password' });
          ws.close();
        }
        return;
      }
      if (isBinary) {
        if (buf.length === 0) return void ws.close(); // "Received invalid binary message."
        byHandler.get(buf[0]!)?.audio(buf.subarray(1));
        return;
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(buf.toString());
      } catch {
        return void ws.close();
      }
      for (const msg of Array.isArray(parsed) ? parsed : [parsed]) command(msg);
    });

    function command(msg: unknown): void {
      if (!msg || typeof msg !== 'object')
        return error(0, 'invalid_format', 'Message incorrectly formatted.');
      const m = msg as Record<string, unknown>;
      const id = m.id;
      if (
        typeof id !== 'number' ||
        !Number.isInteger(id) ||
        id === 0 ||
        typeof m.type !== 'string'
      ) {
        return error(id ?? null, 'invalid_format', 'Message incorrectly formatted.');
      }
      if (id <= lastId) return error(id, 'id_reuse', 'Identifier values have to increase.');
      const known = [
        'ping',
        'assist_pipeline/run',
        'unsubscribe_events',
        'config/device_registry/list',
        'assist_pipeline/pipeline/list',
      ];
      if (!known.includes(m.type)) return error(id, 'unknown_command', 'Unknown command.');
      lastId = id;
      switch (m.type) {
        case 'ping':
          if (behaviour.answerPings) send({ id, type: 'pong' });
          return;
        case 'config/device_registry/list':
          if (behaviour.registry === 'unauthorized')
            return error(id, 'unauthorized', 'Unauthorized');
          return result(
            id,
            behaviour.devices.map((d) => ({ area_id: null, name: d.id, ...d })),
          );
        case 'assist_pipeline/pipeline/list':
          return result(id, {
            pipelines: behaviour.pipelines.map((p) => ({
              ...p,
              conversation_engine: 'conversation.home_assistant',
              language: 'en',
              stt_engine: 'stt.pocketsphinx',
              tts_engine: 'tts.flite',
            })),
            preferred_pipeline: behaviour.preferredPipeline,
          });
        case 'unsubscribe_events': {
          const run = byId.get(Number(m.subscription));
          if (!run) return error(id, 'not_found', 'Subscription not found.');
          run.cancel();
          return result(id, null);
        }
        case 'assist_pipeline/run':
          return void startRun(id, m);
      }
    }

    async function startRun(id: number, m: Record<string, unknown>): Promise<void> {
      const record: RunRecord = {
        connection,
        message: m,
        audio: Buffer.alloc(0),
        bytesAfterEnd: 0,
        endFrame: false,
        sent: [],
      };
      runs.push(record);
      events.emit('run', record);
      const pipeline = m.pipeline;
      if (pipeline !== undefined && !behaviour.pipelines.some((p) => p.id === pipeline)) {
        record.sent.push('result');
        return error(id, 'pipeline-not-found', `Pipeline not found: id=${String(pipeline)}`);
      }
      if (m.start_stage === 'stt') {
        handlerCount += 1;
        record.handlerId = handlerCount;
      }
      const run = new StandinRun(id, record, {
        behaviour: () => behaviour,
        send,
        addTts: (token, stream) => tts.set(token, stream),
        done: () => {
          if (record.handlerId !== undefined) byHandler.delete(record.handlerId);
          byId.delete(id);
        },
        drop: () => ws.terminate(),
      });
      if (record.handlerId !== undefined) byHandler.set(record.handlerId, run);
      byId.set(id, run);
      if (behaviour.resultDelayMs > 0)
        await new Promise((r) => setTimeout(r, behaviour.resultDelayMs));
      record.sent.push('result');
      result(id, null);
      run.start();
    }
  }

  await new Promise<void>((resolve) =>
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve),
  );
  const port = (server.address() as AddressInfo).port;
  const host = options.host ?? '127.0.0.1';
  return {
    url: `wss://${host}:${port}/api/websocket`,
    origin: `https://${host}:${port}`,
    runs,
    events,
    setBehaviour: (b) => {
      behaviour = { ...behaviour, ...b };
    },
    restart: (downMs) => {
      downUntil = Date.now() + downMs;
      for (const ws of sockets) ws.terminate();
    },
    close: async () => {
      for (const ws of sockets) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
