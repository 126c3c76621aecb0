import { MAX_AWAITED_ACKS, type DeviceEvent, type Model, type Transition } from './states.js';
import { ignore, stay } from './machine-steps.js';

/**
 * Acknowledgements in the state machine: which closed utterances may still be
 * acknowledged, and whether an acknowledgement matches what was sent. Nothing here
 * changes the device's state; it only keeps `awaitingAck` and says what to record.
 */

/** The utterance was sent (or told to be discarded): the cloud acknowledges it, once. */
export function awaitAck(
  model: Model,
  closed: { id: string; bytes: number; sha256: string },
): Model {
  const awaitingAck = [...model.awaitingAck, closed].slice(-MAX_AWAITED_ACKS);
  return { ...model, awaitingAck };
}

/**
 * An acknowledgement is taken once, for an utterance this device closed and waits on,
 * and only when what the cloud says it received is what was sent: anything else is
 * answered with a code and never reaches the ledger.
 */
export function onAck(model: Model, event: Extract<DeviceEvent, { type: 'ack' }>): Transition {
  const awaited = model.awaitingAck.find((a) => a.id === event.id);
  if (!awaited) {
    return ignore(
      model,
      'ack',
      event.id,
      'no utterance of this device awaits this acknowledgement',
      'E_UNKNOWN_UTTERANCE',
    );
  }
  const differs =
    !event.aborted &&
    ((event.bytes !== undefined && event.bytes !== awaited.bytes) ||
      (event.sha256 !== undefined && event.sha256 !== awaited.sha256));
  if (differs) {
    return ignore(
      model,
      'ack',
      event.id,
      `the cloud says it received ${event.bytes ?? '?'} bytes (${event.sha256?.slice(0, 12) ?? '?'}), the device sent ${awaited.bytes} (${awaited.sha256.slice(0, 12)})`,
      'E_INTEGRITY',
    );
  }
  const awaitingAck = model.awaitingAck.filter((a) => a.id !== event.id);
  const { type: _type, ...ack } = event;
  return stay({ ...model, awaitingAck }, [{ type: 'recordAck', ack }]);
}
