import { envelopeDb } from '../../src/bench/wake/envelope.js';
import { readWavFile } from '../../src/shared/wav.js';

/**
 * Where speech is in a clean fixture, in seconds: runs of 10 ms windows louder than
 * -45 dBFS (the fixtures' bed is -60). The tests that score an end of speech against
 * the fixture's own words measure them here, not from a number copied out of the script
 * that made the fixture.
 */
export async function speechSpans(wav: string): Promise<Array<[number, number]>> {
  const { samples } = await readWavFile(wav);
  const spans: Array<[number, number]> = [];
  let from: number | undefined;
  envelopeDb(samples).forEach((db, w) => {
    if (db > -45 && from === undefined) from = w;
    if (db <= -45 && from !== undefined) {
      spans.push([from / 100, w / 100]);
      from = undefined;
    }
  });
  return spans;
}
