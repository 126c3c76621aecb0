import type { IClientOptions, MqttClient } from 'mqtt';
import type { Clock } from '../shared/clock.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type { RemotePolicy } from '../shared/remote-policy.js';
import type { DeviceCommand, LinkStatusName } from '../shared/device-status.js';

/** The bridge's public contract: its status, its events and its construction options. */

/** Where the bridge stands with its broker. */
export interface MqttStatus {
  /**
   * `disabled`: no `mqtt.url`, or stopped. `connecting`: an attempt is under way. `up`:
   * connected and subscribed, so commands arrive. `down`: waiting to retry.
   */
  status: LinkStatusName;
  /** Why it is not up, e.g. `ECONNREFUSED`, `Connection refused: Not authorized`. */
  cause?: string;
  /** Failed attempts since the last stable connection. */
  attempt?: number;
  /** While down: the delay before the next attempt, in ms (backoff with full jitter). */
  retryInMs?: number;
}

/** A command payload that was refused; also published on `<base>/error`. */
export interface RejectedCommand {
  /**
   * `E_BAD_MESSAGE` (malformed), `E_REMOTE_REFUSED` (not allowed from afar), or the code
   * the device refused a parsed command with.
   */
  code: ErrorCode;
  topic: string;
  /** A short printable excerpt of the payload. */
  payload: string;
  reason: string;
  /** ISO 8601. */
  time: string;
}

export type MqttBridgeEvents = {
  /** A validated command; the device decides what to do with it. */
  command: [command: DeviceCommand];
  /** A refused command payload (nothing was applied). */
  rejected: [rejected: RejectedCommand];
  status: [status: MqttStatus];
};

export type ConnectFn = (url: string, options: IClientOptions) => MqttClient;

export interface MqttBridgeOptions {
  /** Jitter source for the reconnect backoff, in [0, 1). */
  random?: () => number;
  /** Creates the mqtt.js client (default `mqtt.connect`); a seam for custom transports. */
  connect?: ConnectFn;
  /** A connection must last this long before the backoff starts from the bottom again. */
  stableMs?: number;
  /** Upper bound for each step of `stop()` (publish `offline`, then disconnect). */
  stopTimeoutMs?: number;
  /** Times retries, waits and the stability window (default: real time). */
  clock?: Clock;
  /** What remote commands may do (default: no unmute, no listen, no saving). */
  policy?: RemotePolicy;
}
