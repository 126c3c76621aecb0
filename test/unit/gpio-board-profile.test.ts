import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  BoardProfileError,
  listBoardProfiles,
  loadBoardProfile,
  parseBoardProfile,
  type BoardProfileInput,
} from '../../src/config/board-profile.js';
import { testProfileInput } from '../helpers/gpio-fixtures.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The problems of an invalid profile, as `key: message` lines. */
function problems(input: unknown): string[] {
  try {
    parseBoardProfile(input);
  } catch (err) {
    expect(err).toBeInstanceOf(BoardProfileError);
    expect((err as BoardProfileError).code).toBe('E_BOARD_PROFILE');
    return (err as BoardProfileError).problems.map((p) => `${p.key}: ${p.message}`);
  }
  throw new Error('expected the profile to be rejected');
}

function withPatch(patch: (p: BoardProfileInput) => void): BoardProfileInput {
  const p = structuredClone(testProfileInput());
  patch(p);
  return p;
}

describe('shipped board profiles', () => {
  it('lists generic and respeaker-2mic', () => {
    expect(listBoardProfiles()).toEqual(expect.arrayContaining(['generic', 'respeaker-2mic']));
  });

  it('generic: three GPIO LEDs, two buttons, a full pattern table', () => {
    const p = loadBoardProfile('generic');
    expect(p.source).toMatch(/hardware[/\\]generic\.yaml$/);
    expect(Object.keys(p.leds)).toEqual(['listening', 'mute', 'status']);
    expect(Object.values(p.leds).every((l) => l.driver === 'gpio' && l.pin !== undefined)).toBe(
      true,
    );
    expect(p.buttons.mute).toMatchObject({ pin: 5, pull: 'up', activeLow: true, edge: 'both' });
    expect(p.buttons.action?.pin).toBe(6);
    expect(p.patterns.listening).toEqual({ listening: { type: 'solid' } });
    expect(p.patterns.muted).toEqual({ mute: { type: 'solid' } });
    expect(p.patterns.idle).toEqual({});
  });

  it('respeaker-2mic: button on GPIO 17, the seeed card, APA102 LEDs, the WM8960 overlay', () => {
    const p = loadBoardProfile('respeaker-2mic');
    expect(p.buttons.mute.pin).toBe(17);
    expect(p.buttons.action).toBeUndefined();
    expect(p.audio).toEqual({
      capture: 'plughw:CARD=seeed2micvoicec,DEV=0',
      playback: 'plughw:CARD=seeed2micvoicec,DEV=0',
    });
    expect(p.apa102).toEqual({
      device: '/dev/spidev0.1',
      count: 3,
      speedHz: 8_000_000,
      brightness: 31,
    });
    expect(p.leds.listening).toMatchObject({ driver: 'apa102', pixels: [1] });
    expect(p.leds.mute).toMatchObject({ driver: 'apa102', pixels: [0], color: '#ff0000' });
    expect(p.patterns.listening).toEqual({ listening: { type: 'solid' } });
    expect(p.setup?.configTxt).toContain('dtoverlay=wm8960-soundcard,alsaname=seeed2micvoicec');
    expect(p.setup).toMatchObject({ card: 'seeed2micvoicec', codec: 'wlf,wm8960' });
    expect(p.setup?.overlayFile).toBeUndefined();
  });

  it('respeaker-2mic-v2: the same LEDs and card, an overlay Raspberry Pi OS does not ship', () => {
    const v1 = loadBoardProfile('respeaker-2mic');
    const v2 = loadBoardProfile('respeaker-2mic-v2');
    expect(v2.leds).toEqual(v1.leds);
    expect(v2.audio).toEqual(v1.audio);
    expect(v2.setup).toMatchObject({
      card: 'seeed2micvoicec',
      codec: 'ti,tlv320aic3104',
      overlayFile: 'respeaker-2mic-v2_0-overlay.dtbo',
    });
    expect(v2.setup?.configTxt).toContain('dtoverlay=respeaker-2mic-v2_0-overlay');
    expect(v2.setup?.note).toMatch(/seeed-linux-dtoverlays/);
  });

  it('an unknown name lists the known ones', () => {
    expect(() => loadBoardProfile('respeaker-9mic')).toThrow(
      expect.objectContaining({
        code: 'E_BOARD_UNKNOWN',
        hint: expect.stringContaining('generic, respeaker-2mic'),
      }),
    );
  });

  it('loads a profile by path and names the file in errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'earshot-board-'));
    dirs.push(dir);
    const good = join(dir, 'mine.yaml');
    writeFileSync(good, JSON.stringify(testProfileInput()));
    expect(loadBoardProfile(good).name).toBe('test-board');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: x\nleds: [1, 2\n');
    expect(() => loadBoardProfile(bad)).toThrow(/bad\.yaml:\n {2}\(file\): not valid YAML/);
  });
});

