import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  arm64Required,
  findArm64Node,
  killArm64Runs,
  runArm64,
  type Arm64Node,
} from '../helpers/arm64-node.js';
import { cliPath, fixture, tempDir } from '../helpers/paths.js';
import { ofType, runSimulate, type SimLine } from '../helpers/simulate.js';

// A Raspberry Pi runs arm64. Here the whole pipeline (openWakeWord on onnxruntime-node's
// arm64 binary, the state machine, the uploader, the ledger) runs on an arm64 Node.js
// under QEMU user-mode emulation, and must see exactly what the native x86 run sees.
// Emulation is about 40 times slower, so the fixture is cut to 4 s: 2 s of lead-in for
// the detector's warm-up, "Alexa" at 2.0-2.6 s, then the start of the request.
// Native modules compiled for x86 at install time (speaker, onoff's epoll) cannot load
// on arm64, so the run also proves they are only loaded when configured.
// The emulated run took one to four minutes on two cores, and 12 on a slower host while
// the rest of the suite shared it: hence the generous bound. It stays in the main run. Without QEMU, the arm64 libraries
// or the npm registry it is skipped (EARSHOT_REQUIRE_ARM64=1 makes that a failure).

const ARM64_RUN_MS = 18 * 60_000;
const tmp = tempDir('earshot-arm64-');
let arm: Arm64Node | undefined;
let missing: string | undefined;
let wav = '';

// The playback sink "null" is quoted: --set parses its value as YAML, where a bare
// null is no string.
const args = (ledger: string): string[] => [
  '--wav',
  wav,
  '--ledger',
  ledger,
  '--set',
  'gpio.backend=simulated',
  '--set',
  'audio.playback.sink="null"',
];

beforeAll(() => {
  wav = join(tmp.dir, 'alexa-4s.wav');
  execFileSync('sox', [fixture('alexa-what-time.wav'), wav, 'trim', '0', '4']);
  const found = findArm64Node();
  if ('missing' in found) missing = found.missing;
  else arm = found;
}, 11 * 60_000);

afterAll(() => {
  killArm64Runs();
  tmp.cleanup();
});

function need(skip: (note?: string) => void): Arm64Node {
  if (arm) return arm;
  const why = `arm64 emulation unavailable: ${missing ?? 'unknown'}`;
  if (arm64Required) throw new Error(`${why} (EARSHOT_REQUIRE_ARM64=1)`);
  process.stdout.write(`skipped: ${why}\n`);
  skip(why);
  throw new Error('unreachable');
}

/** What must be identical on both processors. */
function essentials(lines: SimLine[]): Record<string, unknown> {
  const pick = (l: SimLine, keys: string[]): Record<string, unknown> =>
    Object.fromEntries(keys.map((k) => [k, l[k]]));
  const summary = ofType(lines, 'summary')[0];
  return {
    wakes: ofType(lines, 'wake').map((w) => pick(w, ['keyword', 'frame', 't', 'accepted'])),
    uploads: ofType(lines, 'upload').map((u) =>
      pick(u, [
        'audioStartT',
        'audioEndT',
        'bytes',
        'sha256',
        'preRollMs',
        'reason',
        'outcome',
        'trigger',
      ]),
    ),
    states: ofType(lines, 'state').map((s) => s.state),
    summary:
      summary && pick(summary, ['frames', 'wakes', 'uploads', 'droppedFrames', 'finalState']),
  };
}

describe('earshot on arm64 (QEMU user-mode emulation)', () => {
  it('runs an arm64 Node.js that cannot load the x86 native addons', async ({ skip }) => {
    const a = need(skip);
    const arch = await runArm64(a, ['-p', 'process.arch'], { timeoutMs: 120_000 });
    expect(arch.stdout.trim(), arch.stderr).toBe('arm64');
    // The premise of the next test: an eager import of `speaker` would end the run.
    const speaker = await runArm64(a, ['-e', "require('speaker')"], { timeoutMs: 120_000 });
    expect(speaker.code).not.toBe(0);
    expect(speaker.stderr).toMatch(/binding|\.node|Cannot find module/);
  }, 300_000);

  it(
    'simulate --json on arm64 gives the same wake and upload as on x86',
    async ({ skip }) => {
      const a = need(skip);
      const native = await runSimulate(args(join(tmp.dir, 'x86.jsonl')));
      expect(native.code, native.stderr).toBe(0);
      const expected = essentials(native.lines);
      // Not a comparison of two empty runs: the x86 run did wake and upload.
      expect(expected.wakes).toHaveLength(1);
      expect(expected.uploads).toHaveLength(1);

      const run = await runArm64(
        a,
        [cliPath, 'simulate', '--json', ...args(join(tmp.dir, 'arm64.jsonl'))],
        { timeoutMs: ARM64_RUN_MS },
      );
      const detail = `exit ${run.code ?? run.signal} after ${run.wallMs} ms\n${run.stderr}`;
      expect(run.code, detail).toBe(0);
      const lines = run.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as SimLine);
      expect(essentials(lines), detail).toEqual(expected);
      // The detector's score may differ in the last digits between SIMD back ends.
      const [w86] = ofType(native.lines, 'wake');
      const [warm] = ofType(lines, 'wake');
      expect(warm!.score as number).toBeCloseTo(w86!.score as number, 2);
      process.stdout.write(
        `arm64 simulate: ${run.wallMs} ms under QEMU (x86: ${String(ofType(native.lines, 'summary')[0]!.wallMs)} ms of pipeline)\n`,
      );
    },
    ARM64_RUN_MS + 60_000,
  );
});
