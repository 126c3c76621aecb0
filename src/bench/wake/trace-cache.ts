import { createHash } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Trace } from './run.js';

/**
 * Recorded score traces on disk, so that a sweep over hours of negatives runs the models
 * once: the key is everything that shapes the scores (the files, the added noise, the
 * model and the detector's settings that act before the gate), never the settings the
 * sweep varies (threshold, patience, speech check).
 */
export interface CachedSet {
  traces: Trace[];
  /** Seconds of audio that count (negatives: after the first lead-in). */
  seconds: number;
  files: number;
}

export function traceKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 16);
}

interface StoredTrace {
  scores: string;
  vad: string;
  verifier?: string;
  firstFrame: number;
}

const encode = (a: Float32Array): string =>
  Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');

function decode(s: string): Float32Array {
  const buf = Buffer.from(s, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(i * 4);
  return out;
}

export async function loadTraces(dir: string, key: string): Promise<CachedSet | undefined> {
  let text: string;
  try {
    text = await readFile(join(dir, `${key}.json`), 'utf8');
  } catch {
    return undefined;
  }
  const stored = JSON.parse(text) as { traces: StoredTrace[]; seconds: number; files: number };
  return {
    seconds: stored.seconds,
    files: stored.files,
    traces: stored.traces.map((t) => ({
      scores: decode(t.scores),
      vad: decode(t.vad),
      ...(t.verifier ? { verifier: decode(t.verifier) } : {}),
      firstFrame: t.firstFrame,
    })),
  };
}

export async function saveTraces(dir: string, key: string, set: CachedSet): Promise<void> {
  await mkdir(dir, { recursive: true });
  const stored = {
    seconds: set.seconds,
    files: set.files,
    traces: set.traces.map((t) => ({
      scores: encode(t.scores),
      vad: encode(t.vad),
      ...(t.verifier ? { verifier: encode(t.verifier) } : {}),
      firstFrame: t.firstFrame,
    })),
  };
  await writeFile(join(dir, `${key}.json`), JSON.stringify(stored));
}