describe('profile validation names the key', () => {
  it('a pin outside the header', () => {
    const p = withPatch((x) => (x.leds['status'] = { pin: 40 }));
    expect(problems(p)).toEqual(['leds.status.pin: a BCM GPIO number of the 40-pin header (0-27)']);
  });

  it('a pin that is not a number', () => {
    const p = withPatch((x) => (x.buttons.mute = { pin: 'GPIO17' as unknown as number }));
    expect(problems(p)).toEqual(['buttons.mute.pin: a BCM GPIO number (0-27)']);
  });

  it('an unknown pattern', () => {
    const p = withPatch((x) => (x.patterns = { thinking: { status: 'sparkle' } }));
    expect(problems(p)).toEqual([
      'patterns.thinking.status.type: unknown pattern "sparkle"; use one of off, solid, blink, pulse, double-blink',
    ]);
  });

  it('a pattern timing out of range', () => {
    const p = withPatch((x) => (x.patterns = { thinking: { status: { type: 'blink', onMs: 5 } } }));
    expect(problems(p)).toEqual([expect.stringMatching(/^patterns\.thinking\.status\.onMs: /)]);
  });

  it('an unknown state', () => {
    const p = withPatch((x) => ((x.patterns as Record<string, unknown>) = { sleeping: {} }));
    expect(problems(p)[0]).toMatch(/^patterns\.sleeping: /);
  });

  it('a misspelt key', () => {
    const p = withPatch((x) => ((x.buttons.mute as Record<string, unknown>)['debounce'] = 30));
    expect(problems(p)).toEqual(['buttons.mute.debounce: unknown key (did you mean debounceMs?)']);
  });

  it('APA102 LEDs: need the chain, pixels on it, each pixel used once', () => {
    const p = withPatch((x) => {
      x.leds = {
        listening: { driver: 'apa102', pixels: [0, 1] },
        mute: { driver: 'apa102', pixels: [1] },
        status: { driver: 'apa102' },
      };
    });
    expect(problems(p)).toEqual([
      'apa102: required for driver: apa102 (LED listening): the SPI device and pixel count',
      'apa102: required for driver: apa102 (LED mute): the SPI device and pixel count',
      'leds.mute.pixels: pixel 1 is already used by LED listening',
      'apa102: required for driver: apa102 (LED status): the SPI device and pixel count',
      'leds.status.pixels: required for driver: apa102',
    ]);
    const past = withPatch((x) => {
      x.apa102 = { device: '/dev/spidev0.1', count: 2 };
      x.leds = { listening: { driver: 'apa102', pixels: [2] }, mute: { pin: 24, pixels: [0] } };
    });
    expect(problems(past)).toEqual([
      'leds.listening.pixels: pixel 2 is past the end of the chain (apa102.count 2)',
      'leds.mute.pixels: only for driver: apa102',
    ]);
    const badDevice = withPatch((x) => (x.apa102 = { device: '/dev/spi0', count: 3 }));
    expect(problems(badDevice)).toEqual(['apa102.device: a spidev device such as /dev/spidev0.1']);
  });

  it('a bad colour or config.txt line is named', () => {
    const p = withPatch((x) => {
      x.patterns = { thinking: { status: { type: 'blink', color: 'cyan' } } };
      x.setup = { configTxt: ['rm -rf /'] };
    });
    expect(problems(p)).toEqual([
      'setup.configTxt.0: a dtoverlay=, dtparam= or gpio= line',
      'patterns.thinking.status.color: a colour as #rrggbb, e.g. #ff0000 for red',
    ]);
  });

  it('cross-key rules: required LEDs, pins used twice, unknown LEDs, privacy patterns', () => {
    const p = withPatch((x) => {
      delete x.leds['mute'];
      x.buttons.action = { pin: 23, edge: 'falling' };
      x.patterns = { speaking: { ring: 'pulse' }, listening: { listening: 'blink' } };
    });
    expect(problems(p)).toEqual([
      'leds.mute: required (the mute LED carries a privacy promise; use driver: virtual if the board has none)',
      'buttons.action.pin: pin 23 is already used by leds.listening.pin',
      'buttons.action.edge: must be both: telling a long press from a short one needs the release',
      'patterns.speaking.ring: no LED named ring in leds (have: listening, status)',
      'patterns.listening.listening: must be solid (privacy: the listening LED is steadily lit while listening)',
    ]);
  });

  it('a GPIO LED needs a pin; a virtual one does not', () => {
    const p = withPatch((x) => (x.leds['status'] = { driver: 'gpio' }));
    expect(problems(p)).toEqual(['leds.status.pin: required for driver: gpio']);
    const v = withPatch((x) => (x.leds['status'] = { driver: 'virtual' }));
    expect(parseBoardProfile(v).leds['status']?.driver).toBe('virtual');
  });
});

describe('pattern defaults', () => {
  it('states the profile leaves out follow the attention system', () => {
    const p = parseBoardProfile(
      withPatch((x) => (x.patterns = { thinking: { status: 'double-blink' } })),
    );
    expect(p.patterns.thinking).toEqual({
      status: { type: 'double-blink', onMs: 120, gapMs: 120, offMs: 840 },
    });
    expect(p.patterns.speaking).toEqual({ status: { type: 'pulse', onMs: 1000, offMs: 1000 } });
    expect(p.patterns.error).toEqual({ status: { type: 'blink', onMs: 100, offMs: 900 } });
  });

  it('a board without a status LED gets no status patterns', () => {
    const p = parseBoardProfile(withPatch((x) => delete x.leds['status']));
    expect(p.patterns.thinking).toEqual({});
    expect(p.patterns.listening).toEqual({ listening: { type: 'solid' } });
  });

  it('a button pulled down is active high unless told otherwise', () => {
    const p = parseBoardProfile(withPatch((x) => (x.buttons.mute = { pin: 5, pull: 'down' })));
    expect(p.buttons.mute.activeLow).toBe(false);
  });
});
