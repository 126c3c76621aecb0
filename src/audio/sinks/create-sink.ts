import { existsSync, readFileSync } from 'node:fs';
import type { Logger } from '../../shared/logger.js';
import { EarshotError } from '../../shared/errors.js';
import { AplaySink } from './aplay-sink.js';
import { NullSink } from './null-sink.js';
import type { AudioSink } from './sink.js';
import { SpeakerSink } from './speaker-sink.js';
import { WavFileSink } from './wav-file-sink.js';

export interface SinkChoice {
  sink: 'auto' | 'speaker' | 'aplay' | 'file' | 'null';
  device: string;
  file?: string | undefined;
}

/** True when the kernel lists at least one sound card. */
export function hasSoundCard(cardsFile = '/proc/asound/cards'): boolean {
  if (!existsSync(cardsFile)) return false;
  return !/no soundcards/i.test(readFileSync(cardsFile, 'utf8'));
}

/**
 * Picks the playback sink. `auto` prefers `speaker`, then `aplay`; with no sound card
 * at all it uses the null sink and says so, rather than letting `speaker` abort the
 * process. An ALSA config that defines its own devices (ALSA_CONFIG_PATH) counts as
 * a card: that is how tests play into a file PCM.
 */
export function createSink(choice: SinkChoice, log: Logger): AudioSink {
  switch (choice.sink) {
    case 'null':
      return new NullSink();
    case 'file':
      if (!choice.file) {
        throw new EarshotError(
          'E_CONFIG',
          'audio.playback.file is required when audio.playback.sink is file',
        );
      }
      return new WavFileSink(choice.file);
    case 'aplay':
      return new AplaySink(choice.device);
    case 'speaker':
      return SpeakerSink.load(choice.device);
    case 'auto': {
      if (!hasSoundCard() && !process.env.ALSA_CONFIG_PATH) {
        log.warn('no sound card found: replies are not played (audio.playback.sink: auto)');
        return new NullSink();
      }
      try {
        return SpeakerSink.load(choice.device);
      } catch (err) {
        log.info({ reason: (err as Error).message }, 'speaker module unavailable, using aplay');
        return new AplaySink(choice.device);
      }
    }
  }
}
