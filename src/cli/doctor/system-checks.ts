import { execFile } from 'node:child_process';
import { statfs } from 'node:fs/promises';
import { dirname } from 'node:path';
import { promisify } from 'node:util';
import { frameDbfs } from '../../audio/energy-vad.js';
import { SAMPLE_RATE } from '../../shared/audio-format.js';
import { result, type CheckResult } from './check.js';

const run = promisify(execFile);

export async function checkNode(): Promise<CheckResult> {
  const major = Number(process.versions.node.split('.')[0]);
  return major >= 20
    ? result('node', true, 'pass', `Node.js ${process.versions.node}`)
    : result(
        'node',
        true,
        'fail',
        `Node.js ${process.versions.node}`,
        'install Node.js 20 or newer',
      );
}

/** Records one second from the capture device and reports its level. */
export async function checkCapture(device: string): Promise<CheckResult> {
  try {
    const { stdout } = await run(
      'arecord',
      [
        '-q',
        '-D',
        device,
        '-f',
        'S16_LE',
        '-r',
        String(SAMPLE_RATE),
        '-c',
        '1',
        '-t',
        'raw',
        '-d',
        '1',
        '-',
      ],
      { encoding: 'buffer', maxBuffer: 1 << 20, timeout: 5000 },
    );
    const buf = stdout as Buffer;
    const samples = new Int16Array(buf.buffer, buf.byteOffset, Math.floor(buf.length / 2));
    if (samples.length < SAMPLE_RATE / 2) {
      return result(
        'microphone',
        true,
        'fail',
        `${device}: only ${samples.length} samples in 1 s`,
        'check the capture device',
      );
    }
    const level = frameDbfs(samples);
    const silent = level <= -90;
    return result(
      'microphone',
      true,
      silent ? 'warn' : 'pass',
      `${device}: recorded 1 s, level ${level.toFixed(1)} dBFS${silent ? ' (digital silence: is the mic connected?)' : ''}`,
    );
  } catch (err) {
    const msg = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message)
      .trim()
      .split('\n')
      .slice(-2)
      .join(' / ');
    return result(
      'microphone',
      true,
      'fail',
      `${device}: ${msg}`,
      'list devices with `arecord -L`; set audio.capture.device or the board profile; the user needs the audio group',
    );
  }
}

/** Checks the playback device opens; plays a short tone only when asked. */
export async function checkPlayback(device: string, play: boolean): Promise<CheckResult> {
  const seconds = play ? 0.3 : 0.01;
  const samples = Math.round(SAMPLE_RATE * seconds);
  const pcm = Buffer.alloc(samples * 2);
  if (play)
    for (let i = 0; i < samples; i++)
      pcm.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 880 * i) / SAMPLE_RATE) * 8000), i * 2);
  try {
    await new Promise<void>((resolve, reject) => {
      const child = execFile(
        'aplay',
        [
          '-q',
          '-D',
          device,
          '-f',
          'S16_LE',
          '-r',
          String(SAMPLE_RATE),
          '-c',
          '1',
          '-t',
          'raw',
          '-',
        ],
        { timeout: 5000 },
        (err, _out, stderr) =>
          err
            ? reject(
                new Error(String(stderr).trim().split('\n').slice(-2).join(' / ') || err.message),
              )
            : resolve(),
      );
      // aplay exits at once on a bad device: the pipe then breaks (EPIPE), and its exit says why.
      child.stdin?.on('error', () => undefined).end(pcm);
    });
    return result(
      'speaker',
      true,
      'pass',
      `${device}: opens${play ? ', played a tone' : ' (nothing played; --play to hear a tone)'}`,
    );
  } catch (err) {
    return result(
      'speaker',
      true,
      'fail',
      `${device}: ${(err as Error).message}`,
      'list devices with `aplay -L`; set audio.playback.device',
    );
  }
}

/** TLS certificates are only valid with a correct clock. */
export async function checkClock(): Promise<CheckResult> {
  try {
    const { stdout } = await run('timedatectl', ['show', '--property=NTPSynchronized', '--value'], {
      timeout: 3000,
    });
    const synced = stdout.trim() === 'yes';
    return result(
      'clock',
      true,
      synced ? 'pass' : 'fail',
      synced ? 'synchronised (NTP)' : 'not synchronised',
      synced
        ? undefined
        : 'enable time sync: `timedatectl set-ntp true`; TLS fails with a wrong clock',
    );
  } catch {
    const year = new Date().getUTCFullYear();
    return year >= 2025
      ? result(
          'clock',
          true,
          'warn',
          `timedatectl unavailable; the clock says ${new Date().toISOString()}`,
        )
      : result(
          'clock',
          true,
          'fail',
          `the clock says ${new Date().toISOString()}`,
          'set the time; TLS fails with a wrong clock',
        );
  }
}

export async function checkLedgerSpace(ledgerFile: string, minMiB = 16): Promise<CheckResult> {
  let dir = dirname(ledgerFile);
  // The state directory may not exist yet (first run): check the nearest parent.
  for (;;) {
    try {
      const fs = await statfs(dir);
      const freeMiB = (fs.bavail * fs.bsize) / 2 ** 20;
      return freeMiB >= minMiB
        ? result('ledger space', true, 'pass', `${Math.round(freeMiB)} MiB free for ${ledgerFile}`)
        : result(
            'ledger space',
            true,
            'fail',
            `only ${freeMiB.toFixed(1)} MiB free for ${ledgerFile}`,
            'free disk space: without a ledger the device does not upload',
          );
    } catch {
      const up = dirname(dir);
      if (up === dir) return result('ledger space', true, 'fail', `cannot inspect ${ledgerFile}`);
      dir = up;
    }
  }
}

export async function checkUnit(): Promise<CheckResult> {
  try {
    const { stdout } = await run(
      'systemctl',
      ['show', 'earshot.service', '--property=ActiveState,UnitFileState,NRestarts', '--value'],
      { timeout: 3000 },
    );
    const [active, enabled, restarts] = stdout.trim().split('\n');
    if (!active || (active === 'inactive' && enabled === '')) {
      return result(
        'systemd unit',
        false,
        'warn',
        'earshot.service is not installed',
        'run scripts/install.sh',
      );
    }
    const ok = active === 'active' && enabled === 'enabled';
    return result(
      'systemd unit',
      false,
      ok ? 'pass' : 'warn',
      `earshot.service ${active}, ${enabled || 'not enabled'}${restarts && restarts !== '0' ? `, restarted ${restarts} time(s)` : ''}`,
    );
  } catch {
    return result(
      'systemd unit',
      false,
      'skip',
      'systemctl is not available (not running under systemd)',
    );
  }
}
