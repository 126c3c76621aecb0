#!/usr/bin/env node
// A negative set for the wake word that sounds like a living room: hours of continuous
// read-aloud prose (every espeak-ng voice and variant, every flite voice) at several
// levels, some of it over pink noise or music, plus music-like material and steady room
// noise. Made only from what Debian ships, the same on every run (seeded choices, no
// network), into a cache folder; nothing of it is committed.
//
//   nice -n 10 node scripts/make-living-room-negatives.mjs [--out DIR] [--hours H]
//
// Split for honest figures: every voice and every text belongs to `tune` or to
// `heldout` (by a hash of its name, one in four held out), and a file holds only the
// voices and texts of its own part; music and noise are split by their seeds. Tune
// thresholds on `tune/`, report on `heldout/`. `manifest.json` lists what each file
// holds. Needs espeak-ng, flite, sox and man (scripts/setup.sh installs them).
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gunzipSync } from 'node:zlib';

const { values } = parseArgs({
  options: {
    out: { type: 'string', default: join(process.env.HOME ?? '/tmp', '.cache/earshot/negatives') },
    hours: { type: 'string', default: '17' },
    'file-seconds': { type: 'string', default: '600' },
  },
});
const OUT = values.out;
const TOTAL_SECONDS = Number(values.hours) * 3600;
/** Shares of the total: read-aloud speech, speech over music, music alone, room noise. */
const SHARE = { speech: 0.7, speechOverMusic: 0.08, music: 0.12, noise: 0.1 };
const FILE_SECONDS = Number(values['file-seconds']);
const RATE = 16000;

/** mulberry32, as the benchmark's noise: uniform in [0, 1). */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const hash = (s) => createHash('sha256').update(s).digest().readUInt32BE(0);
const part = (name) => (hash(name) % 4 === 0 ? 'heldout' : 'tune');
const run = (cmd, args, input) =>
  execFileSync(cmd, args, { input, stdio: ['pipe', 'pipe', 'ignore'], maxBuffer: 1 << 28 });

// ---- texts: licences, package READMEs, manual pages -------------------------------------

/** man's overstrike (a character, a backspace, the character again): bold text. */
const OVERSTRIKE = new RegExp(`${String.fromCharCode(8)}.`, 'g');

