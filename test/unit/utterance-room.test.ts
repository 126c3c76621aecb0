import { describe, expect, it } from 'vitest';
import { LocalTransport } from '../../src/device/local-transport.js';
import { UtteranceAudio, type SpeechEndDetector } from '../../src/device/utterance-audio.js';
import { loadConfig } from '../../src/config/load.js';
import { FRAME_SAMPLES, type Frame } from '../../src/shared/audio-format.js';

// The utterance session hands the VAD's SNR estimate to the endpointer and says which
// hangover ended it. The VAD is scripted behind the project's own detector interface:
// what is under test is the session, and the frames' decisions are given.

/** Speech for `speechFrames` frames, then silence; the SNR estimate fixed at `snrDb`. */
function scriptedVad(speechFrames: number, snrDb: number | undefined): SpeechEndDetector {
  let n = 0;
  return {
    reset: () => (n = 0),
    isSpeech: () => n++ < speechFrames,
    ...(snrDb === undefined ? {} : { snrDb: () => snrDb }),
  };
}

async function endOf(snrDb: number | undefined) {
  const limits = loadConfig().utterance;
  const upload = new LocalTransport().openUtterance({
    id: 'u',
    trigger: { kind: 'button' },
    preRollMs: 0,
    dontSaveRecordings: true,
  });
  const audio = new UtteranceAudio(upload, limits, scriptedVad(5, snrDb), 0, 0);
  const silent = new Int16Array(FRAME_SAMPLES);
  for (let index = 0; index < 100; index++) {
    const frame: Frame = { index, samples: silent };
    const reason = await audio.onFrame(frame);
    if (reason) return { reason, frames: index + 1, room: audio.room };
  }
  throw new Error('never ended');
}

describe('UtteranceAudio: the hangover by room', () => {
  it.each([
    ['a quiet room: 720 - 80 ms', 40, 640],
    ['between the bounds: 720 ms', 22, 720],
    ['a noisy room: 720 + 240 ms', 10, 960],
  ])('%s', async (_what, snrDb, hangoverMs) => {
    const end = await endOf(snrDb);
    expect(end.reason).toBe('vad');
    expect(end.frames).toBe(5 + hangoverMs / 80);
    expect(end.room).toEqual({ snrDb, hangoverMs });
  });

  it('a VAD that measures no SNR (energy) keeps the one hangover', async () => {
    const end = await endOf(undefined);
    expect(end.frames).toBe(5 + 720 / 80);
    expect(end.room).toEqual({ hangoverMs: 720 });
  });
});
