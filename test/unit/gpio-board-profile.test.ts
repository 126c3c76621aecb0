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

  it('respeaker-2mic: button on GPIO 17, the seeed card, virtual LEDs', () => {
    const p = loadBoardProfile('respeaker-2mic');
    expect(p.buttons.mute.pin).toBe(17);
    expect(p.buttons.action).toBeUndefined();
    expect(p.audio).toEqual({
      capture: 'plughw:CARD=seeed2micvoicec,DEV=0',
      playback: 'plughw:CARD=seeed2micvoicec,DEV=0',
    });
    expect(Object.values(p.leds).map((l) => l.driver)).toEqual(['virtual', 'virtual', 'virtual']);
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
    expect(problems(p)).toEqual(['buttons.mute.debounce: unknown key']);
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
