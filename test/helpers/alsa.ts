import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * ALSA configurations that turn files into sound devices, so the real `arecord` and
 * `aplay` run in tests on a machine without a sound card. Point ALSA_CONFIG_PATH at the
 * returned file; it replaces the system configuration, so it defines everything it uses.
 *
 * Capture: arecord reads `infile` as fast as it can and, past its end, repeats stale
 * data: tests bound what they read by the fixture's length. For paced capture the
 * infile can be a FIFO the test feeds in real time.
 */
export function alsaFileConfig(dir: string, opts: { infile?: string; outfile?: string }): string {
  const file = join(dir, 'asound.conf');
  const lines = [
    'pcm.!default {',
    '  type file',
    '  slave.pcm { type null }',
    `  file "${opts.outfile ?? '/dev/null'}"`,
    ...(opts.infile ? [`  infile "${opts.infile}"`] : []),
    '  format "raw"',
    '}',
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
