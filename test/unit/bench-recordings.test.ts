import { mkdirSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  MAX_FILE_BYTES,
  MAX_LABELS_BYTES,
  MIN_TAIL_SECONDS,
  openRecordings,
  parseLabels,
  recordedRequest,
  speechLevel,
} from '../../src/bench/endpoint/recordings.js';
import { withNoise } from '../../src/bench/endpoint/requests.js';
import { FRAME_SAMPLES, SAMPLE_RATE } from '../../src/shared/audio-format.js';
import { LEAD_FRAMES } from '../../src/bench/wake/streams.js';
import { tempDir } from '../helpers/paths.js';

// Recorded requests for bench:vad: the labels people write are checked by name, and a
// recording is laid out where its labels say, behind the same lead as a generated one.
const tone = (seconds: number, rms: number): Int16Array =>
  Int16Array.from({ length: Math.round(seconds * SAMPLE_RATE) }, (_, i) =>
    Math.round(rms * Math.SQRT2 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE)),
  );
const silence = (seconds: number): Int16Array => new Int16Array(Math.round(seconds * SAMPLE_RATE));
const concat = (...parts: Int16Array[]): Int16Array => {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

describe('bench:vad recordings: labels.json', () => {
  it('reads a list of files with where the command begins and its last word ends', () => {
    expect(parseLabels('[{"file":"a.wav","commandStart":1.5,"lastWordEnd":3.25}]')).toEqual([
      { file: 'a.wav', commandStart: 1.5, lastWordEnd: 3.25 },
    ]);
  });

  it.each([
    ['not JSON', '[{', /not JSON/],
    ['an empty list', '[]', /the list: no recordings listed/],
    ['a missing key, by name', '[{"file":"a.wav","commandStart":1}]', /\[0\]\.\[lastWordEnd\]/],
    [
      'a last word before the command',
      '[{"file":"a.wav","commandStart":2,"lastWordEnd":1}]',
      /\[0\]\.\[lastWordEnd\]: lastWordEnd must be after commandStart/,
    ],
    [
      'a path instead of a name',
      '[{"file":"../x.wav","commandStart":1,"lastWordEnd":2}]',
      /\[0\]\.\[file\]: a file name in the same folder/,
    ],
    [
      'a negative time',
      '[{"file":"a.wav","commandStart":-1,"lastWordEnd":2}]',
      /\[0\]\.\[commandStart\]/,
    ],
    [
      'an unknown key (a typo)',
      '[{"file":"a.wav","commandStart":1,"lastWordEnd":2,"lastwordend":3}]',
      /\[0\]: .*lastwordend/,
    ],
    [
      'a file labelled twice',
      '[{"file":"a.wav","commandStart":1,"lastWordEnd":2},{"file":"a.wav","commandStart":1,"lastWordEnd":2}]',
      /a\.wav is labelled twice/,
    ],
  ])('refuses %s, naming it', (_name, text, message) => {
    expect(() => parseLabels(text, 'labels.json')).toThrow(message);
    try {
      parseLabels(text);
    } catch (err) {
      expect((err as { code: string }).code).toBe('E_BENCH_LABELS');
    }
  });
});

describe('bench:vad recordings: a recording as a request', () => {
  // "Wake word", a pause, two words with a 0.3 s pause between them, then the room.
  const recording = concat(
    silence(0.5),
    tone(0.6, 3000),
    silence(1),
    tone(0.5, 2000),
    silence(0.3),
    tone(0.4, 2000),
    silence(MIN_TAIL_SECONDS + 0.2),
  );
  const label = { file: 'r.wav', commandStart: 2.1, lastWordEnd: 3.3 };

  it('is laid out where its labels say, behind the lead, with its pauses and level', () => {
    const request = recordedRequest(label, recording, 0);
    const lead = LEAD_FRAMES * FRAME_SAMPLES;
    expect(request.id).toBe('r.wav');
    expect(request.clean.length).toBe(lead + recording.length);
    expect(Array.from(request.clean.subarray(lead, lead + 100))).toEqual(
      Array.from(recording.subarray(0, 100)),
    );
    expect(request.layout.commandStart).toBe(lead + 2.1 * SAMPLE_RATE);
    expect(request.layout.lastWordEnd).toBe(lead + 3.3 * SAMPLE_RATE);
    expect(request.layout.innerPausesMs).toEqual([300]);
    // The words' level (2000 RMS), not lowered by the pause between them.
    expect(request.speechRms).toBeGreaterThan(1900);
    expect(request.speechRms).toBeLessThan(2100);
  });

  it('gets noise at the SNR asked for, relative to its speech', () => {
    const request = recordedRequest(label, recording, 0);
    const noisy = withNoise(request, 10);
    const tail = request.layout.lastWordEnd + SAMPLE_RATE * 0.2;
    let sum = 0;
    for (let i = tail; i < tail + SAMPLE_RATE; i++) sum += noisy[i]! ** 2;
    const noiseRms = Math.sqrt(sum / SAMPLE_RATE);
    expect(20 * Math.log10(request.speechRms / noiseRms)).toBeCloseTo(10, 0);
  });

  it('refuses a recording that stops too soon after the last word, naming it', () => {
    const short = recording.subarray(0, Math.round((3.3 + 1) * SAMPLE_RATE));
    expect(() => recordedRequest(label, short, 0)).toThrow(
      /r\.wav: lastWordEnd 3\.3 s leaves 1\.00 s of room; at least 1\.5 s/,
    );
  });

  it('refuses labels around silence', () => {
    expect(() =>
      recordedRequest({ file: 's.wav', commandStart: 0.1, lastWordEnd: 0.4 }, silence(3), 0),
    ).toThrow(/s\.wav: no speech between/);
  });

  it('measures the level of speech over its words only', () => {
    expect(speechLevel(concat(tone(0.5, 1000), silence(1), tone(0.5, 1000)))).toBeCloseTo(1000, -1);
    expect(speechLevel(silence(1))).toBeUndefined();
  });
});

describe('bench:vad recordings: the folder', () => {
  const tmp = tempDir('earshot-rec-');
  afterAll(() => tmp.cleanup());
  const folder = (name: string, labels: string, files: Record<string, number> = {}): string => {
    const dir = join(tmp.dir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, 'labels.json'), labels);
    for (const [file, bytes] of Object.entries(files)) {
      writeFileSync(join(dir, file), '');
      truncateSync(join(dir, file), bytes);
    }
    return dir;
  };
  const one = (file: string): string => JSON.stringify([{ file, commandStart: 1, lastWordEnd: 2 }]);

  it('checks every labelled file before reading any', async () => {
    const dir = folder('ok', one('a.wav'), { 'a.wav': 1000 });
    await expect(openRecordings(dir)).resolves.toMatchObject({ labels: [{ file: 'a.wav' }] });
  });

  it('names a labelled file that is not there', async () => {
    const dir = folder('missing', one('gone.wav'));
    await expect(openRecordings(dir)).rejects.toThrow(/gone\.wav is not a file in/);
  });

  it('refuses a file too large to be one request, before decoding it', async () => {
    const dir = folder('large', one('hour.wav'), { 'hour.wav': MAX_FILE_BYTES + 1 });
    await expect(openRecordings(dir)).rejects.toThrow(/hour\.wav: 64\.0 MiB, more than 64 MiB/);
  });

  it('refuses a labels.json too large to be a list of requests, before reading it', async () => {
    const dir = folder('huge-labels', one('a.wav'), { 'a.wav': 1000 });
    truncateSync(join(dir, 'labels.json'), MAX_LABELS_BYTES + 1);
    await expect(openRecordings(dir)).rejects.toThrow(/labels\.json: 1048577 bytes, more than/);
  });

  it('says where labels.json should be when there is none', async () => {
    await expect(openRecordings(join(tmp.dir, 'nowhere'))).rejects.toThrow(
      /cannot read .*labels\.json: ENOENT/,
    );
  });
});
