import type { Player } from '../audio/player.js';
import type { Config } from '../config/schema.js';
import type {
  DeviceSnapshot,
  DeviceStateName,
  LinkStatus,
  PartProblem,
  WakeInfo,
} from '../shared/device-status.js';
import type { Logger } from '../shared/logger.js';
import type { Detection } from '../wake/detector.js';

/**
 * The device's counters and reportable facts (for MQTT, doctor, systemd STATUS):
 * bookkeeping only, nothing here decides behaviour.
 */
export class StatusBook {
  lastState: DeviceStateName = 'booting';
  link: LinkStatus = { status: 'connecting' };
  lastWake: (WakeInfo & { frameIndex: number }) | undefined;
  dontSaveRecordings: boolean;
  droppedFrames = 0;
  private readonly problems = new Map<string, PartProblem>();
  private readonly counters = { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0 };

  constructor(
    config: Config,
    private readonly player: Player,
  ) {
    this.dontSaveRecordings = config.privacy.dontSaveRecordings;
  }

  wake(d: Detection, _state: DeviceStateName): void {
    this.counters.wakes += 1;
    this.lastWake = {
      time: new Date().toISOString(),
      keyword: d.keyword,
      score: Math.round(d.score * 1000) / 1000,
      frameIndex: d.frameIndex,
    };
  }

  upload(outcome: 'sent' | 'aborted' | 'failed'): void {
    if (outcome === 'sent') this.counters.uploads += 1;
    if (outcome === 'failed') this.counters.uploadFailures += 1;
  }

  falseWake(log: Logger): void {
    this.counters.falseWakes += 1;
    // Logged with the score so thresholds can be tuned from real false wakes.
    log.warn(
      { lastWake: this.lastWake, falseWakes: this.counters.falseWakes },
      'owner reported a false wake',
    );
  }

  setProblem(problem: PartProblem): void {
    this.problems.set(problem.part, problem);
  }

  clearProblem(part: string): void {
    this.problems.delete(part);
  }

  snapshot(): DeviceSnapshot {
    const lastWake = this.lastWake
      ? { time: this.lastWake.time, keyword: this.lastWake.keyword, score: this.lastWake.score }
      : undefined;
    return {
      state: this.lastState,
      muted: this.lastState === 'muted',
      volume: this.player.volume,
      link: this.link,
      ...(lastWake ? { lastWake } : {}),
      counters: { ...this.counters, droppedFrames: this.droppedFrames },
      dontSaveRecordings: this.dontSaveRecordings,
      problems: [...this.problems.values()],
    };
  }
}
