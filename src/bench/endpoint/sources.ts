import { createHash } from 'node:crypto';

/**
 * What the generated requests are made of, and how it is split into a tuning half and a
 * held-out half. The split is by voice and by speaker (a corpus recording; the corpus
 * names no speakers, so each recording is taken as its own), and by text, so the
 * held-out figures come from voices, people and sentences the tuning never saw.
 */
export type Split = 'tune' | 'heldout';

export interface Voice {
  engine: 'flite' | 'espeak';
  /** flite's `-voice` or espeak-ng's `-v` (language+variant). */
  name: string;
  split: Split;
}

export const VOICES: readonly Voice[] = [
  { engine: 'flite', name: 'slt', split: 'tune' },
  { engine: 'flite', name: 'awb', split: 'tune' },
  { engine: 'espeak', name: 'en-us+m3', split: 'tune' },
  { engine: 'espeak', name: 'en-gb+f3', split: 'tune' },
  { engine: 'espeak', name: 'en-gb-scotland+m1', split: 'tune' },
  { engine: 'espeak', name: 'en-029+f2', split: 'tune' },
  { engine: 'espeak', name: 'en-us-nyc+m5', split: 'tune' },
  { engine: 'flite', name: 'rms', split: 'heldout' },
  { engine: 'flite', name: 'kal16', split: 'heldout' },
  { engine: 'espeak', name: 'en-us+f4', split: 'heldout' },
  { engine: 'espeak', name: 'en-gb-x-rp+m2', split: 'heldout' },
  { engine: 'espeak', name: 'en-gb-x-gbclan+f1', split: 'heldout' },
  { engine: 'espeak', name: 'en-gb-x-gbcwmd+m4', split: 'heldout' },
  { engine: 'espeak', name: 'en-us+m7', split: 'heldout' },
];

/**
 * Requests as people make them: short commands and questions, some with the inner
 * pauses commas bring ("add milk, eggs, and bread"). Even entries tune, odd ones are
 * held out.
 */
export const TEXTS: readonly string[] = [
  'what time is it',
  'turn on the kitchen light',
  'set a timer for ten minutes',
  "what's the weather like tomorrow",
  'play some jazz in the living room',
  'remind me to call mom at six',
  'add milk, eggs, and bread to the shopping list',
  'how tall is the eiffel tower',
  'turn the volume down',
  "what's on my calendar today",
  'set an alarm for seven thirty, tomorrow morning',
  'dim the bedroom lights to twenty percent',
  'how many ounces are in a cup',
  'call grandma',
  'stop',
  "what's the capital of australia",
  'turn off all the lights, except the porch',
  'play the news',
  'how long will it take to drive to work',
  'lock the front door',
  'is it going to rain this weekend',
  'convert fifty euros to dollars',
  'tell me a joke',
  'pause the music',
  "what's twelve times fifteen",
  'set the thermostat to seventy two degrees',
  'who won the game last night',
  'spell necessary',
  'open the garage, and turn on the driveway light',
  "what's the traffic like, on the way to the airport",
  'and then play some music',
  'actually, make it twenty minutes',
  'in the living room',
  'and turn off the fan',
  'for tomorrow, please',
  'thank you',
  'how do you say good morning, in french',
  'start the vacuum cleaner',
  'what song is this',
  'read me my messages',
];

export function textSplit(index: number): Split {
  return index % 2 === 0 ? 'tune' : 'heldout';
}

/** A corpus recording's half: one in three is held out, by a hash of its name. */
export function fileSplit(file: string): Split {
  const name = file.slice(file.lastIndexOf('/') + 1);
  const h = createHash('sha256').update(name).digest();
  return h[0]! % 3 === 0 ? 'heldout' : 'tune';
}
