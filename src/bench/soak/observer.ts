import type { CloudServer, UtteranceRecord } from '../../cloud/index.js';
import type { Device } from '../../device/device.js';
import type { Gpio } from '../../gpio/index.js';
import { causeName, ListeningWindows, Tally } from './metrics.js';

/**
 * Watches one soak from both ends of the wire: the device's events (wakes, state
 * changes, uploads, acknowledgements), its listening LED, and what the reference
 * cloud received. It keeps counters and a few bounded maps only.
 */
export interface SoakCounts {
  wakes: number;
  /** Wakes the device did not act on because it was offline or in error. */
  wakesRefused: number;
  /** Utterances committed to the cloud (outcome `sent`). */
  uploads: number;
  uploadsAborted: number;
  uploadsFailed: number;
  acks: number;
  replies: number;
  /** Uploads whose open or close was outside a lit listening LED (P2): must be 0. */
  uploadsOutsideListening: number;
  /** Utterances the cloud received that the device never reported as sent (P4): must be 0. */
  cloudUtterancesUnrecorded: number;
  /** Utterances the cloud received whose bytes or SHA-256 did not match utterance.end. */
  cloudIntegrityErrors: number;
  cloudAborted: number;
}

export class SoakObserver {
  readonly counts: SoakCounts = {
    wakes: 0,
    wakesRefused: 0,
    uploads: 0,
    uploadsAborted: 0,
    uploadsFailed: 0,
    acks: 0,
    replies: 0,
    uploadsOutsideListening: 0,
    cloudUtterancesUnrecorded: 0,
    cloudIntegrityErrors: 0,
    cloudAborted: 0,
  };
  readonly failures = new Tally();
  /** Why an upload was aborted on purpose (mute): not failures, but worth a count. */
  readonly aborts = new Tally();
  private readonly windows = new ListeningWindows();
  /** Sent by the device, not yet seen by the cloud; bounded by the drops in flight. */
  private readonly sentNotReceived = new Set<string>();
  /** Seen by the cloud before the device reported it (a race the ledger write allows). */
  private readonly receivedEarly = new Map<string, UtteranceRecord>();
  private readonly unacked = new Set<string>();

  watchDevice(device: Device): void {
    device.on('wake', (w) => {
      this.counts.wakes += 1;
      // Emitted before the machine acts on it: the state is the one the wake found.
      const state = device.state;
      if (!w.accepted && (state === 'offline' || state === 'error')) {
        this.counts.wakesRefused += 1;
        this.failures.add(`wake while ${state}`);
      }
    });
    device.on('state', (s) => {
      if (s.state === 'speaking') this.counts.replies += 1;
      const next = s.state;
      if (s.previous === 'thinking' && !['speaking', 'listening', 'muted'].includes(next)) {
        // The request ended without a reply: say why (timeout, link down, refused …).
        if (s.cause !== 'replyEnded') this.failures.add(`no reply (${s.cause ?? '?'})`);
      }
    });
    device.on('upload', (u) => {
      if (!this.windows.covers(u.openedAt, u.closedAt)) this.counts.uploadsOutsideListening += 1;
      if (u.outcome === 'sent') {
        this.counts.uploads += 1;
        this.unacked.add(u.id);
        const early = this.receivedEarly.get(u.id);
        if (early) {
          this.receivedEarly.delete(u.id);
          this.checkReceived(early);
        } else this.sentNotReceived.add(u.id);
      } else if (u.outcome === 'aborted' && (u.reason === 'muted' || u.reason === 'stopped')) {
        this.counts.uploadsAborted += 1;
        this.aborts.add(u.reason);
      } else {
        if (u.outcome === 'aborted') this.counts.uploadsAborted += 1;
        else this.counts.uploadsFailed += 1;
        this.failures.add(`upload ${u.outcome}: ${causeName(u.reason)}`);
      }
    });
    device.on('ack', (a) => {
      if (this.unacked.delete(a.id)) this.counts.acks += 1;
    });
  }

  watchLeds(gpio: Gpio): void {
    gpio.on('led', (e) => {
      if (e.name === 'listening') this.windows.led(e.on, e.at);
    });
  }

  watchCloud(cloud: CloudServer): void {
    cloud.events.on('utterance', (record) => {
      if (this.sentNotReceived.delete(record.id)) this.checkReceived(record);
      else if (this.receivedEarly.size < 1000) this.receivedEarly.set(record.id, record);
      else this.counts.cloudUtterancesUnrecorded += 1;
    });
    cloud.events.on('aborted', () => (this.counts.cloudAborted += 1));
  }

  /** At the end: what the cloud got that the device never reported, and what went unacknowledged. */
  finish(): void {
    this.counts.cloudUtterancesUnrecorded += this.receivedEarly.size;
    this.receivedEarly.clear();
    if (this.unacked.size > 0) this.failures.add('sent, never acknowledged', this.unacked.size);
  }

  private checkReceived(record: UtteranceRecord): void {
    if (!record.integrityOk) this.counts.cloudIntegrityErrors += 1;
  }
}
