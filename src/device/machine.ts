import type {
  CriticalPart,
  DeviceEvent,
  DeviceState,
  Effect,
  EndReason,
  Model,
  Transition,
  Utterance,
  UtteranceTrigger,
} from './states.js';
import { close, go, ignore, resting, sameParts, settle, stay } from './machine-steps.js';
import { awaitAck, onAck } from './machine-acks.js';
import { endAnnouncement, onAnnouncementEvent } from './machine-announce.js';

export { resting } from './machine-steps.js';

/**
 * The device's state machine: a pure function from (model, event) to (model, effects).
 * Every decision of the device is made here and nowhere else: which utterance is open,
 * which reply belongs to it, whether a wake word is taken, when a follow-up listens.
 * The Device applies the effects in order. Effects that open an upload always follow the
 * `showState` that lights the listening LED (privacy invariant P2: no light, no upload).
 */
export function transition(model: Model, event: DeviceEvent): Transition {
  const next = step(model, event);
  const failedChanged = !sameParts(model.failed, next.model.failed);
  if (
    failedChanged ||
    model.state.name !== next.model.state.name ||
    model.link !== next.model.link ||
    model.linkCause !== next.model.linkCause ||
    model.dontSaveRecordings !== next.model.dontSaveRecordings
  ) {
    next.effects.push({ type: 'changed', failedChanged });
  }
  return next;
}

function step(model: Model, event: DeviceEvent): Transition {
  // An announcement's own events (its audio, its end, its failure) and new requests.
  const announced = onAnnouncementEvent(model, event);
  if (announced) return announced;
  // Facts first: they are remembered whatever the state.
  switch (event.type) {
    case 'linkUp':
      return settle({ ...model, link: 'up', linkCause: '' }, []);
    case 'linkDown':
      // Acknowledgements belong to the connection that carried the utterance.
      return onLinkDown({ ...model, link: 'down', linkCause: event.cause, awaitingAck: [] });
    case 'partFailed':
      return onPartFailed(model, event.part, event.cause);
    case 'partRecovered':
      return settle({ ...model, failed: model.failed.filter((f) => f.part !== event.part) }, []);
    case 'mute':
      return onMute(model, event.muted);
    case 'retention':
      return stay({ ...model, dontSaveRecordings: event.dontSaveRecordings }, [
        { type: 'setRetention', dontSaveRecordings: event.dontSaveRecordings },
      ]);
    case 'volume':
      return stay(model, [{ type: 'setVolume', volume: event.volume }]);
    case 'falseWake':
      return stay(model, [{ type: 'falseWake' }]);
    case 'wakeWord':
      // A setting, taken in every state: the running keyword listens until the new one is in.
      return stay(model, [{ type: 'selectWakeWord', keyword: event.keyword }]);
    case 'wake':
      return onWake(model, event);
    case 'uploadClosed':
      return onUploadClosed(model, event);
    case 'ack':
      return onAck(model, event);
    default:
      break;
  }

  if ((event.type === 'talk' || event.type === 'stop') && model.announcement) {
    // The action button (or a stop command) during an announcement silences it.
    const ended = endAnnouncement(model);
    return stay(ended.model, ended.effects);
  }

  const s = model.state;
  switch (s.name) {
    case 'booting':
      if (event.type !== 'booted') return stay(model);
      if (event.muted) return go(model, { name: 'muted' }, []);
      return go(model, resting(model), [{ type: 'openCapture' }]);

    case 'idle':
      if (event.type === 'talk') return startListening(model, { kind: 'button' });
      return stay(model);

    case 'offline':
    case 'error':
      // No cloud or a failed part: a request gets an error sound and nothing is recorded.
      if (event.type === 'talk') return stay(model, [{ type: 'earcon', name: 'error' }]);
      return stay(model);

    case 'listening':
      return listening(model, s.utterance, event);
    case 'thinking':
      return thinking(model, s.utterance, event);
    case 'speaking':
      return speaking(model, s, event);
    case 'muted':
      // Nothing but unmute (handled above) leaves `muted`.
      return stay(model);
  }
}

function listening(model: Model, u: Utterance, event: DeviceEvent): Transition {
  switch (event.type) {
    case 'speechEnded':
      if (event.id !== u.id) return stay(model);
      return sendAndWait(model, u, event.reason);
    case 'captureStop':
      if (event.id !== u.id) {
        return ignore(model, 'captureStop', event.id, 'not the utterance being captured');
      }
      return sendAndWait(model, u, 'cloud');
    case 'talk':
      // The action button during listening ends the utterance there.
      return sendAndWait(model, u, 'button');
    case 'stop':
      return go(model, resting(model), [close(u, { how: 'abort', reason: 'stopped' })]);
    case 'utteranceFailed': {
      if (event.id !== u.id) return ignore(model, 'failure', event.id, 'not the open utterance');
      // The upload is closed while the light is still on, then the state changes.
      const r = resting(model);
      return {
        model: { ...model, state: r },
        effects: [
          close(u, { how: 'fail', reason: 'refused', code: event.code, message: event.message }),
          { type: 'showState', state: r.name },
          { type: 'earcon', name: 'error' },
        ],
      };
    }
    default:
      return stay(model);
  }
}

