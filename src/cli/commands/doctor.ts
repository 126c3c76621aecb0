import type { Command } from 'commander';
import { audioDevices } from '../../device/wiring.js';
import { loadBoardProfile } from '../../config/board-profile.js';
import { ledgerPath } from '../../privacy/ledger-path.js';
import { addConfigOptions, configFromOptions, type ConfigOptions } from '../config-options.js';
import { checkAssist } from '../doctor/assist-check.js';
import { checkBoard } from '../doctor/board-checks.js';
import { checkCertificates } from '../doctor/cert-checks.js';
import { checkDashboard } from '../doctor/dashboard-check.js';
import { runCheck, type CheckResult } from '../doctor/check.js';
import { checkCloud, checkGpio, checkMqtt, checkWake } from '../doctor/part-checks.js';
import {
  checkCapture,
  checkClock,
  checkLedgerSpace,
  checkNode,
  checkPlayback,
  checkUnit,
} from '../doctor/system-checks.js';

interface DoctorFlags extends ConfigOptions {
  json?: boolean;
  play?: boolean;
  timeout: string;
  systemRoot: string;
}

const MARK: Record<CheckResult['status'], string> = {
  pass: 'ok  ',
  fail: 'FAIL',
  warn: 'warn',
  skip: 'skip',
};

export function registerDoctor(program: Command): void {
  addConfigOptions(
    program
      .command('doctor')
      .description(
        'check the speaker: audio devices, wake engine, GPIO, cloud, MQTT, clock, ledger, service',
      )
      .option('--json', 'print one JSON object')
      .option('--play', 'play a short tone on the speaker')
      .option('--timeout <seconds>', 'per check', '10')
      .option(
        '--system-root <dir>',
        'read config.txt, the device tree and ALSA cards under DIR (a mounted card)',
        '/',
      ),
  ).action(async (flags: DoctorFlags) => {
    const config = configFromOptions(flags);
    const timeoutMs = Math.max(1, Number(flags.timeout)) * 1000;
    const profile = loadBoardProfile(config.board);
    const audio = audioDevices(config, profile);
    const checks: Array<[string, boolean, () => Promise<CheckResult>]> = [
      ['node', true, checkNode],
      ['board', true, () => checkBoard(profile, flags.systemRoot)],
      ['microphone', true, () => checkCapture(audio.capture)],
      ['speaker', true, () => checkPlayback(audio.playback, Boolean(flags.play))],
      ['wake word', true, () => checkWake(config)],
      ['gpio', true, () => checkGpio(config)],
      ['certificates', true, () => checkCertificates(config)],
      [
        'cloud',
        true,
        () =>
          config.cloud.protocol === 'home-assistant'
            ? checkAssist(config, timeoutMs)
            : checkCloud(config, timeoutMs),
      ],
      ['mqtt', false, () => checkMqtt(config, timeoutMs)],
      ['dashboard', false, () => checkDashboard(config)],
      ['clock', true, checkClock],
      ['ledger space', true, () => checkLedgerSpace(ledgerPath(config))],
      ['systemd unit', false, checkUnit],
    ];
    const results: CheckResult[] = [];
    for (const [name, required, check] of checks) {
      const r = await runCheck(name, required, check, timeoutMs + 2000);
      results.push(r);
      if (!flags.json) {
        process.stdout.write(`${MARK[r.status]}  ${r.name.padEnd(13)} ${r.detail}\n`);
        if (r.hint && r.status !== 'pass')
          process.stdout.write(`      ${''.padEnd(13)} hint: ${r.hint}\n`);
      }
    }
    const ok = results.every((r) => !r.required || r.status !== 'fail');
    if (flags.json) process.stdout.write(`${JSON.stringify({ ok, checks: results }, null, 2)}\n`);
    else
      process.stdout.write(
        ok ? '\nall required checks passed\n' : '\nsome required checks FAILED\n',
      );
    process.exitCode = ok ? 0 : 1;
  });
}
