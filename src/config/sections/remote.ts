import { z } from 'zod';

/**
 * What remote commands (MQTT, the web page) may do. Off by default: unmuting, opening
 * the microphone and letting the cloud keep recordings are for the person at the
 * speaker, unless its owner says otherwise here.
 */
export const remoteSection = z
  .strictObject({
    /** Allow `mute OFF` from MQTT or the web page (default: only the physical button unmutes). */
    allowUnmute: z.boolean().default(false),
    /** Allow `command/listen` from MQTT (opens the microphone without a wake word). */
    allowListen: z.boolean().default(false),
    /** Allow switching "don't save recordings" off from MQTT. */
    allowSaveRecordings: z.boolean().default(false),
  })
  .prefault({});
