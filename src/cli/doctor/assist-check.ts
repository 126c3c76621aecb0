import { listPipelines, openAssist, speakOnce } from '../../assist/oneshot.js';
import type { Config } from '../../config/schema.js';
import { discoveryIdentifier } from '../../mqtt/discovery.js';
import { EarshotError, errorMessage } from '../../shared/errors.js';
import { silentLogger } from '../../shared/logger.js';
import { result, type CheckResult } from './check.js';

/**
 * The cloud check with `cloud.protocol: home-assistant`: the token is accepted, the
 * pipeline exists (`assist_pipeline/pipeline/list`), and a short text comes back as
 * speech that downloads and decodes (the TTS URL, its certificate, the decoder).
 */
export async function checkAssist(config: Config, timeoutMs: number): Promise<CheckResult> {
  const cloud = config.cloud;
  let transport;
  try {
    transport = await openAssist(
      cloud,
      discoveryIdentifier(config.device.id),
      silentLogger(),
      timeoutMs,
    );
  } catch (err) {
    const auth = err instanceof EarshotError && err.code === 'E_ASSIST_AUTH';
    return result(
      'cloud',
      true,
      'fail',
      errorMessage(err),
      auth
        ? 'make a long-lived access token (HA profile → Security) and put it in cloud.tokenFile'
        : 'check cloud.url (wss://HOST:8123/api/websocket), cloud.ca and cloud.tokenFile (mode 600)',
    );
  }
  const done: string[] = ['token accepted'];
  try {
    const { pipelines, preferred } = await listPipelines(transport);
    const wanted = cloud.assist.pipeline ?? preferred;
    const pipeline = pipelines.find((p) => p.id === wanted);
    if (!pipeline) {
      return result(
        'cloud',
        true,
        'fail',
        `${done.join('; ')}; pipeline ${wanted ?? '(preferred)'} not found; HA has: ${pipelines.map((p) => `${p.id} (${p.name ?? ''})`).join(', ') || 'none'}`,
        'set cloud.assist.pipeline to one of these ids, or leave it unset for the preferred one',
      );
    }
    done.push(
      `pipeline "${pipeline.name ?? pipeline.id}"${cloud.assist.pipeline ? '' : ' (preferred)'}`,
    );
    const spoken = await speakOnce(transport, 'say', 'Home Assistant is connected.');
    const seconds = spoken.format ? spoken.samples / spoken.format.sampleRate : 0;
    done.push(
      `speech fetched and decoded: ${seconds.toFixed(1)} s at ${spoken.format?.sampleRate ?? 0} Hz`,
    );
    done.push(
      transport.deviceId ? `HA device ${transport.deviceId}` : 'no HA device id (see README)',
    );
    return result('cloud', true, 'pass', `${cloud.url}: ${done.join('; ')}`);
  } catch (err) {
    return result(
      'cloud',
      true,
      'fail',
      `${cloud.url}: ${done.join('; ')}; then: ${errorMessage(err)}`,
      'the pipeline needs a text-to-speech engine; check it in HA (Settings → Voice assistants)',
    );
  } finally {
    await transport.stop();
  }
}
