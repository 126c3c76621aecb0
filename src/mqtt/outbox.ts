import type { OutMessage } from './state-payloads.js';

/**
 * The retained state we owe the broker: the latest value per topic, and which topics the
 * broker has not been handed yet.
 *
 * A map, not a queue: while the broker is away a thousand volume changes leave one entry,
 * so memory is bounded by the number of topics however long the outage lasts, and on
 * reconnect the broker gets the current truth instead of a replay of history (a
 * dashboard has no use for stale intermediate states, and a replay could briefly show
 * them as current).
 */
export class Outbox {
  private readonly latest = new Map<string, OutMessage>();
  private readonly pending = new Set<string>();

  /**
   * Records the current value of a topic. Returns false, and changes nothing, when the
   * value equals the one already recorded: that is how "publish what changed" works.
   */
  put(message: OutMessage): boolean {
    const prev = this.latest.get(message.topic);
    if (prev && prev.payload === message.payload && prev.retain === message.retain) return false;
    this.latest.set(message.topic, message);
    this.pending.add(message.topic);
    return true;
  }

  /** The messages not yet handed to the broker, in the order their topics first changed. */
  drain(): OutMessage[] {
    const out: OutMessage[] = [];
    for (const topic of this.pending) {
      const message = this.latest.get(topic);
      if (message) out.push(message);
    }
    this.pending.clear();
    return out;
  }

  /**
   * After a (re)connect: owe the broker every value again. A broker restarted without
   * persistence has lost its retained messages, and a publish that was in flight when the
   * connection died may never have arrived.
   */
  markAllPending(): void {
    for (const topic of this.latest.keys()) this.pending.add(topic);
  }

  /** Number of topics waiting for the broker (bounded by the number of topics). */
  get pendingCount(): number {
    return this.pending.size;
  }

  /** Number of topics with a recorded value. */
  get size(): number {
    return this.latest.size;
  }

  /** The recorded value of a topic, if any. */
  get(topic: string): OutMessage | undefined {
    return this.latest.get(topic);
  }
}
