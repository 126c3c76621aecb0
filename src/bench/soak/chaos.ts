import type { CloudServer } from '../../cloud/index.js';
import type { SimulatedBackend } from '../../gpio/simulated-backend.js';
import type { Clock, TimerHandle } from '../../shared/clock.js';

/**
 * What goes wrong during a soak, at random (seeded) moments of simulated time: the
 * cloud drops every connection, drops one mid-utterance, or stops answering pings
 * until the device gives up on it; and the owner presses mute, then unmutes a few
 * minutes later. Everything goes through the real parts: the reference cloud's
 * misbehaviour switches and the simulated mute button.
 */
export interface ChaosOptions {
  clock: Clock;
  random: () => number;
  cloud: CloudServer;
  buttons: SimulatedBackend;
  /** Mean simulated minutes between two cloud faults. */
  faultEveryMin: number;
  /** Mean simulated minutes between two mute presses (each followed by an unmute). */
  muteEveryMin: number;
}

export interface ChaosCounts {
  dropAll: number;
  dropMidUtterance: number;
  stall: number;
  mutePresses: number;
}

const MINUTE = 60_000;

export class Chaos {
  readonly counts: ChaosCounts = { dropAll: 0, dropMidUtterance: 0, stall: 0, mutePresses: 0 };
  private readonly timers = new Set<TimerHandle>();
  private stopped = false;

  constructor(private readonly options: ChaosOptions) {
    // A drop or stall lasts until the connection it was meant for is gone; the next
    // connection gets a healthy cloud again.
    options.cloud.events.on('disconnect', () => {
      const b = options.cloud.behaviour;
      if (b.dropAfterMs !== undefined || b.stall) {
        options.cloud.setBehaviour({ dropAfterMs: undefined, stall: false });
      }
    });
  }

  start(): void {
    this.after(this.exp(this.options.faultEveryMin), () => this.fault());
    this.after(this.exp(this.options.muteEveryMin), () => this.mute());
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) this.options.clock.clearTimeout(t);
    this.timers.clear();
    this.options.cloud.setBehaviour({ dropAfterMs: undefined, stall: false });
  }

  private fault(): void {
    const { cloud, random } = this.options;
    const r = random();
    if (r < 0.45) {
      this.counts.dropAll += 1;
      cloud.dropAll();
    } else if (r < 0.9) {
      // The next utterance is cut after 0.2-3 s of audio.
      this.counts.dropMidUtterance += 1;
      cloud.setBehaviour({ dropAfterMs: 200 + Math.round(random() * 2800) });
    } else {
      this.counts.stall += 1;
      cloud.setBehaviour({ stall: true });
    }
    this.after(this.exp(this.options.faultEveryMin), () => this.fault());
  }

  private mute(): void {
    this.press();
    // Muted for half a minute to five minutes, then unmuted by the same button.
    this.after((0.5 + this.options.random() * 4.5) * MINUTE, () => {
      this.press();
      this.after(this.exp(this.options.muteEveryMin), () => this.mute());
    });
  }

  private press(): void {
    this.counts.mutePresses += 1;
    this.options.buttons.press('mute');
    this.after(120, () => this.options.buttons.release('mute'));
  }

  /** Exponentially distributed delay with the given mean (minutes), in ms. */
  private exp(meanMin: number): number {
    return -Math.log(1 - this.options.random()) * meanMin * MINUTE;
  }

  private after(ms: number, fn: () => void): void {
    if (this.stopped) return;
    const handle = this.options.clock.setTimeout(() => {
      this.timers.delete(handle);
      if (!this.stopped) fn();
    }, ms);
    this.timers.add(handle);
  }
}
