import { describe, expect, it } from 'vitest';
import { MAX_COMMAND_BYTES, parseCommand, payloadExcerpt } from '../../../src/mqtt/commands.js';
import { mqttTopics } from '../../../src/mqtt/topics.js';
import type { DeviceCommand } from '../../../src/shared/device-status.js';

const topics = mqttTopics('earshot/kitchen').command;

function parse(topic: string, payload: string | Buffer) {
  return parseCommand(topics, topic, typeof payload === 'string' ? Buffer.from(payload) : payload);
}

function accepted(topic: string, payload: string): DeviceCommand {
  const r = parse(topic, payload);
  if (!r.ok) throw new Error(`rejected ${JSON.stringify(payload)} on ${topic}: ${r.reason}`);
  return r.command;
}

function reason(topic: string, payload: string | Buffer): string {
  const r = parse(topic, payload);
  if (r.ok) throw new Error(`accepted ${JSON.stringify(payload)} as ${JSON.stringify(r.command)}`);
  return r.reason;
}

describe('MQTT command parsing', () => {
  it.each([
    ['ON', true],
    ['OFF', false],
    ['on', true],
    [' off\n', false],
    ['true', true],
    ['false', false],
    ['1', true],
    ['0', false],
    ['yes', true],
    ['mute', true],
    ['UNMUTE', false],
  ])('mute/set %j → muted %s', (payload, muted) => {
    expect(accepted(topics.mute, payload)).toEqual({ type: 'mute', muted });
  });

  it.each([
    ['0', 0],
    ['100', 100],
    ['42', 42],
    [' 42 ', 42],
    ['42.0', 42],
    ['42.6', 43],
    ['40%', 40],
    ['.5', 1],
  ])('volume/set %j → %d', (payload, volume) => {
    expect(accepted(topics.volume, payload)).toEqual({ type: 'volume', volume });
  });

  it.each([
    ['ON', true],
    ['OFF', false],
    ['True', true],
    ['0', false],
  ])('dont_save_recordings/set %j → %s', (payload, dontSaveRecordings) => {
    expect(accepted(topics.dontSaveRecordings, payload)).toEqual({
      type: 'retention',
      dontSaveRecordings,
    });
  });

  it('turns the actions into their commands, with HA button and obvious payloads', () => {
    expect(accepted(topics.listen, 'PRESS')).toEqual({ type: 'listen' });
    expect(accepted(topics.listen, 'listen')).toEqual({ type: 'listen' });
    expect(accepted(topics.stop, 'press')).toEqual({ type: 'stop' });
    expect(accepted(topics.stop, '1')).toEqual({ type: 'stop' });
    expect(accepted(topics.falseWake, 'PRESS')).toEqual({ type: 'falseWake' });
    expect(accepted(topics.falseWake, 'false_wake')).toEqual({ type: 'falseWake' });
  });

  it('accepts a whole command as JSON', () => {
    expect(accepted(topics.json, '{"type":"mute","muted":true}')).toEqual({
      type: 'mute',
      muted: true,
    });
    expect(accepted(topics.json, '{"type":"volume","volume":33.4}')).toEqual({
      type: 'volume',
      volume: 33,
    });
    expect(accepted(topics.json, '{"type":"listen"}')).toEqual({ type: 'listen' });
    expect(accepted(topics.json, '{"type":"stop"}')).toEqual({ type: 'stop' });
    expect(accepted(topics.json, '{"type":"falseWake"}')).toEqual({ type: 'falseWake' });
    expect(accepted(topics.json, '{"type":"retention","dontSaveRecordings":false}')).toEqual({
      type: 'retention',
      dontSaveRecordings: false,
    });
  });

  it.each([
    [topics.volume, '101', /between 0 and 100/],
    [topics.volume, '-1', /between 0 and 100/],
    [topics.volume, 'loud', /number from 0 to 100/],
    [topics.volume, '4 2', /number from 0 to 100/],
    [topics.volume, 'NaN', /number from 0 to 100/],
    [topics.volume, '1e3', /number from 0 to 100/],
    [topics.volume, '', /empty/],
    [topics.mute, 'maybe', /expected ON or OFF/],
    [topics.mute, '2', /expected ON or OFF/],
    [topics.mute, '', /empty/],
    [topics.dontSaveRecordings, 'mute', /expected ON or OFF/],
    [topics.listen, '', /empty/],
    [topics.listen, 'OFF', /expected PRESS/],
    [topics.stop, 'listen', /expected PRESS/],
    [topics.json, 'volume 40', /JSON object/],
    [topics.json, '{"type":"volume","volume":140}', /volume: volume must be between 0 and 100/],
    [topics.json, '{"type":"volume","volume":"40"}', /volume/],
    [topics.json, '{"type":"volume"}', /volume/],
    [topics.json, '{"type":"reboot"}', /expected "type"/],
    [topics.json, '{"type":"mute","muted":true,"extra":1}', /extra/],
    [topics.json, '[1,2]', /expected "type"/],
    ['earshot/kitchen/volme/set', '40', /unknown command topic/],
  ])('rejects %s %j', (topic, payload, why) => {
    expect(reason(topic, payload)).toMatch(why);
  });

  it('rejects oversized and non-UTF-8 payloads before looking at them', () => {
    expect(reason(topics.volume, '4'.repeat(MAX_COMMAND_BYTES + 1))).toMatch(/too large/);
    expect(reason(topics.mute, Buffer.from([0x4f, 0xff, 0xfe]))).toMatch(/UTF-8/);
  });
});

describe('payload excerpt', () => {
  it('keeps short payloads and makes control characters printable', () => {
    expect(payloadExcerpt(Buffer.from('loud'))).toBe('loud');
    expect(payloadExcerpt(Buffer.from('a\nb\u0000'))).toBe('a?b?');
  });

  it('cuts long payloads', () => {
    const out = payloadExcerpt(Buffer.from('x'.repeat(10_000)));
    expect(out).toBe(`${'x'.repeat(64)}…`);
  });
});
