/**
 * The APA102 (DotStar) wire format. A chain is written as one frame:
 *
 *   start   4 bytes of 0x00
 *   pixel   per LED: 0b111 + 5 bits of global brightness, then blue, green, red
 *   end     4 bytes of 0x00 (the SK9822 clones latch on these), then ceil(n/16)
 *           bytes of 0x00: each LED delays the data by half a clock, so n/2 more
 *           clock edges push the last pixel's bits through the chain
 *
 * Zeros, not the 0xFF end frame some libraries send: 0xFF is a valid pixel frame (full
 * white at full brightness) and would light a longer chain's next LED.
 */

export interface Rgb {
  r: number;
  g: number;
  b: number;
}

export interface Pixel extends Rgb {
  /** Global brightness, 0 (off) to 31. */
  brightness: number;
}

export const APA102_MAX_BRIGHTNESS = 31;
export const DARK: Pixel = { r: 0, g: 0, b: 0, brightness: 0 };

/** Frame length in bytes for `count` pixels. */
export function apa102FrameBytes(count: number): number {
  return 4 + count * 4 + 4 + Math.ceil(count / 16);
}

/** Encodes a whole chain. Values are clamped to their ranges, never wrapped. */
export function encodeApa102(pixels: readonly Pixel[]): Buffer {
  const frame = Buffer.alloc(apa102FrameBytes(pixels.length)); // zero-filled: start and end
  pixels.forEach((p, i) => {
    const at = 4 + i * 4;
    frame[at] = 0xe0 | clamp(p.brightness, APA102_MAX_BRIGHTNESS);
    frame[at + 1] = clamp(p.b, 255);
    frame[at + 2] = clamp(p.g, 255);
    frame[at + 3] = clamp(p.r, 255);
  });
  return frame;
}

/** Decodes a frame written by `encodeApa102` (tests read back what went to the device). */
export function decodeApa102(frame: Uint8Array, count: number): Pixel[] {
  const pixels: Pixel[] = [];
  for (let i = 0; i < count; i++) {
    const at = 4 + i * 4;
    pixels.push({
      brightness: frame[at]! & 0x1f,
      b: frame[at + 1]!,
      g: frame[at + 2]!,
      r: frame[at + 3]!,
    });
  }
  return pixels;
}

/** `#rrggbb` → channels. */
export function parseColor(hex: string): Rgb {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new RangeError(`not a #rrggbb colour: ${hex}`);
  return { r: parseInt(m[1]!, 16), g: parseInt(m[2]!, 16), b: parseInt(m[3]!, 16) };
}

/** Whether a pixel gives any light. */
export function isLit(p: Pixel): boolean {
  return p.brightness > 0 && p.r + p.g + p.b > 0;
}

function clamp(v: number, max: number): number {
  return Math.min(max, Math.max(0, Math.round(v)));
}
