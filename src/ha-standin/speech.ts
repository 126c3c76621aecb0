import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The stand-in's speech, done for real with Debian's tools: speech-to-text with
 * CMU PocketSphinx (`pocketsphinx_continuous`, US English model), text-to-speech with
 * `flite`, encoded with `lame` (mp3) or `sox` (flac, wav), as HA's TTS engines and its
 * ffmpeg conversion would deliver them.
 */

function run(cmd: string, args: string[], input?: Buffer, timeoutMs = 30_000): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err = (err + c.toString()).slice(-2000)));
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`${cmd} exited ${code}: ${err.trim().split('\n').pop() ?? ''}`));
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(input);
  });
}

/** 16 kHz s16le mono → text (lower case; empty when nothing was recognised). */
export async function transcribe(pcm: Buffer): Promise<string> {
  if (pcm.length < 3200) return '';
  // A file, not stdin: pocketsphinx opens its input by name, and Node's stdio pipes are
  // sockets, which /dev/stdin cannot be opened on. (This is the server's disk, not the
  // device's: P5 is about the speaker.)
  const dir = await mkdtemp(join(tmpdir(), 'ha-standin-stt-'));
  let out: Buffer;
  try {
    const file = join(dir, 'audio.raw');
    await writeFile(file, pcm);
    out = await run('pocketsphinx_continuous', ['-infile', file, '-logfn', '/dev/null']);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  return out
    .toString('utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .toLowerCase();
}

export type TtsFormat = 'mp3' | 'wav' | 'flac';

export const MIME: Record<TtsFormat, string> = {
  mp3: 'audio/mpeg',
  wav: 'audio/x-wav',
  flac: 'audio/flac',
};

/** Text → audio file bytes in `format` (22.05 kHz mono, like many HA TTS engines). */
export async function synthesize(text: string, format: TtsFormat): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), 'ha-standin-tts-'));
  try {
    const raw = join(dir, 'raw.wav');
    const wav = join(dir, 'speech.wav');
    await run('flite', ['-t', text, '-o', raw]);
    await run('sox', [raw, '-r', '22050', '-c', '1', '-b', '16', wav]);
    if (format === 'wav') return await readFile(wav);
    if (format === 'flac') {
      const flac = join(dir, 'speech.flac');
      await run('sox', [wav, flac]);
      return await readFile(flac);
    }
    const mp3 = join(dir, 'speech.mp3');
    await run('lame', ['--quiet', '-b', '64', wav, mp3]);
    return await readFile(mp3);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * A tiny conversation agent: enough to answer the fixtures' questions the way HA's
 * built-in agent would phrase it.
 */
export function answer(text: string): { speech: string; responseType: string } {
  if (/\btime\b/.test(text))
    return { speech: 'It is ten past three.', responseType: 'query_answer' };
  if (/\blights?\b/.test(text))
    return { speech: 'Turned on the lights.', responseType: 'action_done' };
  return { speech: "Sorry, I couldn't understand that", responseType: 'error' };
}
