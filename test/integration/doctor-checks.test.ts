import { execFileSync, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  cpSync,
  existsSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { frameDbfs } from '../../src/audio/energy-vad.js';
import { fixture, repoRoot, tempDir } from '../helpers/paths.js';
import {
  cleanEnv,
  requiredFailed,
  runCli,
  runDoctor,
  soundCard,
  writeConfig,
  type DoctorRun,
} from '../helpers/run-cli.js';

// `earshot doctor` as a process, on this machine as it is: the microphone is the real
// `arecord` reading a file through an ALSA file PCM, the speaker the real `aplay`
// writing into one, the wake engine the real openWakeWord models. No cloud here (see
// doctor-cloud.test.ts), so doctor always ends with exit 1 in this file.
const tmp = tempDir('earshot-doctor-');
let noiseRaw = '';
let noiseCard = '';
let baseline: DoctorRun;

const base = (patch: Record<string, unknown> = {}): Record<string, unknown> => ({
  device: { id: 'doctor-test', stateDir: join(tmp.dir, 'state') },
  gpio: { backend: 'simulated' },
  ...patch,
});

function doctor(
  name: string,
  tree: Record<string, unknown>,
  card = noiseCard,
  extra: string[] = [],
): Promise<DoctorRun> {
  const config = writeConfig(tmp.dir, `${name}.yaml`, tree);
  return runDoctor(['--config', config, ...extra], {
    env: cleanEnv({ ALSA_CONFIG_PATH: card }),
  });
}

beforeAll(async () => {
  noiseRaw = join(tmp.dir, 'noise.raw');
  execFileSync('sox', [fixture('noise.wav'), '-t', 'raw', noiseRaw]);
  noiseCard = soundCard(tmp.dir, 'noise', { infile: noiseRaw });
  baseline = await doctor('baseline', base());
}, 60_000);
afterAll(() => tmp.cleanup());

describe('earshot doctor: microphone', { timeout: 90_000 }, () => {
  it('records one second and reports its real level', () => {
    const mic = baseline.check('microphone');
    expect(mic.status, mic.detail).toBe('pass');
    expect(mic.required).toBe(true);
    const raw = readFileSync(noiseRaw);
    const first = new Int16Array(raw.buffer, raw.byteOffset, 16000);
    const m = /recorded 1 s, level (-?\d+\.\d) dBFS/.exec(mic.detail);
    expect(m, mic.detail).not.toBeNull();
    expect(Number(m![1])).toBeCloseTo(frameDbfs(first), 0);
    expect(Number(m![1])).toBeGreaterThan(-90); // not the digital-silence floor (-96)
  });

  it('warns about digital silence (a /dev/zero microphone)', async () => {
    const zero = soundCard(tmp.dir, 'zero', { infile: '/dev/zero' });
    const run = await doctor('zero', base(), zero);
    const mic = run.check('microphone');
    expect(mic.status).toBe('warn');
    expect(mic.detail).toMatch(/-96\.0 dBFS \(digital silence: is the mic connected\?\)/);
  });

  it('fails on a capture device that does not exist, with a hint', async () => {
    const run = await doctor(
      'bad-mic',
      base({ audio: { capture: { device: 'earshot_no_such_pcm' } } }),
    );
    const mic = run.check('microphone');
    expect(mic.status).toBe('fail');
    expect(mic.detail).toMatch(/^earshot_no_such_pcm: .*audio open error/);
    expect(mic.hint).toMatch(/arecord -L/);
    expect(run.code).toBe(1);
  });
});

describe('earshot doctor: speaker', { timeout: 90_000 }, () => {
  it('opens the playback device without playing anything', () => {
    const speaker = baseline.check('speaker');
    expect(speaker.status, speaker.detail).toBe('pass');
    expect(speaker.detail).toMatch(/nothing played/);
  });

  it('fails on a playback device that does not exist (and does not crash)', async () => {
    const run = await doctor(
      'bad-speaker',
      base({ audio: { playback: { device: 'earshot_no_such_pcm' } } }),
    );
    const speaker = run.check('speaker');
    expect(speaker.status).toBe('fail');
    expect(speaker.detail).toMatch(/^earshot_no_such_pcm: .*audio open error/);
    expect(speaker.hint).toMatch(/aplay -L/);
  });
});

describe('earshot doctor: wake word', { timeout: 90_000 }, () => {
  it('loads openWakeWord and names its license', () => {
    const wake = baseline.check('wake word');
    expect(wake.status, wake.detail).toBe('pass');
    expect(wake.detail).toMatch(/^openwakeword loaded in \d+ ms, keywords: alexa/);
    expect(wake.detail).toMatch(/CC BY-NC-SA 4\.0 \(non-commercial\)/);
  });

  it('fails when a keyword model cannot be loaded', async () => {
    const model = join(tmp.dir, 'missing-model.onnx');
    const run = await doctor(
      'bad-model',
      base({ wake: { keywords: [{ name: 'computer', model }] } }),
    );
    const wake = run.check('wake word');
    expect(wake.status).toBe('fail');
    expect(wake.detail).toContain('missing-model');
    expect(run.code).toBe(1);
  });

  it('warns, naming each model, when the install’s ORT files were made by another onnxruntime', async () => {
    // A copy of the built tree whose manifest says another onnxruntime made its ORT files
    // (as after an upgrade without `npm run build`): the models still open, from .onnx.
    const install = join(tmp.dir, 'stale-install');
    cpSync(join(repoRoot, 'dist'), join(install, 'dist'), { recursive: true });
    for (const shared of ['node_modules', 'hardware', 'models', 'scripts']) {
      symlinkSync(join(repoRoot, shared), join(install, shared));
    }
    copyFileSync(join(repoRoot, 'package.json'), join(install, 'package.json'));
    const manifest = join(install, 'dist', 'ort-models', 'manifest.json');
    const stale = JSON.parse(readFileSync(manifest, 'utf8')) as { onnxruntime: string };
    writeFileSync(manifest, JSON.stringify({ ...stale, onnxruntime: '0.0.1' }));
    const config = writeConfig(tmp.dir, 'stale.yaml', base());
    const run = await runDoctor(['--config', config], {
      cli: join(install, 'dist', 'cli', 'main.js'),
      env: cleanEnv({ ALSA_CONFIG_PATH: noiseCard }),
    });
    const wake = run.check('wake word');
    expect(wake.status).toBe('warn');
    expect(wake.detail).toMatch(/opened from \.onnx instead of the ORT files/);
    expect(wake.detail).toMatch(/alexa[^,]*\.onnx \(converted by onnxruntime 0\.0\.1, running \d/);
    expect(wake.detail).toMatch(/CC BY-NC-SA 4\.0/);
    expect(wake.hint).toMatch(/npm run build/);
  });
});

describe('earshot doctor: GPIO', { timeout: 90_000 }, () => {
  it('warns when the pins are simulated', () => {
    const gpio = baseline.check('gpio');
    expect(gpio.status).toBe('warn');
    expect(gpio.detail).toMatch(/simulated pins/);
    expect(gpio.hint).toMatch(/gpio\.backend: onoff/);
  });

  it.skipIf(existsSync('/sys/class/gpio/export'))(
    'fails clearly with the onoff backend on a machine without GPIO',
    async () => {
      const run = await doctor('onoff', base({ gpio: { backend: 'onoff' } }));
      const gpio = run.check('gpio');
      expect(gpio.status).toBe('fail');
      expect(gpio.required).toBe(true);
      expect(gpio.detail).toMatch(/^board generic: .*\/sys\/class\/gpio/);
      expect(gpio.hint).toMatch(/gpio\.backend: simulated/);
      expect(run.code).toBe(1);
    },
  );
});

const tmpfsUnavailable = ((): string | undefined => {
  if (process.getuid?.() !== 0) return 'needs root for unshare -m and mount -t tmpfs';
  const probe = spawnSync('unshare', ['-m', '--propagation', 'private', 'true']);
  return probe.status === 0 ? undefined : 'unshare -m does not work here';
})();

describe('earshot doctor: ledger space', { timeout: 90_000 }, () => {
  it('checks the nearest existing directory when the state directory is not there yet', () => {
    const ledger = baseline.check('ledger space');
    expect(ledger.status).toBe('pass');
    expect(ledger.detail).toMatch(
      new RegExp(`^\\d+ MiB free for ${join(tmp.dir, 'state', 'ledger.jsonl')}$`),
    );
  });

  it.skipIf(tmpfsUnavailable)('fails on a nearly full file system', async () => {
    // A 1 MiB tmpfs, mounted in a private mount namespace only doctor sees.
    const small = join(tmp.dir, 'small');
    execFileSync('mkdir', ['-p', small]);
    const config = writeConfig(
      tmp.dir,
      'small.yaml',
      base({ privacy: { ledger: join(small, 'ledger.jsonl') } }),
    );
    const wrap = [
      'unshare',
      '-m',
      '--propagation',
      'private',
      'sh',
      '-c',
      'mount -t tmpfs -o size=1m earshot-small "$0" && exec "$@"',
      small,
    ];
    const r = await runCli(['doctor', '--json', '--config', config], {
      env: cleanEnv({ ALSA_CONFIG_PATH: noiseCard }),
      wrap,
    });
    const report = JSON.parse(r.stdout) as DoctorRun;
    const ledger = report.checks.find((c) => c.name === 'ledger space')!;
    expect(ledger.status, r.stderr).toBe('fail');
    expect(ledger.detail).toMatch(/^only 1\.0 MiB free for .*small\/ledger\.jsonl$/);
    expect(ledger.hint).toMatch(/free disk space/);
    expect(r.code).toBe(1);
  });
});

describe('earshot doctor: the report', { timeout: 90_000 }, () => {
  it('lists every check once, in order, and exits 1 because a required one failed', () => {
    expect(baseline.checks.map((c) => c.name)).toEqual([
      'node',
      'board',
      'microphone',
      'speaker',
      'wake word',
      'gpio',
      'certificates',
      'cloud',
      'mqtt',
      'dashboard',
      'clock',
      'ledger space',
      'systemd unit',
    ]);
    // No cloud is configured in this file: a required check that fails.
    expect(baseline.check('cloud')).toMatchObject({
      status: 'fail',
      detail: 'cloud.url is not set',
    });
    expect(baseline.check('mqtt')).toMatchObject({ status: 'skip', required: false });
    expect(baseline.ok).toBe(false);
    expect(requiredFailed(baseline.checks)).toBe(true);
    expect(baseline.code).toBe(1);
  });

  it('prints one line per check with hints, and a verdict, without --json', async () => {
    const config = writeConfig(tmp.dir, 'human.yaml', base());
    const r = await runCli(['doctor', '--config', config], {
      env: cleanEnv({ ALSA_CONFIG_PATH: noiseCard }),
    });
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/^ok {2}\s+microphone\s+default: recorded 1 s/m);
    expect(r.stdout).toMatch(/^warn\s+gpio\s+board generic: simulated pins/m);
    expect(r.stdout).toMatch(/^\s+hint: set gpio\.backend: onoff on a Pi$/m);
    expect(r.stdout).toMatch(/^FAIL\s+cloud\s+cloud\.url is not set$/m);
    expect(r.stdout.trimEnd().split('\n').pop()).toBe('some required checks FAILED');
  });
});
