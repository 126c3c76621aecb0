import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { startBenchCloud } from './bench-cloud.js';
import { createRootLogger } from '../shared/logger.js';

/**
 * `npm run bench:daemon`: the memory and CPU of the device process as systemd runs it,
 * with one keyword. The device runs in its own process with the unit's environment and
 * node flags (the `Environment=` lines of systemd/earshot.service and the flags between
 * `node` and the script on its `ExecStart=` line, so the figure follows the unit;
 * `--bare` leaves both out, to see what they are worth), the whole
 * runtime (openWakeWord, Silero VAD, the ledger, the TLS link to the reference cloud in
 * this process, MQTT to a mosquitto started here when one is installed), fed a recording
 * at real time. It is `earshot simulate --realtime` rather than `earshot run` because
 * this machine has no sound card; the only parts that differ are the WAV source in place
 * of arecord (a separate process either way) and simulated GPIO pins.
 *
 *   npm run bench:daemon -- [--repeat N] [--bare] [--json]
 *
 * Peak RSS is the child's VmHWM (/proc/PID/status), sampled until it exits; VmHWM only
 * grows, so a sample shortly before the end holds the peak.
 */
const root = new URL('../../', import.meta.url).pathname;
const MIB = 1024;

/** The environment the unit gives the daemon (`Environment=NAME=value` lines). */
function unitEnvironment(unitText: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of unitText.matchAll(/^Environment=([A-Z_][A-Z0-9_]*)=(.*)$/gm)) {
    env[m[1]!] = m[2]!.replace(/^"|"$/g, '').trim();
  }
  return env;
}

/**
 * The node flags of the unit's `ExecStart=` line: V8 flags that NODE_OPTIONS refuses
 * (`--optimize-for-size`) can only be given there.
 */
function unitNodeFlags(unitText: string): string[] {
  const m = /^ExecStart=-?\S*\/node((?:[ \t]+--\S+)*)[ \t]/m.exec(unitText);
  return m ? m[1]!.trim().split(/\s+/).filter(Boolean) : [];
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function hasCommand(name: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface Sample {
  hwmKiB: number;
  rssKiB: number;
  cpuTicks: number;
}

function sample(pid: number): Sample | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at ") ".
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return {
      hwmKiB: Number(/VmHWM:\s+(\d+)/.exec(status)?.[1] ?? 0),
      rssKiB: Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0),
      cpuTicks: Number(fields[11]) + Number(fields[12]),
    };
  } catch {
    return undefined; // exited between samples
  }
}

async function main(): Promise<void> {
  const unit = readFileSync(join(root, 'systemd/earshot.service'), 'utf8');
  const { values } = parseArgs({
    options: {
      repeat: { type: 'string', default: '9' },
      bare: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    },
  });
  const work = mkdtempSync(join(tmpdir(), 'earshot-bench-daemon-'));
  const children: ChildProcess[] = [];
  try {
    const wav = join(work, 'input.wav');
    const repeat = Math.max(0, Number(values.repeat) - 1);
    const fixture = join(root, 'test/fixtures/alexa-what-time.wav');
    execFileSync('sox', [fixture, wav, 'repeat', String(repeat)]);
    const { cloud, device: certs } = await startBenchCloud(work, 'bench', {
      logger: createRootLogger({ level: 'error' }),
      behaviour: { reply: 'tone' },
    });
    let mqttUrl: string | undefined;
    if (hasCommand('mosquitto')) {
      const port = await freePort();
      const broker = spawn('mosquitto', ['-p', String(port)], { stdio: 'ignore' });
      children.push(broker);
      await new Promise((r) => setTimeout(r, 500));
      mqttUrl = `mqtt://127.0.0.1:${port}`;
    }
    const args = [
      join(root, 'dist/cli/main.js'),
      'simulate',
      '--json',
      '--realtime',
      '--wav',
      wav,
      '--ledger',
      join(work, 'ledger.jsonl'),
      '--cloud',
      cloud.url,
      '--ca',
      certs.ca,
      '--cert',
      certs.cert,
      '--key',
      certs.key,
      '--set',
      'device.id=bench',
      ...(mqttUrl ? ['--mqtt', mqttUrl] : []),
    ];
    // The unit's environment and node flags (V8 and allocator settings), or none of
    // them with --bare.
    const unitEnv = values.bare ? {} : unitEnvironment(unit);
    const nodeFlags = values.bare ? [] : unitNodeFlags(unit);
    const device = spawn(process.execPath, [...nodeFlags, ...args], {
      env: { ...process.env, NODE_OPTIONS: '', ...unitEnv },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(device);
    let out = '';
    device.stdout!.on('data', (c: Buffer) => (out += c.toString()));
    // A process that has exited but is not yet reaped has no memory figures: keep the
    // last sample that had them.
    let last: Sample | undefined;
    const timer = setInterval(() => {
      const s = sample(device.pid!);
      if (s && s.hwmKiB > 0) last = s;
    }, 100);
    const code = await new Promise<number | null>((r) => device.on('close', r));
    clearInterval(timer);
    await cloud.close();
    const summary = out
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l.event === 'summary');
    if (code !== 0 || !summary || !last) {
      throw new Error(`the device exited with ${code} and no summary:\n${out.slice(-2000)}`);
    }
    const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
    const seconds = Number(summary.seconds);
    const result = {
      environment: unitEnv,
      nodeFlags,
      mqtt: mqttUrl !== undefined,
      audioSeconds: seconds,
      wakes: summary.wakes,
      uploads: summary.uploads,
      peakRssMiB: Math.round((last.hwmKiB / MIB) * 10) / 10,
      rssEndMiB: Math.round((last.rssKiB / MIB) * 10) / 10,
      cpuPerAudioSecond: Number((last.cpuTicks / ticks / seconds).toFixed(4)),
      // The daemon's memory target with one keyword (README, "the daemon's memory").
      target: { peakRssMiB: 120 },
    };
    process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  } finally {
    for (const c of children) c.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:daemon: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
