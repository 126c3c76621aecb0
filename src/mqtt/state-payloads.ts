import type { DeviceSnapshot } from '../shared/device-status.js';
import type { StateTopics } from './topics.js';

/** One message to publish. */
export interface OutMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

/** Home Assistant's default switch / binary sensor payloads, so no templates are needed. */
export const ON = 'ON';
export const OFF = 'OFF';

function onOff(value: boolean): string {
  return value ? ON : OFF;
}

/** Wake scores carry float noise; four decimals are plenty and keep retained values stable. */
function roundScore(score: number): number {
  return Math.round(score * 10_000) / 10_000;
}

/**
 * The retained state messages for one snapshot, one per topic. Every value a dashboard
 * needs the moment it subscribes is retained. Which of them actually changed is the
 * outbox's business: this function only renders, so it stays pure and easy to test.
 *
 * Scalars are plain text (`ON`, `42`, `idle`) so `mosquitto_sub` output is readable and
 * Home Assistant needs no template; grouped values are JSON objects (HA reads them with a
 * `value_template` and exposes the rest as attributes, which must be an object).
 */
export function renderState(snapshot: DeviceSnapshot, topics: StateTopics): OutMessage[] {
  const retained = (topic: string, payload: string): OutMessage => ({
    topic,
    payload,
    retain: true,
  });
  const out: OutMessage[] = [
    retained(topics.state, snapshot.state),
    retained(topics.listening, onOff(snapshot.state === 'listening')),
    retained(topics.mute, onOff(snapshot.muted)),
    retained(topics.volume, String(Math.round(snapshot.volume))),
    retained(topics.dontSaveRecordings, onOff(snapshot.dontSaveRecordings)),
    retained(
      topics.link,
      JSON.stringify(
        snapshot.link.cause === undefined
          ? { status: snapshot.link.status }
          : { status: snapshot.link.status, cause: snapshot.link.cause },
      ),
    ),
    retained(
      topics.counters,
      JSON.stringify({
        wakes: snapshot.counters.wakes,
        uploads: snapshot.counters.uploads,
        uploadFailures: snapshot.counters.uploadFailures,
        falseWakes: snapshot.counters.falseWakes,
        droppedFrames: snapshot.counters.droppedFrames,
      }),
    ),
    retained(
      topics.problems,
      JSON.stringify({
        count: snapshot.problems.length,
        problems: snapshot.problems.map((p) => ({
          part: p.part,
          code: p.code,
          message: p.message,
        })),
      }),
    ),
  ];
  // `<seq>:<sha256>`: an anchor of the ledger outside the device (ledger verify --anchor).
  if (snapshot.ledgerHead) {
    out.push(retained(topics.ledgerHead, `${snapshot.ledgerHead.seq}:${snapshot.ledgerHead.hash}`));
  }
  if (snapshot.destination) {
    const d = snapshot.destination;
    out.push(
      retained(
        topics.destination,
        JSON.stringify({ protocol: d.protocol, host: d.host, retentionSent: d.retentionSent }),
      ),
    );
  }
  if (snapshot.wakeWord !== undefined) out.push(retained(topics.wakeWord, snapshot.wakeWord));
  // No wake yet since start: keep the retained one from before, it is still the last wake.
  if (snapshot.lastWake) {
    out.push(
      retained(
        topics.lastWake,
        JSON.stringify({
          time: snapshot.lastWake.time,
          keyword: snapshot.lastWake.keyword,
          score: roundScore(snapshot.lastWake.score),
        }),
      ),
    );
  }
  return out;
}
