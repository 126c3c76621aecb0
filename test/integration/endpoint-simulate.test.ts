import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { speechSpans } from '../helpers/speech-spans.js';
import { fixture } from '../helpers/paths.js';
import { ofType, runSimulate } from '../helpers/simulate.js';

// The end of a request through the real pipeline (`earshot simulate`: openWakeWord,
// Silero VAD, the utterance session and its endpointer, the state machine) on the
// project's own fixture: "Alexa", a 1.35 s pause, "what's the weather like tomorrow,
// in Paris?" (flite, scripts/make-fixtures.sh).
const wav = fixture('alexa-pause-question.wav');

/** The uploads of a run (`count` of them expected). */
async function uploads(
  count: number,
  args: string[] = [],
): Promise<Array<Record<string, unknown>>> {
  const { lines, code, stderr } = await runSimulate(['--wav', wav, ...args]);
  expect(code, stderr).toBe(0);
  const all = ofType(lines, 'upload');
  expect(all).toHaveLength(count);
  return all;
}

describe('the end of an utterance (earshot simulate)', () => {
  it('the fixture has the layout the tests rely on: the wake word, a pause over a second, the question', async () => {
    const spans = await speechSpans(wav);
    expect(spans.length).toBeGreaterThan(2);
    const gaps = spans.slice(1).map(([from], i) => from - spans[i]![1]);
    // The longest silence is the pause after "Alexa" (2.0-2.9 s), 1.35 s of the script's.
    expect(Math.max(...gaps)).toBeGreaterThan(1.2);
    expect(spans[gaps.indexOf(Math.max(...gaps))]![1]).toBeLessThan(3.2);
  });

  it("with the default timings: closes after the question, one quiet room's hangover after its end", async () => {
    const questionEnd = (await speechSpans(wav)).at(-1)![1];
    // The fixture is a quiet room (speech about 40 dB over its bed): the shorter hangover.
    const u = loadConfig().utterance;
    const hangover = (u.trailingSilenceMs - u.quietRoomShorterByMs) / 1000;
    expect(hangover).toBeLessThan(u.trailingSilenceMs / 1000);
    const [up] = await uploads(1);
    expect(up!.reason).toBe('vad');
    const end = up!.audioEndT as number;
    expect(end).toBeGreaterThan(questionEnd);
    // The VAD hears the end of this clean question within a frame (80 ms).
    expect(end - questionEnd).toBeGreaterThan(hangover - 0.08);
    expect(end - questionEnd).toBeLessThanOrEqual(hangover + 0.08);
  });

  it('a short hangover still waits through the pause after the wake word, and closes within 400 ms', async () => {
    const questionEnd = (await speechSpans(wav)).at(-1)![1];
    const [up] = await uploads(1, ['--set', 'utterance.trailingSilenceMs=320']);
    expect(up!.reason).toBe('vad');
    expect(up!.audioEndT as number).toBeGreaterThan(questionEnd);
    expect((up!.audioEndT as number) - questionEnd).toBeLessThanOrEqual(0.4);
  });

  it('the pause after the wake word is bounded by utterance.commandWaitMs, not by the hangover', async () => {
    const spans = await speechSpans(wav);
    const questionStart = spans.find(([from]) => from > 3.5)![0];
    // Ended in the pause; the question that follows wakes the device again on its own
    // ("what's" scores over the wake threshold), a second upload.
    const [up] = await uploads(2, ['--set', 'utterance.commandWaitMs=500']);
    expect(up!.reason).toBe('noSpeech');
    expect(up!.audioEndT as number).toBeLessThan(questionStart);
  });
});
