import type { PcmFormat } from '../shared/audio-format.js';
import { EarshotError } from '../shared/errors.js';

/** What the spoken answer is, from its first bytes (the mime type may not be trusted). */
export type ReplyKind = 'mp3' | 'wav' | 'flac';

interface Decoded {
  channelData: Float32Array[];
  samplesDecoded: number;
  sampleRate: number;
}

interface Engine {
  ready: Promise<void>;
  decode(data: Uint8Array): Decoded | Promise<Decoded>;
  flush?(): Promise<Decoded>;
  free(): void;
}

/** Bytes looked at to tell the format (and the most a WAV header may take). */
const MAX_HEADER_BYTES = 64 * 1024;

export function kindFromMime(mime: string | undefined): ReplyKind | undefined {
  if (!mime) return undefined;
  if (/mpeg|mp3/i.test(mime)) return 'mp3';
  if (/wav/i.test(mime)) return 'wav';
  if (/flac/i.test(mime)) return 'flac';
  return undefined;
}

export function sniff(head: Buffer): ReplyKind | undefined {
  if (
    head.length >= 12 &&
    head.toString('latin1', 0, 4) === 'RIFF' &&
    head.toString('latin1', 8, 12) === 'WAVE'
  ) {
    return 'wav';
  }
  if (head.length >= 4 && head.toString('latin1', 0, 4) === 'fLaC') return 'flac';
  if (head.length >= 3 && head.toString('latin1', 0, 3) === 'ID3') return 'mp3';
  if (head.length >= 2 && head[0] === 0xff && (head[1]! & 0xe0) === 0xe0) return 'mp3';
  return undefined;
}

async function engine(kind: 'mp3' | 'flac'): Promise<Engine> {
  // Loaded on first use: a device on the earshot protocol never carries the decoders.
  if (kind === 'mp3') {
    const { MPEGDecoder } = await import('mpg123-decoder');
    const d = new MPEGDecoder();
    return { ready: d.ready, decode: (b) => d.decode(b), free: () => d.free() };
  }
  const { FLACDecoder } = await import('@wasm-audio-decoders/flac');
  const d = new FLACDecoder();
  return {
    ready: d.ready,
    decode: (b) => d.decode(b),
    flush: () => d.flush(),
    free: () => d.free(),
  };
}

/** Mono s16le from the decoder's float channels (averaged, clamped). */
function toS16Mono(d: Decoded): Buffer {
  const n = d.samplesDecoded;
  const out = Buffer.allocUnsafe(n * 2);
  const ch = d.channelData;
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (const c of ch) v += c[i] ?? 0;
    v = (v / Math.max(1, ch.length)) * 32767;
    out.writeInt16LE(v > 32767 ? 32767 : v < -32768 ? -32768 : Math.round(v), i * 2);
  }
  return out;
}

/**
 * Decodes a spoken answer as it streams in, from its first bytes: mp3 (libmpg123) and
 * flac (libFLAC), both compiled to WebAssembly and run in-process, and wav (PCM, read
 * here). The output is 16-bit mono PCM at the answer's own rate, which the Player takes
 * as it is. `prepare` warms the decoder the mime type promises while HA is still busy,
 * so the first chunk decodes at once. Anything else fails with E_ASSIST_TTS_FORMAT.
 */
export class ReplyDecoder {
  private head: Buffer[] = [];
  private headBytes = 0;
  private kind: ReplyKind | undefined;
  private eng: Engine | undefined;
  private warm: Promise<Engine> | undefined;
  private warmKind: ReplyKind | undefined;
  private wav: { format: PcmFormat; channels: number; rest: Buffer } | undefined;
  private rate = 0;
  private samples = 0;

  /** Starts loading the decoder for the format HA announced (a guess, checked later). */
  prepare(mime: string | undefined): void {
    const k = kindFromMime(mime);
    if (k && k !== 'wav' && !this.warm) {
      this.warmKind = k;
      this.warm = engine(k).then(async (e) => {
        await e.ready;
        return e;
      });
      this.warm.catch(() => undefined);
    }
  }

  get decodedSamples(): number {
    return this.samples;
  }

  get format(): PcmFormat | undefined {
    return this.rate ? { sampleRate: this.rate, channels: 1, bitsPerSample: 16 } : undefined;
  }

