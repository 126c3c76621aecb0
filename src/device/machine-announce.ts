import type { DeviceEvent, Effect, Model, Transition } from './states.js';
import { stay } from './machine-steps.js';

/**
 * Announcements in the state machine: a text spoken by the cloud and played after a
 * short earcon. They use the speaker only, so they are taken in `idle` and in `muted`
 * (mute closes the microphone, not the speaker) and never open capture or an upload
 * (P1, P2). Anything that needs the speaker or the owner's attention ends them first.
 * Returns undefined for events that are not about the announcement.
 */
export function onAnnouncementEvent(model: Model, event: DeviceEvent): Transition | undefined {
  if (event.type === 'announce') return request(model, event.text);
  const a = model.announcement;
  if (!a) return undefined;
  const without: Model = { ...model };
  delete without.announcement;
  switch (event.type) {
    case 'replyStarted':
      if (event.id !== a.id) return undefined;
      return stay({ ...model, announcement: { ...a, playing: true } }, [
        { type: 'startPlayback', format: event.format },
      ]);
    case 'replyAudio':
      if (event.id !== a.id) return undefined;
      return stay(model, a.playing ? [{ type: 'playReply', chunk: event.chunk }] : []);
    case 'replyEnded':
      if (event.id !== a.id) return undefined;
      // Without audio there is nothing to wait for; with audio, its end is playbackDone.
      return a.playing ? stay(model, [{ type: 'endPlayback' }]) : stay(without);
    case 'playbackDone':
      if (!a.playing || model.state.name === 'speaking') return undefined;
      if (event.error || event.refused) {
        // The sound card failed, or the Player refused it (too long, too fast): the
        // cloud's side of it is abandoned too.
        return stay(without, [
          { type: 'cancelAnnouncement', id: a.id },
          { type: 'earcon', name: 'error' },
        ]);
      }
      return stay(without);
    case 'utteranceFailed':
      if (event.id !== a.id) return undefined;
      return stay(without, [...stopping(a), { type: 'earcon', name: 'error' }]);
    default:
      return undefined;
  }
}

/**
 * The effects that end an announcement in favour of something else (a wake word, a
 * button, mute, a lost link), and the model without it.
 */
export function endAnnouncement(model: Model): { model: Model; effects: Effect[] } {
  const a = model.announcement;
  if (!a) return { model, effects: [] };
  const next = { ...model };
  delete next.announcement;
  return { model: next, effects: stopping(a) };
}

function stopping(a: NonNullable<Model['announcement']>): Effect[] {
  const effects: Effect[] = [{ type: 'cancelAnnouncement', id: a.id }];
  if (a.playing) effects.push({ type: 'stopPlayback' });
  return effects;
}

function request(model: Model, text: string): Transition {
  const refuse = (code: 'E_TEXT_UNSUPPORTED' | 'E_ANNOUNCE_BUSY', why: string): Transition =>
    stay(model, [{ type: 'refuse', what: 'announce', code, why, text }]);
  if (!model.canAnnounce) {
    return refuse('E_TEXT_UNSUPPORTED', 'this cloud (earshot.v1) takes no text to speak');
  }
  if (model.announcement) return refuse('E_ANNOUNCE_BUSY', 'an announcement is already playing');
  const s = model.state.name;
  if (s !== 'idle' && s !== 'muted') return refuse('E_ANNOUNCE_BUSY', `the speaker is ${s}`);
  if (model.link !== 'up') return refuse('E_ANNOUNCE_BUSY', 'the cloud is not connected');
  const id = `${model.idPrefix}-${model.nextSeq}`;
  return stay({ ...model, nextSeq: model.nextSeq + 1, announcement: { id, playing: false } }, [
    { type: 'earcon', name: 'announce' },
    { type: 'requestAnnouncement', id, text },
  ]);
}
