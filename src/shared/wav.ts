import { readFile, writeFile } from 'node:fs/promises';
import wavefile from 'wavefile';
import { EarshotError } from './errors.js';
import { SAMPLE_RATE } from './audio-format.js';

const { WaveFile } = wavefile;

export interface PcmAudio {
  sampleRate: number;
  channels: number;
  /** Interleaved samples, 16-bit signed. */
  samples: Int16Array;
  /**
   * Set when the header promises more audio than the file holds (a copy or a recording
   * cut short): the bytes the data chunk declares and the bytes that are there.
   */
  truncated?: { declaredBytes: number; presentBytes: number; declaredSeconds: number };
}

/**
 * Data-chunk sizes that mean "length unknown", not "this long": what a recorder writing
 * to a pipe puts in the header (arecord, sox) before it knows the length.
 */
const STREAMING_SIZES = new Set([0, 0x7fffffff, 0x7ffff000, 0xffffffff]);

/**
 * Reads a WAV file with the `wavefile` library (PCM of any depth, float, A-law …)
 * and returns 16-bit samples. Only the format is converted; resampling is refused
 * with a clear error rather than done badly.
 */
export async function readWavFile(file: string): Promise<PcmAudio> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (err) {
    throw new EarshotError(
      'E_WAV_READ',
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? err}`,
    );
  }
  return decodeWav(bytes, file);
}

export function decodeWav(bytes: Uint8Array, name = 'WAV data'): PcmAudio {
  const wav = new WaveFile();
  try {
    wav.fromBuffer(bytes);
  } catch (err) {
    throw new EarshotError('E_WAV_FORMAT', `${name} is not a WAV file: ${(err as Error).message}`);
  }
  if (wav.bitDepth !== '16') {
    try {
      wav.toBitDepth('16');
    } catch (err) {
      throw new EarshotError(
        'E_WAV_FORMAT',
        `${name}: cannot convert ${wav.bitDepth}-bit audio: ${(err as Error).message}`,
      );
    }
  }
  const fmt = wav.fmt as { sampleRate: number; numChannels: number; byteRate: number };
  const data = wav.data as { chunkSize: number; samples: Uint8Array };
  // Before any conversion: both sizes are in the file's own sample format.
  const declaredBytes = data.chunkSize;
  const presentBytes = data.samples.length;
  const raw = wav.getSamples(true, Int16Array) as unknown as Int16Array;
  const audio: PcmAudio = { sampleRate: fmt.sampleRate, channels: fmt.numChannels, samples: raw };
  if (presentBytes < declaredBytes && !STREAMING_SIZES.has(declaredBytes)) {
    audio.truncated = {
      declaredBytes,
      presentBytes,
      declaredSeconds: fmt.byteRate > 0 ? declaredBytes / fmt.byteRate : 0,
    };
  }
  return audio;
}

/**
 * Reads a WAV that must already be in the capture format: 16 kHz mono. A file cut
 * short (its header promises more audio than it holds) is refused: a run on part of
 * a recording would look like a run on all of it.
 */
export async function readCaptureWav(file: string): Promise<Int16Array> {
  const audio = await readWavFile(file);
  if (audio.truncated) {
    const { declaredBytes, presentBytes, declaredSeconds } = audio.truncated;
    const held = audio.samples.length / Math.max(1, audio.channels) / audio.sampleRate;
    throw new EarshotError(
      'E_WAV_TRUNCATED',
      `${file} is cut short: its header says ${declaredBytes} bytes of audio (${declaredSeconds.toFixed(2)} s), the file holds ${presentBytes} (${held.toFixed(2)} s)`,
      {
        hint: `copy it again, or keep what is there with a corrected header: sox ${file} fixed.wav`,
      },
    );
  }
  if (audio.sampleRate !== SAMPLE_RATE || audio.channels !== 1) {
    throw new EarshotError(
      'E_WAV_FORMAT',
      `${file} is ${audio.sampleRate} Hz, ${audio.channels} channel(s); need ${SAMPLE_RATE} Hz mono`,
      { hint: `convert it: sox ${file} -r ${SAMPLE_RATE} -c 1 -b 16 out.wav` },
    );
  }
  return audio.samples;
}

export function encodeWav(samples: Int16Array, sampleRate = SAMPLE_RATE, channels = 1): Buffer {
  const wav = new WaveFile();
  wav.fromScratch(channels, sampleRate, '16', samples);
  return Buffer.from(wav.toBuffer());
}

export async function writeWavFile(
  file: string,
  samples: Int16Array,
  sampleRate = SAMPLE_RATE,
  channels = 1,
): Promise<void> {
  await writeFile(file, encodeWav(samples, sampleRate, channels));
}
