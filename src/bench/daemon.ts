import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { startBenchCloud } from './bench-cloud.js';
import { FifoMic } from './fifo-mic.js';
import { createRootLogger } from '../shared/logger.js';

/**
 * `npm run bench:daemon`: the memory and CPU of the device process as systemd runs it,
 * with one keyword. The device runs in its own process with the unit's environment and
 * node flags (the `Environment=` lines of systemd/earshot.service and the flags between
 * `node` and the script on its `ExecStart=` line, so the figure follows the unit;
 * `--bare` leaves both out, to see what they are worth): `earshot run`, the whole
 * runtime (the real `arecord`, openWakeWord, Silero VAD, the ledger, the TLS link to the
 * reference cloud in this process, MQTT to a mosquitto started here when one is
 * installed), hearing a recording at real time through an ALSA file PCM whose infile is
 * a FIFO this process feeds (src/bench/fifo-mic.ts: this machine has no sound card). Only
 * the GPIO pins are simulated. The daemon is stopped with SIGTERM a few seconds after
 * the recording, as systemd stops it; wakes are counted from its log and uploads from
 * its ledger.
 *
 *   npm run bench:daemon -- [--repeat N] [--bare] [--json]
 *
 * Peak RSS is the child's VmHWM (/proc/PID/status), sampled until it exits; VmHWM only
 * grows, so a sample shortly before the end holds the peak.
 */
const root = new URL('../../', import.meta.url).pathname;
const MIB = 1024;
/** What `earshot run` logs once every part has started (src/cli/commands/run.ts). */
const READY_MESSAGE = 'earshot is running';
/** After the recording: long enough for the last request to close and be answered. */
const SETTLE_SECONDS = 4;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `check` holds; fails if the process exits first or after a minute. */
async function until(check: () => boolean, what: string, exited: Promise<unknown>): Promise<void> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (gone) throw new Error(`the device exited before ${what}`);
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

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
  let mic: FifoMic | undefined;
  try {
    const raw = join(work, 'input.raw');
    const repeat = Math.max(0, Number(values.repeat) - 1);
    const fixture = join(root, 'test/fixtures/alexa-what-time.wav');
    execFileSync('sox', [fixture, '-t', 'raw', raw, 'repeat', String(repeat)]);
    const recording = readFileSync(raw);
    rmSync(raw);
    // The recording once, then silence until the daemon is stopped.
    mic = new FifoMic(work, Buffer.alloc(FifoMic.CHUNK));
    mic.play(recording);
    const audioSeconds = recording.length / 32_000;
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
    const ledger = join(work, 'ledger.jsonl');
    const settings = [
      'device.id=bench',
      `device.stateDir=${join(work, 'state')}`,
      `privacy.ledger=${ledger}`,
      'gpio.backend=simulated',
      'log.format=json',
      `cloud.url=${cloud.url}`,
      `cloud.ca=${certs.ca}`,
      `cloud.cert=${certs.cert}`,
      `cloud.key=${certs.key}`,
      ...(mqttUrl ? [`mqtt.url=${mqttUrl}`] : []),
    ];
    const args = [join(root, 'dist/cli/main.js'), 'run', ...settings.flatMap((s) => ['--set', s])];
    // The unit's environment and node flags (V8 and allocator settings), or none of
    // them with --bare.
    const unitEnv = values.bare ? {} : unitEnvironment(unit);
    const nodeFlags = values.bare ? [] : unitNodeFlags(unit);
    const device = spawn(process.execPath, [...nodeFlags, ...args], {
      env: {
        ...process.env,
        NODE_OPTIONS: '',
        ...unitEnv,
        ALSA_CONFIG_PATH: mic.alsaConfig,
        NOTIFY_SOCKET: '',
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    children.push(device);
    const log: Array<Record<string, unknown>> = [];
    createInterface({ input: device.stderr! }).on('line', (line) => {
      try {
        log.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
    const exited = new Promise<number | null>((r) => device.on('close', r));
    // A process that has exited but is not yet reaped has no memory figures: keep the
    // last sample that had them.
    let last: Sample | undefined;
    const timer = setInterval(() => {
      const s = sample(device.pid!);
      if (s && s.hwmKiB > 0) last = s;
    }, 100);
    // Speak once the microphone is open (the daemon has started), then let the last
    // request be answered and stop the daemon as systemd would.
    await until(() => log.some((l) => l.msg === READY_MESSAGE), 'the daemon to start', exited);
    mic.start();
    await sleep((audioSeconds + SETTLE_SECONDS) * 1000);
    device.kill('SIGTERM');
    const code = await exited;
    clearInterval(timer);
    await cloud.close();
    const wakes = log.filter((l) => l.msg === 'utterance opened' && l.trigger === 'wake').length;
    const uploads = readFileSync(ledger, 'utf8')
      .split('\n')
      .filter((l) => l !== '' && (JSON.parse(l) as { type?: string }).type === 'utterance').length;
    if (code !== 0 || !last) {
      const tail = log.slice(-20).map((l) => JSON.stringify(l));
      throw new Error(`the device exited with ${code}:\n${tail.join('\n')}`);
    }
    const ticks = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim());
    const result = {
      environment: unitEnv,
      nodeFlags,
      mqtt: mqttUrl !== undefined,
      audioSeconds,
      wakes,
      uploads,
      micDroppedBytes: mic.dropped,
      peakRssMiB: Math.round((last.hwmKiB / MIB) * 10) / 10,
      rssEndMiB: Math.round((last.rssKiB / MIB) * 10) / 10,
      cpuPerAudioSecond: Number((last.cpuTicks / ticks / audioSeconds).toFixed(4)),
      // The daemon's memory target with one keyword (README, "the daemon's memory").
      target: { peakRssMiB: 120 },
    };
    process.stdout.write(`${JSON.stringify(result, null, values.json ? 0 : 2)}\n`);
  } finally {
    mic?.close();
    for (const c of children) c.kill();
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`bench:daemon: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