function thinking(model: Model, u: Utterance, event: DeviceEvent): Transition {
  switch (event.type) {
    case 'replyStarted':
      // Only the reply to the utterance the device waits for: not a late one after a
      // stop, a barge-in or a reply deadline, which would answer the wrong question.
      if (event.id !== u.id) return ignore(model, 'reply', event.id, 'not the utterance awaited');
      return go(model, { name: 'speaking', utterance: u }, [
        { type: 'cancelReplyTimer' },
        { type: 'startPlayback', format: event.format },
      ]);
    case 'replyEnded':
      // A reply without audio: straight on (a follow-up listens again).
      if (event.id !== u.id)
        return ignore(model, 'replyEnd', event.id, 'not the utterance awaited');
      return afterReply(model, event.expectSpeech, [{ type: 'cancelReplyTimer' }]);
    case 'replyTimeout':
      if (event.id !== u.id) return stay(model);
      return go(model, resting(model), [
        { type: 'cancelReplyTimer' },
        { type: 'earcon', name: 'error' },
      ]);
    case 'utteranceFailed':
      if (event.id !== u.id) return ignore(model, 'failure', event.id, 'not the utterance awaited');
      return go(model, resting(model), [
        { type: 'cancelReplyTimer' },
        { type: 'recordFailure', id: u.id, code: event.code, message: event.message },
        { type: 'earcon', name: 'error' },
      ]);
    case 'stop':
    case 'talk':
      return go(model, resting(model), [{ type: 'cancelReplyTimer' }]);
    default:
      return stay(model);
  }
}

function speaking(
  model: Model,
  s: Extract<DeviceState, { name: 'speaking' }>,
  event: DeviceEvent,
): Transition {
  const u = s.utterance;
  const streaming = s.expectSpeech === undefined;
  switch (event.type) {
    case 'replyAudio':
      if (!streaming || (event.id !== undefined && event.id !== u.id)) return stay(model);
      return stay(model, [{ type: 'playReply', chunk: event.chunk }]);
    case 'replyEnded':
      if (event.id !== u.id || !streaming) {
        return ignore(model, 'replyEnd', event.id, 'not the reply playing');
      }
      return stay({ ...model, state: { ...s, expectSpeech: event.expectSpeech } }, [
        { type: 'endPlayback' },
      ]);
    case 'replyStarted':
      return ignore(model, 'reply', event.id, 'a reply is already playing');
    case 'utteranceFailed':
      // The rest of the reply will not come (its stream broke): cut it, say so.
      if (event.id !== u.id || !streaming) {
        return ignore(model, 'failure', event.id, 'not the reply playing');
      }
      return go(model, resting(model), [
        { type: 'stopPlayback' },
        { type: 'recordFailure', id: u.id, code: event.code, message: event.message },
        { type: 'earcon', name: 'error' },
      ]);
    case 'playbackDone':
      if (event.refused) {
        return go(model, resting(model), [
          { type: 'earcon', name: 'error' },
          { type: 'answer', id: u.id, ...event.refused },
        ]);
      }
      if (event.error) return go(model, resting(model), [{ type: 'earcon', name: 'error' }]);
      return afterReply(model, s.expectSpeech ?? false, []);
    case 'stop':
    case 'talk':
      return go(model, resting(model), [{ type: 'stopPlayback' }]);
    default:
      return stay(model);
  }
}

function onWake(model: Model, event: Extract<DeviceEvent, { type: 'wake' }>): Transition {
  const detection = { keyword: event.keyword, score: event.score, frameIndex: event.frameIndex };
  const trigger: UtteranceTrigger = { kind: 'wake', ...detection };
  let t: Transition;
  switch (model.state.name) {
    case 'idle': {
      // The owner talks over an announcement: it stops, the question is heard.
      const ended = endAnnouncement(model);
      t = startListening(ended.model, trigger, ended.effects);
      break;
    }
    case 'thinking':
      t = startListening(model, trigger, [{ type: 'cancelReplyTimer' }]);
      break;
    case 'speaking':
      // Barge-in: the owner talks over the reply.
      t = startListening(model, trigger, [{ type: 'stopPlayback' }]);
      break;
    case 'offline':
    case 'error':
      t = stay(model, [{ type: 'earcon', name: 'error' }]);
      break;
    default:
      // Booting, muted (no frames arrive) or already listening: not taken.
      t = stay(model);
  }
  // Taken: the state listens for it (a new question, or barge-in on a reply).
  const s = model.state.name;
  const accepted = s === 'idle' || s === 'thinking' || s === 'speaking';
  return {
    model: t.model,
    effects: [{ type: 'reportWake', detection, accepted }, ...t.effects],
  };
}

