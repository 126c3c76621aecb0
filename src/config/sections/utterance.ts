import { z } from 'zod';

export const utteranceSection = z
  .strictObject({
    /**
     * Device-side end-of-speech detector. `silero` (the default) keeps working in noise;
     * the `energy` VAD with its fixed threshold does not end in noise above it
     * (`npm run bench:vad`: at 20 dB SNR it missed the end of 92 % of requests).
     */
    vad: z.enum(['energy', 'silero']).default('silero'),
    /** Silence after speech that ends the utterance. */
    trailingSilenceMs: z.number().int().min(160).max(5000).default(700),
    /** Hard cap on one utterance. */
    maxMs: z.number().int().min(1000).max(30_000).default(8000),
    /** Give up waiting for speech to start after this long. */
    noSpeechTimeoutMs: z.number().int().min(500).max(30_000).default(5000),
    /** Give up waiting for the cloud's reply after this long. */
    replyTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /** Energy VAD: frames louder than this (dBFS RMS) count as speech. */
    energyThresholdDb: z.number().min(-90).max(0).default(-45),
  })
  .prefault({});
