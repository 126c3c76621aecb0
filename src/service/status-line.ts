import type { DeviceSnapshot } from '../shared/device-status.js';

/**
 * The one line `systemctl status earshot` shows (the notifier's STATUS=): the state,
 * the cloud link, and the counters an owner asks about first. Kept short: systemd
 * shows it on one line next to "Status:".
 */
export function statusLine(s: DeviceSnapshot): string {
  const link = s.link.cause ? `${s.link.status} (${s.link.cause})` : s.link.status;
  const parts = [
    s.muted && s.state !== 'muted' ? `${s.state}, muted` : s.state,
    `cloud ${link}`,
    `${s.counters.wakes} wakes`,
    `${s.counters.uploads} uploads`,
  ];
  if (s.counters.uploadFailures > 0) parts.push(`${s.counters.uploadFailures} failed`);
  if (s.problems.length > 0) {
    parts.push(`problems: ${s.problems.map((p) => `${p.part} ${p.code}`).join(', ')}`);
  }
  return parts.join('; ');
}
