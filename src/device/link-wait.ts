import { RealClock } from '../shared/clock.js';
import type { Logger } from '../shared/logger.js';
import type { Part, UtteranceTransport } from './ports.js';

/**
 * A part that holds back the parts after it until the cloud link is up (or no cloud is
 * configured), for at most `ms`: simulate against a cloud opens the microphone only
 * then, so a run does not depend on how fast TLS connects. It listens from the moment
 * it is made, because a transport may report its state while it starts.
 */
export class LinkWait implements Part {
  readonly name = 'link-wait';
  // Real time, whatever clock the device runs on: this waits for a real network (a
  // simulated device's virtual clock stands still until audio flows).
  private readonly clock = new RealClock();
  private up = false;
  private waiting: (() => void) | undefined;

  constructor(
    private readonly transport: Pick<UtteranceTransport, 'on' | 'off'>,
    private readonly ms: number,
    private readonly log: Logger,
  ) {
    transport.on('status', this.onStatus);
  }

  start(): Promise<void> {
    return new Promise<void>((resolve) => {
      if (this.up) return resolve();
      const timer = this.clock.setTimeout(() => {
        this.log.warn('the cloud link is not up yet; starting anyway');
        this.transport.off('status', this.onStatus);
        resolve();
      }, this.ms);
      this.waiting = () => {
        this.clock.clearTimeout(timer);
        resolve();
      };
    });
  }

  async stop(): Promise<void> {
    this.transport.off('status', this.onStatus);
  }

  private readonly onStatus = (s: { status: string }): void => {
    if (s.status !== 'up' && s.status !== 'disabled') return;
    this.up = true;
    this.transport.off('status', this.onStatus);
    this.waiting?.();
  };
}