  /** Decodes a chunk; returns the PCM it completed (possibly none yet). */
  async push(chunk: Buffer): Promise<Buffer | undefined> {
    if (!this.kind) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
      const head = Buffer.concat(this.head);
      const kind = sniff(head);
      if (!kind) {
        if (this.headBytes < 12) return undefined;
        throw new EarshotError('E_ASSIST_TTS_FORMAT', 'the spoken answer is not mp3, wav or flac');
      }
      this.kind = kind;
      this.head = [];
      if (kind !== 'wav') {
        // The warmed decoder if HA's mime type told the truth; `free` releases the other.
        const warm = this.warmKind === kind ? this.warm : undefined;
        this.eng = warm ? await warm : await engine(kind);
        await this.eng.ready;
      }
      return this.decode(head);
    }
    return this.decode(chunk);
  }

  /** The end of the stream: what is left, or E_ASSIST_TTS_FORMAT if nothing decoded. */
  async end(): Promise<Buffer | undefined> {
    let tail: Buffer | undefined;
    if (this.eng?.flush) tail = this.out(await this.eng.flush());
    if (this.samples === 0) {
      throw new EarshotError(
        'E_ASSIST_TTS_FORMAT',
        `the spoken answer (${this.kind ?? 'unknown'}) holds no audio`,
      );
    }
    return tail;
  }

  free(): void {
    const used = this.eng;
    used?.free();
    this.eng = undefined;
    // The warmed decoder, unless it is the one just freed (wasm memory is freed once).
    this.warm?.then(
      (e) => {
        if (e !== used) e.free();
      },
      () => undefined,
    );
    this.warm = undefined;
  }

  private async decode(data: Buffer): Promise<Buffer | undefined> {
    if (this.kind === 'wav') return this.decodeWav(data);
    const d = await this.eng!.decode(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
    return this.out(d);
  }

  private out(d: Decoded): Buffer | undefined {
    if (d.samplesDecoded === 0) return undefined;
    this.rate ||= d.sampleRate;
    this.samples += d.samplesDecoded;
    return toS16Mono(d);
  }

  private decodeWav(data: Buffer): Buffer | undefined {
    if (!this.wav) {
      this.head.push(data);
      this.headBytes += data.length;
      const buf = Buffer.concat(this.head);
      const parsed = parseWavHeader(buf);
      if (!parsed) {
        if (buf.length > MAX_HEADER_BYTES) {
          throw new EarshotError('E_ASSIST_TTS_FORMAT', 'the spoken answer has no WAV data chunk');
        }
        return undefined;
      }
      this.head = [];
      this.wav = { format: parsed.format, channels: parsed.format.channels, rest: Buffer.alloc(0) };
      this.rate = parsed.format.sampleRate;
      data = buf.subarray(parsed.dataOffset);
    }
    const w = this.wav;
    const all = w.rest.length ? Buffer.concat([w.rest, data]) : data;
    const frameBytes = 2 * w.channels;
    const whole = all.length - (all.length % frameBytes);
    w.rest = Buffer.from(all.subarray(whole));
    const frames = whole / frameBytes;
    if (frames === 0) return undefined;
    this.samples += frames;
    if (w.channels === 1) return Buffer.from(all.subarray(0, whole));
    const out = Buffer.allocUnsafe(frames * 2);
    for (let i = 0; i < frames; i++) {
      let v = 0;
      for (let c = 0; c < w.channels; c++) v += all.readInt16LE(i * frameBytes + c * 2);
      out.writeInt16LE(Math.round(v / w.channels), i * 2);
    }
    return out;
  }
}

/** The `fmt ` and the start of `data` of a 16-bit PCM WAV, once enough bytes are there. */
function parseWavHeader(buf: Buffer): { format: PcmFormat; dataOffset: number } | undefined {
  let off = 12;
  let format: PcmFormat | undefined;
  while (off + 8 <= buf.length) {
    const id = buf.toString('latin1', off, off + 4);
    const size = buf.readUInt32LE(off + 4);
    if (id === 'data') {
      if (!format) throw new EarshotError('E_ASSIST_TTS_FORMAT', 'WAV data before its format');
      return { format, dataOffset: off + 8 };
    }
    if (off + 8 + size > buf.length) return undefined;
    if (id === 'fmt ') {
      const audioFormat = buf.readUInt16LE(off + 8);
      const channels = buf.readUInt16LE(off + 10);
      const sampleRate = buf.readUInt32LE(off + 12);
      const bits = buf.readUInt16LE(off + 22);
      if (
        (audioFormat !== 1 && audioFormat !== 0xfffe) ||
        bits !== 16 ||
        channels < 1 ||
        channels > 8
      ) {
        throw new EarshotError(
          'E_ASSIST_TTS_FORMAT',
          `WAV is not 16-bit PCM (format ${audioFormat}, ${bits} bits, ${channels} channels)`,
        );
      }
      if (sampleRate < 4000 || sampleRate > 192_000) {
        throw new EarshotError('E_ASSIST_TTS_FORMAT', `WAV sample rate ${sampleRate} Hz`);
      }
      format = { sampleRate, channels, bitsPerSample: 16 };
    }
    off += 8 + size + (size % 2);
  }
  return undefined;
}
