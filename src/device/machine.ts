import type { DeviceEvent, DeviceState, Effect, Model, Transition, Trigger } from './states.js';

/**
 * The device's state machine: a pure function from (model, event) to (model, effects).
 * Every transition of the device happens here and nowhere else; the Device applies the
 * effects in order. Effects that open an upload always follow the `showState` that
 * lights the listening LED (privacy invariant P2: no light, no upload).
 */
export function transition(model: Model, event: DeviceEvent): Transition {
  const s = model.state;

  // Facts first: the link and failed parts are remembered whatever the state.
  switch (event.type) {
    case 'linkUp':
      return settle({ ...model, link: 'up', linkCause: '' }, []);
    case 'linkDown':
      return onLinkDown({ ...model, link: 'down', linkCause: event.cause });
    case 'partFailed':
      return onPartFailed(model, event.part, event.cause);
    case 'partRecovered': {
      // Capture reports "running" on every start: `failed` stays the same array unless
      // the part was down, so the device can tell a real recovery by reference.
      const failed = model.failed.some((f) => f.part === event.part)
        ? model.failed.filter((f) => f.part !== event.part)
        : model.failed;
      return settle({ ...model, failed }, []);
    }
    case 'mute':
      return onMute(model, event.muted);
    default:
      break;
  }

  switch (s.name) {
    case 'booting':
      return event.type === 'booted' ? go(model, resting(model), []) : stay(model);

    case 'idle':
      if (event.type === 'wake') return startListening(model, wakeTrigger(event));
      if (event.type === 'talk') return startListening(model, { kind: 'button' });
      return stay(model);

    case 'offline':
    case 'error':
      // No cloud or a failed part: a wake gets an error sound and nothing is recorded.
      if (event.type === 'wake' || event.type === 'talk') {
        return stay(model, [{ type: 'earcon', name: 'error' }]);
      }
      return stay(model);

    case 'listening':
      switch (event.type) {
        case 'speechEnded':
          return go(model, { name: 'thinking' }, [
            { type: 'endUpload', reason: event.reason },
            { type: 'armReplyTimer' },
          ]);
        case 'talk':
          // The action button during listening ends the utterance there.
          return go(model, { name: 'thinking' }, [
            { type: 'endUpload', reason: 'button' },
            { type: 'armReplyTimer' },
          ]);
        case 'stop':
          return go(model, resting(model), [{ type: 'abortUpload', reason: 'stopped' }]);
        case 'uploadFailed':
          return go(model, resting(model), [{ type: 'earcon', name: 'error' }]);
        default:
          return stay(model);
      }

    case 'thinking':
      switch (event.type) {
        case 'replyStarted':
          return go(model, { name: 'speaking', expectSpeech: false }, [
            { type: 'cancelReplyTimer' },
          ]);
        case 'replyEnded':
          // A reply without audio: straight on (a follow-up listens again).
          if (event.hadAudio) return stay(model);
          return afterReply(model, event.expectSpeech, [{ type: 'cancelReplyTimer' }]);
        case 'replyTimeout':
        case 'uploadFailed':
          return go(model, resting(model), [
            { type: 'cancelReplyTimer' },
            { type: 'earcon', name: 'error' },
          ]);
        case 'wake':
          return startListening(model, wakeTrigger(event), [{ type: 'cancelReplyTimer' }]);
        case 'stop':
        case 'talk':
          return go(model, resting(model), [{ type: 'cancelReplyTimer' }]);
        default:
          return stay(model);
      }

    case 'speaking':
      switch (event.type) {
        case 'replyEnded':
          return {
            model: { ...model, state: { ...s, expectSpeech: event.expectSpeech } },
            effects: [],
          };
        case 'playbackDone':
          if (event.error) {
            return go(model, resting(model), [{ type: 'earcon', name: 'error' }]);
          }
          return afterReply(model, s.expectSpeech, []);
        case 'wake':
          // Barge-in: the owner talks over the reply.
          return startListening(model, wakeTrigger(event), [{ type: 'stopPlayback' }]);
        case 'stop':
        case 'talk':
          return go(model, resting(model), [{ type: 'stopPlayback' }]);
        default:
          return stay(model);
      }

    case 'muted':
      // Nothing but unmute (handled above) leaves `muted`.
      return stay(model);
  }
}

