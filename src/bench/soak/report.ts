import type { SoakProgress, SoakReport } from './run.js';

/** The targets a soak is judged by: a flat memory line, no leaks, P2 and P4 intact. */
export const TARGETS = {
  rssSlopeMiBPerHour: 1,
  uploadsOutsideListening: 0,
  cloudUtterancesUnrecorded: 0,
};

export interface Verdict {
  ok: boolean;
  problems: string[];
}

export function judge(r: SoakReport): Verdict {
  const problems: string[] = [];
  if (r.rssSlopeMiBPerHour >= TARGETS.rssSlopeMiBPerHour) {
    problems.push(`RSS grows ${r.rssSlopeMiBPerHour} MiB per simulated hour after warm-up`);
  }
  if (r.fdEnd > r.fdStart) problems.push(`${r.fdEnd - r.fdStart} file descriptor(s) leaked`);
  if (!r.ledgerVerified) problems.push(`ledger does not verify: ${r.ledgerProblem ?? '?'}`);
  if (r.uploadsOutsideListening > 0) {
    problems.push(`${r.uploadsOutsideListening} upload(s) outside the listening LED (P2)`);
  }
  if (r.cloudUtterancesUnrecorded > 0) {
    problems.push(`${r.cloudUtterancesUnrecorded} utterance(s) reached the cloud unrecorded (P4)`);
  }
  if (r.cloudIntegrityErrors > 0) {
    problems.push(`${r.cloudIntegrityErrors} utterance(s) arrived with a wrong hash or size`);
  }
  return { ok: problems.length === 0, problems };
}

const pad = (label: string): string => `  ${label.padEnd(28)}`;

function section(title: string, rows: Array<[string, unknown]>): string {
  return [title, ...rows.map(([k, v]) => `${pad(k)}${String(v)}`)].join('\n');
}

function counts(obj: Record<string, number>): string {
  const entries = Object.entries(obj);
  return entries.length ? entries.map(([k, v]) => `${v} × ${k}`).join(', ') : 'none';
}

/** The human-readable report. */
export function formatReport(r: SoakReport): string {
  const verdict = judge(r);
  const parts = [
    section('run', [
      ['simulated hours', r.simulatedHours],
      ['wall time', `${r.wallSeconds} s (${r.wallSecondsPerSimulatedHour} s per simulated hour)`],
      ['seed', r.seed],
      ['final state', r.finalState],
    ]),
    section('requests', [
      ['wakes', `${r.wakes} (${r.mix.wakeWordsHeard} wake words played to an open mic)`],
      ['wakes refused (offline)', r.wakesRefused],
      ['uploads sent', r.uploads],
      ['acknowledged', r.acks],
      ['replies played', r.replies],
      ['uploads aborted / failed', `${r.uploadsAborted} / ${r.uploadsFailed}`],
      ['aborted on purpose', counts(r.abortedOnPurpose)],
      ['failures by cause', counts(r.failures)],
      ['dropped frames', r.droppedFrames],
    ]),
    section('faults injected', [
      ['cloud dropped all', r.chaos.dropAll],
      ['cloud dropped mid-utterance', r.chaos.dropMidUtterance],
      ['cloud stalled', r.chaos.stall],
      ['mute presses', r.chaos.mutePresses],
    ]),
    section('resources', [
      ['RSS start / end / peak', `${r.rssStartMiB} / ${r.rssEndMiB} / ${r.rssPeakMiB} MiB`],
      [
        'RSS slope after warm-up',
        `${r.rssSlopeMiBPerHour} MiB/h (heap ${r.heapSlopeMiBPerHour} MiB/h, ${r.memorySamples} samples after ${r.warmupHours} h)`,
      ],
      ['event-loop lag p99 / max', `${r.eventLoopLagP99Ms} / ${r.eventLoopLagMaxMs} ms`],
      ['file descriptors', `${r.fdStart} at start, ${r.fdEnd} at end (peak ${r.fdPeak})`],
    ]),
    section('privacy', [
      [
        'ledger',
        `${r.ledgerVerified ? 'verified' : 'FAILED'}, ${r.ledgerEntries} entries in ${r.ledgerFiles} file(s)`,
      ],
      ['uploads outside listening', r.uploadsOutsideListening],
      ['cloud got unrecorded', r.cloudUtterancesUnrecorded],
      ['cloud integrity errors', r.cloudIntegrityErrors],
    ]),
    section('daemon warnings', [['by message', counts(r.logWarnings)]]),
    verdict.ok ? 'result: all targets met' : `result: ${verdict.problems.join('; ')}`,
  ];
  return `${parts.join('\n\n')}\n`;
}

export function formatProgress(p: SoakProgress): string {
  const done = p.simulatedHours / p.hours;
  const eta = done > 0 ? (p.wallSeconds / done - p.wallSeconds) / 60 : NaN;
  return (
    `soak ${p.simulatedHours.toFixed(2)}/${p.hours} h simulated, ` +
    `${p.wakes} wakes, ${p.uploads} uploads, RSS ${p.rssMiB.toFixed(0)} MiB, ` +
    `${(p.wallSeconds / 60).toFixed(1)} min elapsed${Number.isFinite(eta) ? `, ~${eta.toFixed(0)} min left` : ''}`
  );
}