function startListening(
  model: Model,
  trigger: UtteranceTrigger,
  before: Effect[] = [],
): Transition {
  const r = resting(model);
  if (r.name !== 'idle') {
    return go(model, r, [...before, { type: 'stopPlayback' }, { type: 'earcon', name: 'error' }]);
  }
  const utterance: Utterance = { id: `${model.idPrefix}-${model.nextSeq}`, trigger };
  return go({ ...model, nextSeq: model.nextSeq + 1 }, { name: 'listening', utterance }, [
    ...before,
    { type: 'openUpload', utterance, dontSaveRecordings: model.dontSaveRecordings },
  ]);
}

function sendAndWait(model: Model, u: Utterance, reason: EndReason): Transition {
  return go(model, { name: 'thinking', utterance: u }, [
    close(u, { how: 'end', reason }),
    { type: 'armReplyTimer', id: u.id },
  ]);
}

function afterReply(model: Model, expectSpeech: boolean, before: Effect[]): Transition {
  if (expectSpeech) return startListening(model, { kind: 'followup' }, before);
  return go(model, resting(model), before);
}

function onUploadClosed(
  model: Model,
  event: Extract<DeviceEvent, { type: 'uploadClosed' }>,
): Transition {
  const { id, outcome } = event;
  if (outcome !== 'failed') {
    // The cloud acknowledges what it was sent (or told to discard), once.
    return stay(awaitAck(model, { id, bytes: event.bytes, sha256: event.sha256 }));
  }
  const s = model.state;
  if (s.name === 'thinking' && s.utterance.id === id) {
    // It could not be committed (its ledger entry was not written): no reply will come.
    return go(model, resting(model), [
      { type: 'cancelReplyTimer' },
      { type: 'earcon', name: 'error' },
    ]);
  }
  return stay(model);
}

function onMute(model: Model, muted: boolean | undefined): Transition {
  const s = model.state;
  const isMuted = s.name === 'muted';
  const want = muted ?? !isMuted;
  if (want === isMuted) return stay(model);
  if (s.name === 'booting') {
    // Muted before the microphone ever opened: it stays closed (`booted` keeps it so).
    return want ? go(model, { name: 'muted' }, [{ type: 'closeCapture' }]) : stay(model);
  }
  // Mute and unmute play their earcon on the speaker: an announcement ends there.
  const ended = endAnnouncement(model);
  model = ended.model;
  if (!want) {
    return go(model, resting(model), [
      ...ended.effects,
      { type: 'resetWake' },
      { type: 'openCapture' },
      { type: 'earcon', name: 'unmute' },
    ]);
  }
  // Mute closes the microphone first (P1); whatever was in flight is cut there.
  const effects: Effect[] = [{ type: 'closeCapture' }, ...ended.effects];
  if (s.name === 'listening') effects.push(close(s.utterance, { how: 'abort', reason: 'muted' }));
  if (s.name === 'thinking') effects.push({ type: 'cancelReplyTimer' });
  if (s.name === 'speaking') effects.push({ type: 'stopPlayback' });
  effects.push({ type: 'earcon', name: 'mute' });
  return go(model, { name: 'muted' }, effects);
}

function onLinkDown(model: Model): Transition {
  if (model.announcement && !model.announcement.playing) {
    // Its answer will not come over a lost link (one already playing came over HTTPS).
    const ended = endAnnouncement(model);
    const t = onLinkDown(ended.model);
    return {
      model: t.model,
      effects: [...ended.effects, { type: 'earcon', name: 'error' }, ...t.effects],
    };
  }
  const s = model.state;
  if (s.name === 'listening') {
    return go(model, resting(model), [
      close(s.utterance, { how: 'fail', reason: 'link down' }),
      { type: 'earcon', name: 'error' },
    ]);
  }
  if (s.name === 'thinking') {
    return go(model, resting(model), [
      { type: 'cancelReplyTimer' },
      { type: 'earcon', name: 'error' },
    ]);
  }
  if (s.name === 'speaking' && s.expectSpeech === undefined) {
    // The rest of the reply will not come: cut it rather than wait forever.
    return go(model, resting(model), [{ type: 'stopPlayback' }, { type: 'earcon', name: 'error' }]);
  }
  return settle(model, []);
}

function onPartFailed(model: Model, part: CriticalPart, cause: string): Transition {
  const failed = [...model.failed.filter((f) => f.part !== part), { part, cause }];
  const next = { ...model, failed };
  const s = model.state;
  if (s.name === 'muted' || s.name === 'booting') return stay(next);
  const effects: Effect[] = [];
  if (s.name === 'listening') {
    effects.push(close(s.utterance, { how: 'fail', reason: `${part} failed` }));
  }
  if (s.name === 'thinking') effects.push({ type: 'cancelReplyTimer' });
  if (s.name === 'speaking') effects.push({ type: 'stopPlayback' });
  return go(next, resting(next), effects);
}