/** Where the device rests when nothing is going on. */
export function resting(model: Model): DeviceState {
  const failed = model.failed[0];
  if (failed) return { name: 'error', part: failed.part, cause: failed.cause };
  if (model.link === 'down') return { name: 'offline', cause: model.linkCause };
  return { name: 'idle' };
}

function isResting(state: DeviceState): boolean {
  return state.name === 'idle' || state.name === 'offline' || state.name === 'error';
}

function wakeTrigger(e: { keyword: string; score: number; frameIndex: number }): Trigger {
  return { kind: 'wake', keyword: e.keyword, score: e.score, frameIndex: e.frameIndex };
}

function startListening(model: Model, trigger: Trigger, before: Effect[] = []): Transition {
  const r = resting(model);
  if (r.name !== 'idle') {
    return go(model, r, [...before, { type: 'stopPlayback' }, { type: 'earcon', name: 'error' }]);
  }
  return go(model, { name: 'listening', trigger }, [...before, { type: 'openUpload', trigger }]);
}

function afterReply(model: Model, expectSpeech: boolean, before: Effect[]): Transition {
  if (expectSpeech) return startListening(model, { kind: 'followup' }, before);
  return go(model, resting(model), before);
}

function onMute(model: Model, muted: boolean | undefined): Transition {
  const isMuted = model.state.name === 'muted';
  const want = muted ?? !isMuted;
  if (want === isMuted || model.state.name === 'booting') {
    if (model.state.name === 'booting' && want) {
      return go(model, { name: 'muted' }, [{ type: 'closeCapture' }]);
    }
    return stay(model);
  }
  if (!want) {
    return go(model, resting(model), [
      { type: 'resetWake' },
      { type: 'openCapture' },
      { type: 'earcon', name: 'unmute' },
    ]);
  }
  // Mute closes the microphone first (P1); whatever was in flight is cut there.
  const effects: Effect[] = [{ type: 'closeCapture' }];
  if (model.state.name === 'listening') effects.push({ type: 'abortUpload', reason: 'muted' });
  if (model.state.name === 'thinking') effects.push({ type: 'cancelReplyTimer' });
  if (model.state.name === 'speaking') effects.push({ type: 'stopPlayback' });
  effects.push({ type: 'earcon', name: 'mute' });
  return go(model, { name: 'muted' }, effects);
}

function onLinkDown(model: Model): Transition {
  const s = model.state;
  if (s.name === 'listening') {
    // The uploader reports the failed utterance itself (uploadFailed); the device
    // just stops capturing into it.
    return go(model, resting(model), [
      { type: 'failUpload', reason: 'link down' },
      { type: 'earcon', name: 'error' },
    ]);
  }
  if (s.name === 'thinking') {
    return go(model, resting(model), [
      { type: 'cancelReplyTimer' },
      { type: 'earcon', name: 'error' },
    ]);
  }
  return settle(model, []);
}

function onPartFailed(model: Model, part: string, cause: string): Transition {
  const failed = [...model.failed.filter((f) => f.part !== part), { part, cause }];
  const next = { ...model, failed };
  const s = model.state;
  const effects: Effect[] = [];
  if (s.name === 'listening') effects.push({ type: 'failUpload', reason: `${part} failed` });
  if (s.name === 'thinking') effects.push({ type: 'cancelReplyTimer' });
  if (s.name === 'speaking') effects.push({ type: 'stopPlayback' });
  if (s.name === 'muted' || s.name === 'booting') return stay(next);
  return go(next, resting(next), effects);
}

/** After a change of facts, a resting device moves to the resting state they imply. */
function settle(model: Model, effects: Effect[]): Transition {
  if (isResting(model.state)) {
    const r = resting(model);
    if (!sameState(r, model.state)) return go(model, r, effects);
  }
  return { model, effects };
}

function sameState(a: DeviceState, b: DeviceState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function go(model: Model, state: DeviceState, effects: Effect[]): Transition {
  return {
    model: { ...model, state },
    effects: [{ type: 'showState', state: state.name }, ...effects],
  };
}

function stay(model: Model, effects: Effect[] = []): Transition {
  return { model, effects };
}
