import type { CloudConfig } from '../config/sections/cloud.js';
import type {
  Destination,
  TransportEvents,
  UtteranceInfo,
  UtteranceTransport,
  UtteranceUpload,
} from '../device/ports.js';
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from '../shared/audio-format.js';
import type { Clock } from '../shared/clock.js';
import { EarshotError, errorMessage } from '../shared/errors.js';
import type { Logger } from '../shared/logger.js';
import { readSecretFile } from '../shared/secret-file.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import { AssistClient, HaCommandError } from './client.js';
import { assistEndpoint } from './endpoint.js';
import { registryDevices } from './messages.js';
import { PipelineRun, type RunContext } from './run.js';

export interface AssistTransportOptions {
  cloud: CloudConfig;
  /** The identifier MQTT discovery gives this speaker's device (`earshot_<id>`). */
  registryIdentifier: string;
  log: Logger;
  clock: Clock;
  random?: () => number;
}

/** How often a speaker whose HA device was not found looks again (on its next run). */
const REGISTRY_RETRY_MS = 60_000;

/** "hey_jarvis" → "Hey Jarvis": the phrase HA compares across satellites (2 s dedup). */
export function wakePhrase(keyword: string): string {
  return keyword
    .replace(/_v\d+(\.\d+)*$/, '')
    .split(/[_\s]+/)
    .filter(Boolean)
    .map((w) => w[0]!.toUpperCase() + w.slice(1))
    .join(' ');
}

/**
 * Home Assistant's Assist pipeline behind the device's transport port (kind
 * `home-assistant`): one `assist_pipeline/run` per utterance, announcement or typed
 * question, over one authenticated connection. It sends what follows the wake word
 * (`maxPreRollMs`, default 0) and names the wake word (`wake_word_phrase`), passes the
 * speaker's HA device id when the token may read the device registry, and carries the
 * conversation on into a follow-up. HA takes no retention flag: `destination` says so.
 */
export class AssistTransport extends TypedEmitter<TransportEvents> implements UtteranceTransport {
  readonly kind = 'home-assistant';
  readonly name = 'link';
  readonly maxPreRollMs: number;
  readonly destination: Destination;
  readonly client: AssistClient;
  private readonly origin: string;
  private readonly runs = new Map<string, PipelineRun>();
  /** The conversation a follow-up continues (set by an answer that asked for one). */
  private conversation: string | undefined;
  private haDeviceId: string | undefined;
  private lookedAt = Number.NEGATIVE_INFINITY;

  constructor(private readonly options: AssistTransportOptions) {
    super();
    const { cloud, log, clock } = options;
    if (!cloud.url) throw new EarshotError('E_LINK_CONFIG', 'cloud.url is not set');
    const endpoint = assistEndpoint(cloud.url, cloud.insecure);
    this.origin = endpoint.origin;
    this.maxPreRollMs = cloud.assist.preRollMs;
    this.destination = { protocol: 'home-assistant', host: endpoint.ws.host, retentionSent: false };
    const tokenFile = cloud.tokenFile;
    const token = cloud.token;
    this.client = new AssistClient({
      url: cloud.url,
      insecure: cloud.insecure,
      tls: { ca: cloud.ca, cert: cloud.cert, key: cloud.key },
      token: async () => {
        if (tokenFile) return readSecretFile('cloud.tokenFile', tokenFile);
        if (token) return token;
        throw new EarshotError('E_SECRET_FILE', 'no token: set cloud.tokenFile');
      },
      heartbeatMs: cloud.heartbeatMs,
      heartbeatTimeoutMs: cloud.heartbeatTimeoutMs,
      connectTimeoutMs: cloud.connectTimeoutMs,
      backoff: cloud.backoff,
      maxPayloadBytes: cloud.maxPayloadBytes,
      clock,
      log,
      ...(options.random ? { random: options.random } : {}),
    });
    this.client.on('status', (s) =>
      this.emit('status', { status: s.status, ...(s.cause ? { cause: s.cause } : {}) }),
    );
    this.client.on('lost', (cause) => {
      for (const run of [...this.runs.values()]) run.lost(cause);
    });
    this.client.on('up', () => void this.findDevice());
  }

  /** The HA device id runs carry (undefined until found, or when the token may not look). */
  get deviceId(): string | undefined {
    return this.haDeviceId;
  }

  async start(): Promise<void> {
    this.client.start();
  }

  async stop(): Promise<void> {
    for (const run of [...this.runs.values()]) run.cancel();
    await this.client.stop();
  }