function cleanProse(raw) {
  return raw
    .replace(OVERSTRIKE, '')
    .replace(/https?:\/\/\S+/g, ' ')
    .split('\n')
    .filter((l) => {
      const letters = (l.match(/[A-Za-z]/g) ?? []).length;
      return letters >= 20 && letters / l.length > 0.6; // prose, not tables or code
    })
    .join(' ')
    .replace(/[^A-Za-z0-9.,;:!?'"()\- ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

function readMaybeGz(path) {
  const buf = readFileSync(path);
  return (path.endsWith('.gz') ? gunzipSync(buf) : buf).toString('utf8');
}

function texts() {
  const found = [];
  const licences = '/usr/share/common-licenses';
  for (const f of readdirSync(licences).sort()) {
    const p = join(licences, f);
    found.push({ name: `licence:${f}`, text: cleanProse(readMaybeGz(p)) });
  }
  for (const pkg of readdirSync('/usr/share/doc').sort()) {
    let files;
    try {
      files = readdirSync(join('/usr/share/doc', pkg));
    } catch {
      continue;
    }
    for (const f of files.sort()) {
      if (!/^(README|NEWS|FAQ)/i.test(f) || !/(\.gz|\.md|\.txt|^[A-Z.]+)$/.test(f)) continue;
      try {
        found.push({
          name: `doc:${pkg}/${f}`,
          text: cleanProse(readMaybeGz(join('/usr/share/doc', pkg, f))),
        });
      } catch {
        // not a readable text
      }
    }
  }
  const pages = readdirSync('/usr/share/man/man1')
    .filter((f) => f.endsWith('.1.gz'))
    .sort()
    .filter((f) => hash(f) % 150 === 0); // a fixed, varied sample of the section
  for (const f of pages) {
    try {
      const text = run('man', ['-P', 'cat', join('/usr/share/man/man1', f)]).toString('utf8');
      found.push({ name: `man:${f}`, text: cleanProse(text) });
    } catch {
      // a page man cannot render
    }
  }
  return found.filter((t) => t.text.length > 600);
}

/** Cuts a text into passages of about 1200 characters at sentence ends. */
function passages(text) {
  const out = [];
  let at = 0;
  while (at < text.length - 300) {
    let end = Math.min(text.length, at + 1200);
    const stop = text.indexOf('. ', end);
    if (stop !== -1 && stop - end < 300) end = stop + 1;
    out.push(text.slice(at, end).trim());
    at = end;
  }
  return out;
}

// ---- voices --------------------------------------------------------------------------------

function voices() {
  const list = [];
  const rows = run('espeak-ng', ['--voices']).toString('utf8').split('\n').slice(1);
  const variants = run('espeak-ng', ['--voices=variant'])
    .toString('utf8')
    .split('\n')
    .slice(1)
    .map((l) => l.trim().split(/\s+/)[4])
    .filter((f) => f?.startsWith('!v/'))
    .map((f) => f.slice(3))
    .sort();
  const languages = rows
    .map((l) => l.trim().split(/\s+/)[1])
    .filter(Boolean)
    .sort();
  // Every language's voice, and every variant over an English voice: accents, ages, sexes.
  // A voice whose language data is missing fails on any text: left out.
  const speaks = (name) => {
    try {
      run('espeak-ng', ['-v', name, '-q', 'hello']);
      return true;
    } catch {
      return false;
    }
  };
  for (const lang of languages.filter(speaks))
    list.push({ engine: 'espeak-ng', voice: lang, variant: '' });
  const english = languages.filter((l) => l.startsWith('en'));
  variants.forEach((v, i) =>
    list.push({ engine: 'espeak-ng', voice: english[i % english.length], variant: v }),
  );
  const flite = run('flite', ['-lv'])
    .toString('utf8')
    .replace('Voices available:', '')
    .trim()
    .split(/\s+/)
    .sort();
  // flite's voices are few: each reads as often as the espeak-ng voices together.
  for (const v of flite)
    for (let k = 0; k < 12; k++) list.push({ engine: 'flite', voice: v, variant: '', k });
  return list.map((v) => ({
    ...v,
    id: `${v.engine}:${v.voice}${v.variant ? `+${v.variant}` : ''}`,
  }));
}

function speak(v, text, wav, rnd) {
  if (v.engine === 'flite') {
    const stretch = (0.85 + rnd() * 0.35).toFixed(2);
    run('flite', [
      '-voice',
      v.voice,
      '--setf',
      `duration_stretch=${stretch}`,
      '-t',
      text,
      '-o',
      wav,
    ]);
  } else {
    const speed = String(140 + Math.floor(rnd() * 60));
    const pitch = String(25 + Math.floor(rnd() * 50));
    const name = v.variant ? `${v.voice}+${v.variant}` : v.voice;
    run('espeak-ng', ['-v', name, '-s', speed, '-p', pitch, '-w', wav, text]);
  }
}

// ---- building files ------------------------------------------------------------------------

const tmp = join(OUT, '.tmp');
function fresh() {
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
}

/** Seconds of a sound file. */
const seconds = (f) => Number(run('soxi', ['-D', f]).toString().trim());

/**
 * Concatenates read passages into one file of about FILE_SECONDS, with pauses and a
 * level per passage (-32 to -12 dBFS peak), optionally mixed with noise or music.
 */
function speechFile(outFile, jobs, bed, rnd) {
  fresh();
  const pieces = [];
  for (const [i, job] of jobs.entries()) {
    const raw = join(tmp, `r${i}.wav`);
    const piece = join(tmp, `p${i}.wav`);
    const gain = (-32 + rnd() * 20).toFixed(1);
    const pause = (0.3 + rnd() * 2.5).toFixed(2);
    try {
      speak(job.voice, job.text, raw, rnd);
      run('sox', [
        raw,
        '-r',
        String(RATE),
        '-c',
        '1',
        '-b',
        '16',
        piece,
        'norm',
        gain,
        'pad',
        '0',
        pause,
      ]);
    } catch {
      continue; // a voice that says nothing for this text (no audio to normalise)
    }
    pieces.push(piece);
  }
  const joined = join(tmp, 'joined.wav');
  run('sox', [...pieces, joined]);
  if (!bed) {
    run('sox', [joined, outFile]);
    return;
  }
  const len = seconds(joined);
  const noise = join(tmp, 'bed.wav');
  bed(noise, len, rnd);
  run('sox', ['-m', joined, noise, outFile]);
}

/** Pink noise at a level that gives about `snr` dB against speech normalised near -22 dBFS. */
function pinkBed(snr) {
  return (file, len, rnd) => {
    const level = (-22 - snr - 3).toFixed(1);
    run('sox', [
      '-n',
      '-r',
      String(RATE),
      '-c',
      '1',
      '-b',
      '16',
      file,
      'synth',
      String(len),
      'pinknoise',
      `${Math.floor(rnd() * 1000)}`,
      'norm',
      level,
    ]);
  };
}

/** Music-like material: seeded melodies of plucked and synthetic notes over a drone. */
function musicWav(file, len, rnd, levelDb) {
  const scale = [0, 2, 4, 5, 7, 9, 11, 12];
  const base = 196 * 2 ** Math.floor(rnd() * 3 - 1);
  const parts = [];
  let t = 0;
  let i = 0;
  const dir = join(tmp, `m${Math.floor(rnd() * 1e9)}`);
  mkdirSync(dir, { recursive: true });
  // Notes in chunks of 60, each chunk one sox call; then concatenated.
  while (t < len) {
    const notes = [];
    for (let n = 0; n < 60 && t < len; n++) {
      const d = [0.15, 0.25, 0.375, 0.5, 0.75][Math.floor(rnd() * 5)];
      const f = (base * 2 ** (scale[Math.floor(rnd() * scale.length)] / 12)).toFixed(1);
      const f2 = (Number(f) * 1.5).toFixed(1);
      const kind = ['pluck', 'sine', 'triangle', 'square'][Math.floor(rnd() * 4)];
      const note = join(dir, `n${i++}.wav`);
      run('sox', [
        '-n',
        '-r',
        String(RATE),
        '-c',
        '1',
        '-b',
        '16',
        note,
        'synth',
        String(d),
        kind,
        f,
        kind,
        f2,
        'remix',
        '-',
        'fade',
        '0.01',
        String(d),
        '0.05',
      ]);
      notes.push(note);
      t += d;
    }
    const chunk = join(dir, `c${parts.length}.wav`);
    run('sox', [...notes, chunk]);
    for (const n of notes) rmSync(n);
    parts.push(chunk);
  }
  const melody = join(dir, 'melody.wav');
  run('sox', [...parts, melody]);
  run('sox', [melody, file, 'trim', '0', String(len), 'reverb', '40', 'norm', String(levelDb)]);
  rmSync(dir, { recursive: true, force: true });
}

/**
 * A long piece: a two-minute melody, then the same played at other speeds (another key
 * and tempo each time), end to end. Notes are one sox call each; this keeps an hour of
 * music to minutes of work.
 */
function musicPiece(file, len, rnd, levelDb) {
  const base = join(tmp, 'piece.wav');
  musicWav(base, Math.min(len, 120), rnd, levelDb);
  const parts = [];
  for (let t = 0, k = 0; t < len; k++) {
    const speed = (0.8 + rnd() * 0.45).toFixed(3);
    const part = join(tmp, `piece${k}.wav`);
    run('sox', [base, part, 'speed', speed, 'rate', String(RATE)]);
    parts.push(part);
    t += 120 / Number(speed);
  }
  run('sox', [...parts, file, 'trim', '0', String(len)]);
}

function musicBed(file, len, rnd) {
  musicWav(file, len, rnd, -30 + rnd() * 8);
}

/** Steady room noise: pink, brown or white noise, a mains hum, a fan; several levels. */
function noiseWav(file, len, rnd) {
  const level = (-60 + rnd() * 35).toFixed(1);
  const kind = ['pinknoise', 'brownnoise', 'whitenoise', 'hum', 'fan'][Math.floor(rnd() * 5)];
  const args = ['-n', '-r', String(RATE), '-c', '1', '-b', '16', file, 'synth', String(len)];
  if (kind === 'hum') args.push('sine', '50', 'sine', '100', 'brownnoise', 'remix', '-');
  else if (kind === 'fan') args.push('brownnoise', 'pinknoise', 'remix', '-', 'tremolo', '7', '20');
  else args.push(kind);
  run('sox', [...args, 'norm', level]);
  return { kind, level: Number(level) };
}

// ---- main ----------------------------------------------------------------------------------

function main() {
  mkdirSync(OUT, { recursive: true });
  const manifestPath = join(OUT, 'manifest.json');
  const manifest = existsSync(manifestPath)
    ? JSON.parse(readFileSync(manifestPath, 'utf8'))
    : { files: {} };
  const save = () => writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 1)}\n`);
  // Rendering manual pages takes a while: the texts are kept beside the audio.
  const textsPath = join(OUT, 'texts.json');
  const allTexts = existsSync(textsPath) ? JSON.parse(readFileSync(textsPath, 'utf8')) : texts();
  writeFileSync(textsPath, JSON.stringify(allTexts));
  const allVoices = voices();
  const byPart = { tune: { voices: [], passages: [] }, heldout: { voices: [], passages: [] } };
  for (const v of allVoices) byPart[part(v.id)].voices.push(v);
  for (const t of allTexts) {
    for (const [i, p] of passages(t.text).entries())
      byPart[part(t.name)].passages.push({ name: `${t.name}#${i}`, text: p });
  }
  // Passages in a seeded order, so that one file reads from many texts.
  for (const p of Object.values(byPart)) p.passages.sort((a, b) => hash(a.name) - hash(b.name));
  manifest.texts = allTexts.length;
  manifest.voices = allVoices.length;
  console.error(
    `texts ${allTexts.length} (tune ${byPart.tune.passages.length} passages, held out ${byPart.heldout.passages.length}); voices ${allVoices.length} (tune ${byPart.tune.voices.length}, held out ${byPart.heldout.voices.length})`,
  );

  const plan = [];
  const addFiles = (kind, share) => {
    const n = Math.max(2, Math.round((TOTAL_SECONDS * share) / FILE_SECONDS));
    for (let i = 0; i < n; i++)
      plan.push({ kind, i, part: hash(`${kind}${i}`) % 4 === 0 ? 'heldout' : 'tune' });
  };
  addFiles('speech', SHARE.speech);
  addFiles('speechOverMusic', SHARE.speechOverMusic);
  addFiles('music', SHARE.music);
  addFiles('noise', SHARE.noise);
  // Speech over music reads from the middle of the pools: asking for more hours adds
  // files to each kind without changing the ones already made.
  const half = (part, what) => Math.floor(byPart[part][what].length / 2);
  const cursors = {
    speech: { tune: { v: 0, p: 0 }, heldout: { v: 0, p: 0 } },
    speechOverMusic: {
      tune: { v: half('tune', 'voices'), p: half('tune', 'passages') },
      heldout: { v: half('heldout', 'voices'), p: half('heldout', 'passages') },
    },
  };
  // About 170 s per passage (measured): a file of FILE_SECONDS holds this many.
  const perFile = Math.max(1, Math.round(FILE_SECONDS / 170));

  for (const item of plan) {
    const rel = join(item.part, item.kind, `${item.kind}-${String(item.i).padStart(3, '0')}.flac`);
    const file = join(OUT, rel);
    const rnd = random(hash(rel));
    // Consume the same passages and voices whether or not the file is already there.
    const jobs = [];
    if (item.kind.startsWith('speech')) {
      const pool = byPart[item.part];
      const c = cursors[item.kind][item.part];
      for (let k = 0; k < perFile; k++) {
        jobs.push({
          voice: pool.voices[c.v++ % pool.voices.length],
          text: pool.passages[c.p++ % pool.passages.length],
        });
      }
    }
    if (existsSync(file) && manifest.files[rel]) continue;
    mkdirSync(join(OUT, item.part, item.kind), { recursive: true });
    let entry;
    if (item.kind === 'speech') {
      // One file in three over pink noise at 20, 10 or 5 dB SNR.
      const snr = [undefined, undefined, undefined, 20, 10, 5][Math.floor(rnd() * 6)];
      speechFile(
        file,
        jobs.map((j) => ({ voice: j.voice, text: j.text.text })),
        snr === undefined ? undefined : pinkBed(snr),
        rnd,
      );
      entry = { snrDb: snr ?? null };
    } else if (item.kind === 'speechOverMusic') {
      speechFile(
        file,
        jobs.map((j) => ({ voice: j.voice, text: j.text.text })),
        musicBed,
        rnd,
      );
      entry = {};
    } else if (item.kind === 'music') {
      fresh();
      musicPiece(file, FILE_SECONDS, rnd, -28 + rnd() * 20);
      entry = {};
    } else {
      fresh();
      entry = noiseWav(file, FILE_SECONDS, rnd);
    }
    manifest.files[rel] = {
      part: item.part,
      kind: item.kind,
      seconds: seconds(file),
      ...entry,
      ...(jobs.length
        ? { voices: jobs.map((j) => j.voice.id), texts: jobs.map((j) => j.text.name) }
        : {}),
    };
    save();
    console.error(`${rel} ${manifest.files[rel].seconds.toFixed(0)} s`);
  }
  rmSync(tmp, { recursive: true, force: true });
  const total = (p) =>
    Object.values(manifest.files)
      .filter((f) => f.part === p)
      .reduce((s, f) => s + f.seconds, 0) / 3600;
  console.error(
    `done: tune ${total('tune').toFixed(2)} h, held out ${total('heldout').toFixed(2)} h in ${OUT}`,
  );
}

main();
