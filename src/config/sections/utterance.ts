import { z } from 'zod';

export const utteranceSection = z
  .strictObject({
    /**
     * Device-side end-of-speech detector. `silero` (the default) keeps working in noise;
     * the `energy` VAD with its fixed threshold does not end in noise above it
     * (`npm run bench:vad`: at 20 dB SNR it missed the end of 79 % of requests).
     */
    vad: z.enum(['energy', 'silero']).default('silero'),
    /**
     * Silence after the command's speech that ends the utterance (the hangover). Shorter
     * closes sooner and cuts off more people who pause between phrases: 720 is the
     * shortest that cut off under 1 % of the generated requests, clean and at 20 dB
     * (640: 1.3 % at 20 dB; `npm run bench:vad -- --sweep`; README, "End of an
     * utterance").
     */
    trailingSilenceMs: z.number().int().min(160).max(5000).default(720),
    /**
     * The hangover by room, with Silero VAD. The room as the utterance shows it: its
     * speech's level over its noise floor (an estimate of the SNR, dB). At or above
     * `quietRoomSnrDb` the VAD hears the pauses as they are, and a hangover
     * `quietRoomShorterByMs` shorter ends the utterance sooner with no more cut-offs;
     * under `noisyRoomSnrDb` it misses quiet words, which look like long pauses, and a
     * hangover `noisyRoomLongerByMs` longer keeps the request rather than cut it off.
     * Relative to `trailingSilenceMs`, so setting that moves every room; 0 turns a room
     * off (`npm run bench:vad -- --sweep`; README, "End of an utterance").
     */
    quietRoomSnrDb: z.number().min(0).max(90).default(35),
    quietRoomShorterByMs: z.number().int().min(0).max(2000).default(80),
    noisyRoomSnrDb: z.number().min(0).max(90).default(15),
    noisyRoomLongerByMs: z.number().int().min(0).max(5000).default(240),
    /**
     * After a wake word, silence before the command begins that gives up (`noSpeech`);
     * the pause after the wake word never ends the utterance sooner. Never longer than
     * `noSpeechTimeoutMs`. The longest such silence in the generated requests: 2.56 s.
     */
    commandWaitMs: z.number().int().min(500).max(30_000).default(3000),
    /**
     * Speech that runs on from the wake word into the live audio is the wake word's own
     * tail for this long (the detector fires before the word is over), not the command.
     * Shorter tails cut off more requests in the pause after the wake word; from 320 on
     * the cut-offs stop falling (`npm run bench:vad -- --sweep`).
     */
    wakeTailMs: z.number().int().min(0).max(2000).default(480),
    /**
     * Silero VAD: speech starts at this probability (at least 0.5) and goes on while the
     * probability stays above it. In noise the probability lingers after the last word:
     * 0.6 closes about 60 ms sooner at 20 dB than 0.5, and misses more quiet words, which
     * the noisy room's longer hangover then outlasts; chosen with the noisy room
     * (`npm run bench:vad -- --sweep --count 800`; README, "End of an utterance").
     */
    speechEndThreshold: z.number().min(0.05).max(0.95).default(0.6),
    /**
     * Silero VAD: a frame this many dB louder than the utterance's noise floor (its
     * quietest fifth of frames) is speech too, unless the model is sure it is not. Brings
     * back the quiet words the model misses in noise, which would otherwise look like a
     * long pause and end the utterance early (with one hangover and speech ending below
     * 0.5, at 10 dB: 14.5 % cut off without it instead of 3.5 %; the `vad` table of
     * `npm run bench:vad -- --sweep`). 60 turns it off.
     */
    noiseMarginDb: z.number().min(1).max(60).default(6),
    /** Hard cap on one utterance. */
    maxMs: z.number().int().min(1000).max(30_000).default(8000),
    /** Give up waiting for speech to start after this long. */
    noSpeechTimeoutMs: z.number().int().min(500).max(30_000).default(5000),
    /** Give up waiting for the cloud's reply after this long. */
    replyTimeoutMs: z.number().int().min(500).max(120_000).default(10_000),
    /** Energy VAD: frames louder than this (dBFS RMS) count as speech. */
    energyThresholdDb: z.number().min(-90).max(0).default(-45),
  })
  .prefault({})
  .refine((u) => u.noisyRoomSnrDb <= u.quietRoomSnrDb, {
    message: 'noisyRoomSnrDb must be <= quietRoomSnrDb (a room cannot be both)',
    path: ['noisyRoomSnrDb'],
  });
