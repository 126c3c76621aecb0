import { z } from 'zod';

/**
 * Home Assistant's WebSocket API messages, as the device reads them
 * (`homeassistant/components/websocket_api/` and `assist_pipeline/`). HA adds fields
 * from version to version, so objects are loose: only the fields the device uses are
 * checked, and they are checked strictly.
 */

const authRequired = z.object({ type: z.literal('auth_required') });
const authOk = z.object({ type: z.literal('auth_ok'), ha_version: z.string().max(100).optional() });
const authInvalid = z.object({
  type: z.literal('auth_invalid'),
  message: z.string().max(1000).optional(),
});
/** Ids are positive integers, strictly increasing per connection (connection.py). */
const id = z.number().int().positive();
const resultOk = z.object({
  id,
  type: z.literal('result'),
  success: z.literal(true),
  result: z.unknown(),
});
const haError = z.object({ code: z.string().max(200), message: z.string().max(2000) });
const resultErr = z.object({
  id,
  type: z.literal('result'),
  success: z.literal(false),
  error: haError,
});
const event = z.object({
  id,
  type: z.literal('event'),
  event: z.object({ type: z.string().max(100), data: z.unknown() }),
});
const pong = z.object({ id, type: z.literal('pong') });

export const haMessage = z.union([
  authRequired,
  authOk,
  authInvalid,
  resultOk,
  resultErr,
  event,
  pong,
]);
export type HaMessage = z.infer<typeof haMessage>;
export type HaError = z.infer<typeof haError>;
export type HaEvent = z.infer<typeof event>['event'];

/**
 * Parses one text frame: one message, or an array of them (HA coalesces messages into
 * arrays for clients that asked for it; accepted either way). Unknown or malformed
 * messages are returned as problems, never thrown.
 */
export function parseFrame(
  text: string,
): Array<{ ok: true; message: HaMessage } | { ok: false; reason: string }> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return [{ ok: false, reason: 'not JSON' }];
  }
  const items = Array.isArray(value) ? value : [value];
  return items.map((item) => {
    const r = haMessage.safeParse(item);
    if (r.success) return { ok: true as const, message: r.data };
    const type =
      item && typeof item === 'object' && 'type' in item ? String(item.type).slice(0, 40) : '?';
    return { ok: false as const, reason: `unexpected message (type ${type})` };
  });
}

// The event payloads the device acts on (pipeline.py `PipelineEvent` data).

const ttsOutput = z.object({
  url: z.string().max(2000),
  mime_type: z.string().max(100).optional(),
});

export const runStartData = z.object({
  conversation_id: z.string().max(200).nullish(),
  runner_data: z
    .object({ stt_binary_handler_id: z.number().int().min(1).max(255).nullish() })
    .optional(),
  tts_output: ttsOutput.nullish(),
});

export const sttEndData = z.object({
  stt_output: z.object({ text: z.string().max(10_000) }),
});

export const intentProgressData = z.object({
  tts_start_streaming: z.boolean().optional(),
});

export const intentEndData = z.object({
  intent_output: z.object({
    conversation_id: z.string().max(200).nullish(),
    continue_conversation: z.boolean().optional(),
    response: z
      .object({
        speech: z
          .object({ plain: z.object({ speech: z.string().max(10_000) }).optional() })
          .optional(),
      })
      .optional(),
  }),
});

export const ttsEndData = z.object({ tts_output: ttsOutput });

export const errorData = haError;

/** Pipelines (`assist_pipeline/pipeline/list`). */
export const pipelineList = z.object({
  pipelines: z.array(z.object({ id: z.string(), name: z.string().optional() })),
  preferred_pipeline: z.string().nullish(),
});

/** One device of `config/device_registry/list` (helpers/device_registry.py `dict_repr`). */
export const registryDevices = z.array(
  z.object({
    id: z.string(),
    identifiers: z.array(z.array(z.unknown())).optional(),
  }),
);
