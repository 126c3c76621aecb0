import { z } from 'zod';

/**
 * Home Assistant's Assist pipeline as the cloud (`cloud.protocol: home-assistant`):
 * what the device asks of each run and the bounds it keeps on what comes back.
 */
export const assistSection = z
  .strictObject({
    /** Pipeline id (Settings → Voice assistants); unset: HA's preferred pipeline. */
    pipeline: z.string().min(1).max(200).optional(),
    /**
     * Audio from before the wake word's end that may be sent. HA's own satellites send
     * what follows the wake word: its VAD and speech-to-text should hear the command only.
     * `audio.preRollMs` still bounds it (P3).
     */
    preRollMs: z.number().int().min(0).max(2000).default(0),
    /** Whole-run limit sent to HA (`timeout`, in seconds) and kept by the device too. */
    runTimeoutMs: z.number().int().min(2000).max(300_000).default(30_000),
    /** Audio held until HA names the run's handler (`run-start`); more fails the request. */
    holdMs: z.number().int().min(160).max(10_000).default(3000),
    /**
     * The spoken answer may not stall: no byte for this long while it is read (the wait
     * for its first byte included; not while the sound card is behind and reading waits).
     */
    ttsTimeoutMs: z.number().int().min(500).max(120_000).default(15_000),
    /** Largest spoken answer fetched (4 MiB = about 4 minutes of 128 kbit/s mp3). */
    ttsMaxBytes: z
      .number()
      .int()
      .min(16 * 1024)
      .max(64 * 1024 * 1024)
      .default(4 * 1024 * 1024),
    /**
     * Look up this speaker's HA device (the one MQTT discovery created) and pass its id,
     * so "turn on the lights" means the lights of its area. Needs a token that may read
     * the device registry; without, runs go without a device id.
     */
    deviceRegistry: z.boolean().default(true),
  })
  .prefault({});

export type AssistConfig = z.infer<typeof assistSection>;
