import type { Clock, TimerHandle } from '../shared/clock.js';
import type { Button } from './port.js';

export type ButtonKind = 'press' | 'long';

export interface ButtonBehaviour {
  /** A level must hold this long without another edge before it counts. */
  debounceMs: number;
  /** `both`: press and release are seen. One edge only: each settled edge is a press. */
  edge: 'both' | 'rising' | 'falling';
  /**
   * Held this long → `long` (and no `press`); released sooner → `press`, on release.
   * Without it a press counts as soon as it settles, which is what mute wants.
   */
  longPressMs?: number | undefined;
}

/**
 * Turns a button's raw edges into presses. Contacts bounce for a few milliseconds, so
 * every edge restarts a quiet-period timer and the level is taken only once it has
 * been stable for `debounceMs` (on the Clock, so tests run on virtual time). A
 * button that reads pressed at start has to be released before it can press.
 */
export class ButtonWatcher {
  private stable = false;
  private lastEdge = false;
  private debounceTimer: TimerHandle | undefined;
  private longTimer: TimerHandle | undefined;
  private longFired = false;
  private running = false;

  constructor(
    private readonly port: Button,
    private readonly clock: Clock,
    private readonly behaviour: ButtonBehaviour,
    private readonly emit: (kind: ButtonKind) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  /** Reads the starting level and watches for edges. Returns that level. */
  start(): boolean {
    this.stable = this.safeRead(false);
    this.lastEdge = this.stable;
    this.running = true;
    this.port.watch(
      (pressed) => this.onEdge(pressed),
      (err) => this.onError(err),
    );
    return this.stable;
  }

  stop(): void {
    this.running = false;
    this.clock.clearTimeout(this.debounceTimer);
    this.clock.clearTimeout(this.longTimer);
    this.debounceTimer = undefined;
    this.longTimer = undefined;
  }

  private onEdge(pressed: boolean): void {
    if (!this.running) return;
    this.lastEdge = pressed;
    this.clock.clearTimeout(this.debounceTimer);
    this.debounceTimer = this.clock.setTimeout(() => this.settle(), this.behaviour.debounceMs);
  }

  private settle(): void {
    this.debounceTimer = undefined;
    if (this.behaviour.edge !== 'both') {
      // Only one edge interrupts, so a release is never seen: each burst is a press.
      this.emit('press');
      return;
    }
    const level = this.safeRead(this.lastEdge);
    if (level === this.stable) return; // a glitch that came back to where it was
    this.stable = level;
    const longMs = this.behaviour.longPressMs;
    if (level) {
      if (longMs === undefined) {
        this.emit('press');
        return;
      }
      this.longFired = false;
      this.longTimer = this.clock.setTimeout(() => {
        this.longTimer = undefined;
        this.longFired = true;
        this.emit('long');
      }, longMs);
      return;
    }
    if (longMs === undefined) return;
    this.clock.clearTimeout(this.longTimer);
    this.longTimer = undefined;
    if (!this.longFired) this.emit('press');
    this.longFired = false;
  }

  private safeRead(fallback: boolean): boolean {
    try {
      return this.port.read();
    } catch {
      return fallback;
    }
  }
}
