import type { DeviceCommand } from './device-status.js';

/**
 * What a remote (MQTT, the owner's web page) may do to the speaker. As on commercial
 * speakers, the physical button is the only way to unmute by default; opening the
 * microphone from afar and switching "don't save recordings" off also need the owner's
 * explicit opt-in in the config (`remote.*`).
 */
export interface RemotePolicy {
  allowUnmute: boolean;
  allowListen: boolean;
  allowSaveRecordings: boolean;
}

/** Why a remote command is refused, with the config key that would allow it; or nothing. */
export function remoteRefusal(cmd: DeviceCommand, policy: RemotePolicy): string | undefined {
  if (cmd.type === 'mute' && !cmd.muted && !policy.allowUnmute) {
    return 'unmuting from afar is off: press the mute button on the speaker (or set remote.allowUnmute)';
  }
  if (cmd.type === 'listen' && !policy.allowListen) {
    return 'opening the microphone from afar is off (set remote.allowListen to allow it)';
  }
  if (cmd.type === 'retention' && !cmd.dontSaveRecordings && !policy.allowSaveRecordings) {
    return 'allowing the cloud to save recordings from afar is off (set remote.allowSaveRecordings, or change privacy.dontSaveRecordings in the config)';
  }
  return undefined;
}
