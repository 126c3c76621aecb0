import type { DeviceCommand } from '../shared/device-status.js';
import type { ErrorCode } from '../shared/error-codes.js';
import { RateWindow } from '../shared/rate-window.js';
import { remoteRefusal, type RemotePolicy } from '../shared/remote-policy.js';
import { parseCommand, payloadExcerpt } from './commands.js';
import type { CommandTopics } from './topics.js';
import type { RejectedCommand } from './types.js';

/**
 * What the broker may tell the speaker: every command message passes this gate before
 * it reaches the device. In order: a retained command is refused (it would fire again
 * on every reconnect), a flood is dropped past `maxPer10s` (anyone on an open broker can
 * publish), the payload must parse, and the owner's remote policy must allow it.
 */
export type GateVerdict =
  | { kind: 'accept'; command: DeviceCommand }
  | { kind: 'reject'; rejected: RejectedCommand }
  /** Over the rate limit: dropped without an answer; `warn` on the first of a flood. */
  | { kind: 'drop'; warn: boolean };

export interface CommandGateOptions {
  topics: CommandTopics;
  policy: RemotePolicy;
  maxPer10s: number;
  now: () => number;
}

export class CommandGate {
  private readonly window: RateWindow;

  constructor(private readonly options: CommandGateOptions) {
    this.window = new RateWindow(options.maxPer10s, 10_000, options.now);
  }

  check(topic: string, payload: Buffer, retained: boolean): GateVerdict {
    if (retained) {
      return reject(
        topic,
        payload,
        'retained command ignored; clear it with an empty retained message',
      );
    }
    if (!this.window.take()) return { kind: 'drop', warn: this.window.refused % 1000 === 1 };
    const result = parseCommand(this.options.topics, topic, payload);
    if (!result.ok) return reject(topic, payload, result.reason);
    const refusal = remoteRefusal(result.command, this.options.policy);
    if (refusal) return reject(topic, payload, refusal, 'E_REMOTE_REFUSED');
    return { kind: 'accept', command: result.command };
  }
}

/** The answer published on the error topic for a command that was not taken. */
export function rejectedCommand(
  topic: string,
  payload: Buffer,
  reason: string,
  code: ErrorCode = 'E_BAD_MESSAGE',
): RejectedCommand {
  return {
    code,
    topic,
    payload: payloadExcerpt(payload),
    reason,
    time: new Date().toISOString(),
  };
}

function reject(topic: string, payload: Buffer, reason: string, code?: ErrorCode): GateVerdict {
  return { kind: 'reject', rejected: rejectedCommand(topic, payload, reason, code) };
}
