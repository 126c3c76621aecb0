import { describe, expect, it } from 'vitest';
import { loadBoardProfile } from '../../src/config/board-profile.js';
import { apa102FrameBytes, decodeApa102, encodeApa102 } from '../../src/gpio/apa102.js';
import { DEVICE_STATES } from '../../src/shared/device-status.js';
import { EarshotError } from '../../src/shared/errors.js';
import { gpioConfig, makeGpio } from '../helpers/gpio-fixtures.js';
import { SpiRecorder } from '../helpers/spi-recorder.js';

// Frames as they go on the wire: start (4 × 00), one 4-byte word per pixel
// (0b111 + brightness, blue, green, red), reset (4 × 00), ceil(n/16) end bytes.
const START = '00000000';
const END = '00000000' + '00';
const DARK = 'e0000000';
const frame = (...pixels: string[]): string => START + pixels.join('') + END;

describe('APA102 frame encoding', () => {
  it('encodes brightness, blue, green, red in that order, byte for byte', () => {
    const bytes = encodeApa102([
      { r: 0xff, g: 0x00, b: 0x00, brightness: 31 },
      { r: 0x12, g: 0x34, b: 0x56, brightness: 1 },
      { r: 0, g: 0, b: 0, brightness: 0 },
    ]);
    expect(bytes.toString('hex')).toBe(frame('ff0000ff', 'e1563412', DARK));
    expect(bytes.length).toBe(apa102FrameBytes(3));
  });

  it('clamps out-of-range values instead of wrapping into the header bits', () => {
    const bytes = encodeApa102([{ r: 300, g: -5, b: 12.6, brightness: 40 }]);
    expect(bytes.toString('hex')).toBe(frame('ff0d00ff'));
  });

  it('sizes the end frame for long chains: n/2 more clock edges', () => {
    expect(apa102FrameBytes(16)).toBe(4 + 64 + 4 + 1);
    expect(apa102FrameBytes(17)).toBe(4 + 68 + 4 + 2);
    const pixels = Array.from({ length: 17 }, (_, i) => ({ r: i, g: 0, b: 0, brightness: 2 }));
    expect(decodeApa102(encodeApa102(pixels), 17)).toEqual(pixels);
  });
});

describe('the GPIO part on the ReSpeaker 2-Mics HAT (APA102 on SPI)', () => {
  const profile = loadBoardProfile('respeaker-2mic');

  async function start(config = gpioConfig()) {
    const spi = new SpiRecorder();
    const h = makeGpio({ profile, config, backendFactory: spi.factory() });
    await h.gpio.start();
    return { h, spi };
  }

  // Pixel 0 mute (red, 31), 1 listening (#00a0ff, 31), 2 status (brightness 8).
  const expected: Record<(typeof DEVICE_STATES)[number], string> = {
    booting: frame(DARK, DARK, 'e8ffffff'),
    idle: frame(DARK, DARK, DARK),
    listening: frame(DARK, 'ffffa000', DARK),
    thinking: frame(DARK, DARK, 'e8ffa000'),
    speaking: frame(DARK, DARK, 'e8ff4000'),
    muted: frame('ff0000ff', DARK, DARK),
    offline: frame(DARK, DARK, 'e800a0ff'),
    error: frame(DARK, DARK, 'e80040ff'),
  };

  it('opens the profile’s spidev device at its clock and writes a dark chain first', async () => {
    const { h, spi } = await start();
    expect(spi.opened).toEqual({ device: '/dev/spidev0.1', speedHz: 8_000_000 });
    expect(spi.frames[0]!.hex).toBe(frame(DARK, DARK, DARK));
    expect(h.gpio.status).toEqual({ backend: 'simulated' });
    h.gpio.stop();
  });

  it('shows each state with its own frame, byte for byte', async () => {
    const { h, spi } = await start();
    for (const state of DEVICE_STATES) {
      h.gpio.showState('idle');
      h.gpio.showState(state);
      expect(spi.last, state).toBe(expected[state]);
    }
    h.gpio.stop();
  });

  it('reports colours in its LED events', async () => {
    const { h } = await start();
    h.gpio.showState('thinking');
    h.gpio.showState('speaking');
    expect(h.leds.filter((e) => e.name === 'status').slice(-2)).toEqual([
      { name: 'status', on: true, at: 0, color: '#00a0ff' },
      { name: 'status', on: true, at: 0, color: '#0040ff' },
    ]);
    h.gpio.stop();
  });

  it('blinks on the clock: thinking toggles the status pixel every 250 ms', async () => {
    const { h, spi } = await start();
    h.gpio.showState('thinking');
    const from = spi.frames.length;
    h.clock.advanceBy(1000);
    const status = spi.frames.slice(from).map((f) => [f.at, f.hex.slice(24, 32)]);
    expect(status).toEqual([
      [250, DARK],
      [500, 'e8ffa000'],
      [750, DARK],
      [1000, 'e8ffa000'],
    ]);
    h.gpio.stop();
  });

  it('scales brightness by gpio.brightness, never to zero', async () => {
    const { h, spi } = await start(gpioConfig({ brightness: 10 }));
    h.gpio.showState('listening');
    // 31 × 10 % = 3; the status light's 8 × 10 % rounds to 1, not 0.
    expect(spi.last).toBe(frame(DARK, 'e3ffa000', DARK));
    h.gpio.showState('thinking');
    expect(spi.last).toBe(frame(DARK, DARK, 'e1ffa000'));
    h.gpio.stop();
  });

  it('keeps only the privacy lights during quiet hours', async () => {
    const spi = new SpiRecorder();
    const h = makeGpio({
      profile,
      config: gpioConfig({ quietHours: '22:00-07:00' }),
      backendFactory: spi.factory(),
      wallClock: () => new Date(2025, 2, 12, 23, 30),
    });
    await h.gpio.start();
    h.gpio.showState('thinking');
    expect(spi.last).toBe(frame(DARK, DARK, DARK));
    h.gpio.showState('listening');
    expect(spi.last).toBe(expected.listening);
    h.gpio.showState('muted');
    expect(spi.last).toBe(expected.muted);
    h.gpio.stop();
  });

  it('stop darkens every pixel and closes the device', async () => {
    const { h, spi } = await start();
    h.gpio.showState('muted');
    h.gpio.stop();
    expect(spi.last).toBe(frame(DARK, DARK, DARK));
    expect(spi.closed).toBe(true);
  });

  it('the button still mutes when the SPI device cannot be opened; the part says why', async () => {
    const spi = new SpiRecorder();
    spi.failOpen = new EarshotError('E_SPI_UNAVAILABLE', '/dev/spidev0.1 does not exist');
    const h = makeGpio({ profile, backendFactory: spi.factory() });
    await h.gpio.start();
    expect(h.gpio.status).toEqual({
      backend: 'simulated',
      degraded: { code: 'E_SPI_UNAVAILABLE', message: '/dev/spidev0.1 does not exist' },
    });
    expect(h.logs.some((l) => /LEDs on \/dev\/spidev0\.1 are dark/.test(l.msg))).toBe(true);
    h.gpio.simulated!.press('mute');
    h.clock.advanceBy(100);
    expect(h.buttons).toEqual([{ name: 'mute', kind: 'press' }]);
    h.gpio.showState('muted');
    expect(h.gpio.simulated!.colorOf('mute')).toBe('#ff0000');
    expect(spi.frames).toEqual([]);
    h.gpio.stop();
  });
});