  openUtterance(info: UtteranceInfo): UtteranceUpload {
    const input: Record<string, unknown> = { sample_rate: SAMPLE_RATE };
    if (info.trigger.kind === 'wake') input.wake_word_phrase = wakePhrase(info.trigger.keyword);
    const followup = info.trigger.kind === 'followup' ? this.conversation : undefined;
    this.conversation = undefined;
    const run = this.begin(info.id, {
      type: 'assist_pipeline/run',
      start_stage: 'stt',
      end_stage: 'tts',
      input,
      ...(followup ? { conversation_id: followup } : {}),
    });
    const bytesPerMs = (SAMPLE_RATE * BYTES_PER_SAMPLE) / 1000;
    return {
      id: info.id,
      write: (pcm) => run.write(pcm),
      end: () => {
        const s = run.endAudio();
        return { ...s, durationMs: Math.round(s.bytes / bytesPerMs) };
      },
      abort: () => run.cancel(),
    };
  }

  announce(id: string, text: string): void {
    this.begin(id, {
      type: 'assist_pipeline/run',
      start_stage: 'tts',
      end_stage: 'tts',
      input: { text },
    });
  }

  cancelAnnouncement(id: string): void {
    this.runs.get(id)?.cancel();
  }

  /** The Player's buffer is full: stop reading answers until it has played some. */
  pauseReplies(paused: boolean): void {
    for (const run of this.runs.values()) run.pauseReply(paused);
  }

  /**
   * The device refused what came for `id` (the Player: too long, too fast). HA has no
   * message for that; the run is abandoned, so nothing more is fetched for it.
   */
  answer(code: string, message: string, id?: string): void {
    this.options.log.warn({ id, code, message }, 'answer refused by the device; run abandoned');
    if (id !== undefined) this.runs.get(id)?.cancel();
  }

  /** A typed question (`earshot ask`): intent → tts; answers under `id` like an utterance. */
  ask(id: string, text: string): void {
    this.begin(id, {
      type: 'assist_pipeline/run',
      start_stage: 'intent',
      end_stage: 'tts',
      input: { text },
    });
  }

  private begin(id: string, message: Record<string, unknown>): PipelineRun {
    const { cloud, log, clock } = this.options;
    const { assist } = cloud;
    const ctx: RunContext = {
      client: this.client,
      emit: (event, ...args) => this.emit(event, ...args),
      clock,
      log,
      origin: this.origin,
      fetch: {
        tls: { ca: cloud.ca, cert: cloud.cert, key: cloud.key },
        timeoutMs: assist.ttsTimeoutMs,
        maxBytes: assist.ttsMaxBytes,
      },
      runTimeoutMs: assist.runTimeoutMs,
      holdBytes: Math.round((assist.holdMs / 1000) * SAMPLE_RATE * BYTES_PER_SAMPLE),
      maxBufferedBytes: cloud.maxBufferedBytes,
      onConversation: (conversationId, continues) => {
        this.conversation = continues ? conversationId : undefined;
      },
      onDone: (doneId) => this.runs.delete(doneId),
    };
    const run = new PipelineRun(id, ctx, {
      ...message,
      ...(assist.pipeline ? { pipeline: assist.pipeline } : {}),
      ...(this.haDeviceId ? { device_id: this.haDeviceId } : {}),
      timeout: Math.ceil(assist.runTimeoutMs / 1000),
    });
    this.runs.get(id)?.cancel();
    this.runs.set(id, run);
    run.start();
    // Discovery may have made the speaker's HA device after this connection looked.
    if (!this.haDeviceId && clock.now() - this.lookedAt > REGISTRY_RETRY_MS) void this.findDevice();
    return run;
  }

  /**
   * Finds the HA device that MQTT discovery made for this speaker (identifier
   * `["mqtt", "earshot_<id>"]`), so runs carry its `device_id` and HA knows the area.
   * A token that may not read the registry (HA answers `unauthorized`) is not an error:
   * runs go without a device id.
   */
  private async findDevice(): Promise<void> {
    if (!this.options.cloud.assist.deviceRegistry || !this.client.isUp) return;
    const { log, registryIdentifier, clock } = this.options;
    this.lookedAt = clock.now();
    try {
      const result = await this.client.command({ type: 'config/device_registry/list' }).result;
      const devices = registryDevices.parse(result);
      const match = devices.find((d) =>
        (d.identifiers ?? []).some((i) => i[0] === 'mqtt' && i[1] === registryIdentifier),
      );
      this.haDeviceId = match?.id;
      if (match) log.info({ deviceId: match.id }, 'Home Assistant device found');
      else
        log.info(
          { identifier: registryIdentifier },
          'no Home Assistant device for this speaker yet (MQTT discovery)',
        );
    } catch (err) {
      const why = err instanceof HaCommandError ? err.code : errorMessage(err);
      log.info({ why }, 'device registry not readable: runs go without a device id');
    }
  }
}
