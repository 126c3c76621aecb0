import type {
  DeviceSnapshot,
  DeviceStateName,
  LinkStatus,
  PartProblem,
  WakeInfo,
} from '../shared/device-status.js';
import type { ErrorCode } from '../shared/error-codes.js';
import type { Logger } from '../shared/logger.js';
import { TypedEmitter } from '../shared/typed-emitter.js';
import type { Device } from './device.js';
import type { CriticalPart, Model } from './states.js';

/** The code a failed critical part is listed under. */
const DOWN_CODES: Record<CriticalPart, ErrorCode> = {
  capture: 'E_CAPTURE_DOWN',
  ledger: 'E_LEDGER_DOWN',
};

export type StatusBookEvents = {
  /** Something a report shows changed: MQTT publishes, systemd STATUS updates. */
  changed: [];
};

/**
 * The device's counters and reportable facts (for MQTT, doctor, systemd STATUS):
 * bookkeeping only, nothing here decides behaviour. It learns everything by listening
 * to the device's and the parts' events (subscribed in `wiring.ts`).
 */
export class StatusBook extends TypedEmitter<StatusBookEvents> {
  private state: DeviceStateName = 'booting';
  private link: LinkStatus = { status: 'connecting' };
  private lastWake: WakeInfo | undefined;
  private dontSave: boolean;
  private dropped = 0;
  private ledgerHead: { seq: number; hash: string } | undefined;
  private destination: DeviceSnapshot['destination'];
  private wakeWord: string | undefined;
  private readonly problems = new Map<string, PartProblem>();
  private readonly counters = { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0 };

  constructor(
    dontSaveRecordings: boolean,
    private readonly volume: () => number,
    private readonly log: Logger,
  ) {
    super();
    this.dontSave = dontSaveRecordings;
  }

  get dontSaveRecordings(): boolean {
    return this.dontSave;
  }

  /** Listens to everything the device reports. */
  watchDevice(device: Device): void {
    device.on('state', (s) => {
      this.state = s.state;
      this.emit('changed');
    });
    device.on('wake', (w) => {
      this.counters.wakes += 1;
      this.lastWake = {
        time: new Date().toISOString(),
        keyword: w.keyword,
        score: Math.round(w.score * 1000) / 1000,
      };
      this.emit('changed');
    });
    device.on('upload', (u) => {
      if (u.outcome === 'sent') this.counters.uploads += 1;
      if (u.outcome === 'failed') this.counters.uploadFailures += 1;
      this.emit('changed');
    });
    device.on('facts', (model) => this.onFacts(model));
    device.on('volume', () => this.emit('changed'));
    device.on('falseWake', () => {
      this.counters.falseWakes += 1;
      // Logged with the score so thresholds can be tuned from real false wakes.
      this.log.warn(
        { lastWake: this.lastWake, falseWakes: this.counters.falseWakes },
        'owner reported a false wake',
      );
      this.emit('changed');
    });
  }

  /** The transport's view of the link (with `connecting`, which the machine does not need). */
  onLink(link: LinkStatus): void {
    this.link = link;
    this.emit('changed');
  }

  /** Where uploads go (set once from the transport). */
  setDestination(destination: DeviceSnapshot['destination']): void {
    this.destination = destination;
    this.emit('changed');
  }

  /** The wake word listened for now (after the start and after every switch). */
  onWakeWord(name: string): void {
    this.wakeWord = name;
    this.emit('changed');
  }

  onDropped(total: number): void {
    this.dropped = total;
  }

  /** The ledger's newest entry: reports carry it as an anchor outside the device. */
  onLedgerHead(head: { seq: number; hash: string }): void {
    this.ledgerHead = head;
    this.emit('changed');
  }

  /** A part reports that it runs degraded (simulated GPIO, a wake engine fallback) or is well. */
  onPartStatus(part: string, problem: { code: string; message: string } | undefined): void {
    if (problem) this.problems.set(part, { part, ...problem });
    else this.problems.delete(part);
    this.emit('changed');
  }

  snapshot(): DeviceSnapshot {
    return {
      state: this.state,
      muted: this.state === 'muted',
      volume: this.volume(),
      link: this.link,
      ...(this.lastWake ? { lastWake: this.lastWake } : {}),
      counters: { ...this.counters, droppedFrames: this.dropped },
      dontSaveRecordings: this.dontSave,
      problems: [...this.problems.values()],
      ...(this.ledgerHead ? { ledgerHead: this.ledgerHead } : {}),
      ...(this.destination ? { destination: { ...this.destination } } : {}),
      ...(this.wakeWord !== undefined ? { wakeWord: this.wakeWord } : {}),
    };
  }

  /**
   * A critical part that is down (capture, ledger) is a problem the owner must see named,
   * not only as the `error` state: listed with its cause until it recovers.
   */
  private onFacts(model: Model): void {
    this.dontSave = model.dontSaveRecordings;
    for (const part of Object.keys(DOWN_CODES) as CriticalPart[]) {
      const failed = model.failed.find((f) => f.part === part);
      if (failed) {
        this.problems.set(part, { part, code: DOWN_CODES[part], message: failed.cause });
      } else {
        this.problems.delete(part);
      }
    }
    this.emit('changed');
  }
}
