/**
 * Just enough RIFF/WAVE for the reference cloud: write 16-bit PCM files for the
 * store, and read the output of flite / espeak-ng. The cloud may not import the
 * device's audio part, so it carries these few lines itself.
 */
export interface Pcm {
  sampleRate: number;
  channels: number;
  /** s16le samples. */
  data: Buffer;
}

export function encodeWav(pcm: Pcm): Buffer {
  const header = Buffer.alloc(44);
  const blockAlign = pcm.channels * 2;
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + pcm.data.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(pcm.channels, 22);
  header.writeUInt32LE(pcm.sampleRate, 24);
  header.writeUInt32LE(pcm.sampleRate * blockAlign, 28);
  header.writeUInt16LE(blockAlign, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(pcm.data.length, 40);
  return Buffer.concat([header, pcm.data]);
}

/**
 * Reads a 16-bit PCM WAV. Tolerates the streaming header espeak-ng writes to a pipe
 * (sizes of 0x7ffff000): the data chunk then simply runs to the end of the buffer.
 */
export function decodeWav(buf: Buffer): Pcm {
  if (
    buf.length < 12 ||
    buf.toString('ascii', 0, 4) !== 'RIFF' ||
    buf.toString('ascii', 8, 12) !== 'WAVE'
  ) {
    throw new Error('not a RIFF/WAVE file');
  }
  let offset = 12;
  let format: { channels: number; sampleRate: number } | undefined;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const body = offset + 8;
    if (id === 'fmt ') {
      const encoding = buf.readUInt16LE(body);
      const bits = buf.readUInt16LE(body + 14);
      if (encoding !== 1 || bits !== 16)
        throw new Error(`WAV is not 16-bit PCM (${encoding}/${bits})`);
      format = { channels: buf.readUInt16LE(body + 2), sampleRate: buf.readUInt32LE(body + 4) };
    } else if (id === 'data') {
      if (!format) throw new Error('WAV data before fmt');
      const end = Math.min(buf.length, body + size);
      const usable = end - body - ((end - body) % (2 * format.channels));
      return { ...format, data: buf.subarray(body, body + usable) };
    }
    offset = body + size + (size % 2);
  }
  throw new Error('WAV has no data chunk');
}
