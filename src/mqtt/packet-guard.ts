import type { Readable } from 'node:stream';

/**
 * Watches the bytes a broker sends and calls `tooLarge` as soon as a packet's fixed
 * header announces more than `maxBytes`: before its payload arrives, so it is never
 * buffered (mqtt.js itself only checks a packet's size after reading all of it). It
 * reads MQTT's framing only: a type byte, then the remaining length in 1-4 bytes of 7
 * bits each, then that many bytes.
 */
export function guardPacketSize(
  stream: Readable,
  maxBytes: number,
  tooLarge: (announced: number) => void,
): void {
  let state: 'type' | 'length' | 'body' = 'type';
  let length = 0;
  let shift = 0;
  let lengthBytes = 0;
  let left = 0;
  stream.on('data', (chunk: Buffer) => {
    let i = 0;
    while (i < chunk.length) {
      if (state === 'type') {
        i += 1;
        state = 'length';
        length = 0;
        shift = 0;
        lengthBytes = 0;
        continue;
      }
      if (state === 'length') {
        const b = chunk[i]!;
        i += 1;
        lengthBytes += 1;
        length += (b & 0x7f) * 2 ** shift;
        shift += 7;
        if (b & 0x80 && lengthBytes < 4) continue;
        if (length > maxBytes || b & 0x80) {
          tooLarge(length);
          return;
        }
        left = length;
        state = left === 0 ? 'type' : 'body';
        continue;
      }
      const skip = Math.min(left, chunk.length - i);
      i += skip;
      left -= skip;
      if (left === 0) state = 'type';
    }
  });
}
