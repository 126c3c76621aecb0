import { z } from 'zod';

/** Largest pre-roll that may ever be sent (privacy invariant P3). */
export const PRE_ROLL_HARD_MAX_MS = 2000;

const backoff = z
  .strictObject({
    initialMs: z.number().int().min(10).max(60_000).default(500),
    maxMs: z.number().int().min(10).max(600_000).default(30_000),
  })
  .prefault({});

export const audioSection = z
  .strictObject({
    capture: z
      .strictObject({
        /** ALSA capture device for arecord (`arecord -L` lists them). */
        device: z.string().min(1).default('default'),
        /** Restart policy when the capture process dies. */
        restart: backoff,
      })
      .prefault({}),
    playback: z
      .strictObject({
        /** `auto`: the speaker module if it loads, else aplay. */
        sink: z.enum(['auto', 'speaker', 'aplay', 'file', 'null']).default('auto'),
        /** ALSA playback device for aplay / speaker. */
        device: z.string().min(1).default('default'),
        /** Output file when `sink` is `file`. */
        file: z.string().min(1).optional(),
        /** Output volume in percent, applied in software. */
        volume: z.number().int().min(0).max(100).default(80),
        /** The longest reply played; a longer one is cut (E_REPLY_TOO_LONG). */
        maxReplySeconds: z.number().int().min(1).max(600).default(60),
        /**
         * Reply audio that may wait for the sound card: past a fifth of it the cloud is no
         * longer read (TCP backpressure), past all of it the reply is refused
         * (E_REPLY_OVERFLOW). Bounds memory against a cloud that sends too fast.
         */
        replyBufferSeconds: z.number().int().min(2).max(60).default(10),
      })
      .prefault({}),
    /** Audio kept from before the wake word and sent with the utterance (P3). */
    preRollMs: z.number().int().min(0).max(PRE_ROLL_HARD_MAX_MS).default(500),
    /** Frames waiting for the detector; when full the oldest is dropped and counted. */
    queueFrames: z.number().int().min(2).max(256).default(25),
    /** Debug only: write each utterance to this folder as WAV (off by default, P5). */
    debugSaveAudioDir: z.string().min(1).optional(),
  })
  .prefault({});
