import type { ErrorCode } from '../shared/error-codes.js';
import type {
  DeviceState,
  Effect,
  IgnoredKind,
  Model,
  Transition,
  UploadClose,
  Utterance,
} from './states.js';

/** The building blocks of `machine.ts`: pure helpers, no decisions of their own. */

/** Where the device rests when nothing is going on. */
export function resting(model: Model): DeviceState {
  const failed = model.failed[0];
  if (failed) return { name: 'error', part: failed.part, cause: failed.cause };
  if (model.link === 'down') return { name: 'offline', cause: model.linkCause };
  return { name: 'idle' };
}
export function isResting(state: DeviceState): boolean {
  return state.name === 'idle' || state.name === 'offline' || state.name === 'error';
}
/** After a change of facts, a resting device moves to the resting state they imply. */
export function settle(model: Model, effects: Effect[]): Transition {
  if (isResting(model.state)) {
    const r = resting(model);
    if (!sameState(r, model.state)) return go(model, r, effects);
  }
  return { model, effects };
}
export function close(u: Utterance, how: UploadClose): Effect {
  return { type: 'closeUpload', id: u.id, close: how };
}
export function ignore(
  model: Model,
  what: IgnoredKind,
  id: string,
  why: string,
  code?: ErrorCode,
): Transition {
  return stay(model, [{ type: 'ignore', what, id, why, ...(code ? { code } : {}) }]);
}
export function sameParts(a: Model['failed'], b: Model['failed']): boolean {
  return (
    a.length === b.length && a.every((f, i) => f.part === b[i]!.part && f.cause === b[i]!.cause)
  );
}
export function sameState(a: DeviceState, b: DeviceState): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
export function go(model: Model, state: DeviceState, effects: Effect[]): Transition {
  return {
    model: { ...model, state },
    effects: [{ type: 'showState', state: state.name }, ...effects],
  };
}
export function stay(model: Model, effects: Effect[] = []): Transition {
  return { model, effects };
}
