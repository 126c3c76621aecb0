import { describe, expect, it } from 'vitest';
import { Outbox } from '../../../src/mqtt/outbox.js';
import { renderState } from '../../../src/mqtt/state-payloads.js';
import { defaultBaseTopic, mqttTopics, topicMatches } from '../../../src/mqtt/topics.js';
import type { DeviceSnapshot } from '../../../src/shared/device-status.js';

const topics = mqttTopics('earshot/kitchen');

function snapshot(over: Partial<DeviceSnapshot> = {}): DeviceSnapshot {
  return {
    state: 'idle',
    muted: false,
    volume: 80,
    link: { status: 'up' },
    counters: { wakes: 0, uploads: 0, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
    dontSaveRecordings: true,
    problems: [],
    ...over,
  };
}

function rendered(s: DeviceSnapshot): Map<string, string> {
  const out = renderState(s, topics.state);
  expect(out.length).toBeGreaterThan(0);
  expect(out.every((m) => m.retain)).toBe(true);
  return new Map(out.map((m) => [m.topic, m.payload]));
}

describe('topic layout', () => {
  it('lives under the base topic', () => {
    expect(defaultBaseTopic('kitchen')).toBe('earshot/kitchen');
    for (const t of [...Object.values(topics.state), ...Object.values(topics.command)]) {
      expect(t.startsWith('earshot/kitchen/')).toBe(true);
    }
  });

  it('subscribes to every command topic and to none of the state topics', () => {
    const subscribed = (t: string) => topics.commandFilters.some((f) => topicMatches(f, t));
    for (const t of Object.values(topics.command)) expect(subscribed(t), t).toBe(true);
    // Otherwise the bridge would read its own state (or its own error answers) as commands.
    for (const t of Object.values(topics.state)) expect(subscribed(t), t).toBe(false);
  });

  it('matches MQTT wildcards', () => {
    expect(topicMatches('a/+/set', 'a/mute/set')).toBe(true);
    expect(topicMatches('a/+/set', 'a/mute')).toBe(false);
    expect(topicMatches('a/+/set', 'a/b/c/set')).toBe(false);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });
});

describe('state payloads', () => {
  it('renders every value as readable text or JSON', () => {
    const m = rendered(
      snapshot({
        state: 'listening',
        muted: true,
        volume: 42.4,
        link: { status: 'down', cause: 'ECONNREFUSED' },
        lastWake: { time: '2025-01-01T10:00:00.000Z', keyword: 'alexa', score: 0.912345678 },
        counters: { wakes: 5, uploads: 4, uploadFailures: 1, falseWakes: 2, droppedFrames: 7 },
        dontSaveRecordings: false,
        problems: [{ part: 'wake', code: 'E_WAKE_FALLBACK', message: 'porcupine failed' }],
      }),
    );
    expect(m.get('earshot/kitchen/state')).toBe('listening');
    expect(m.get('earshot/kitchen/listening')).toBe('ON');
    expect(m.get('earshot/kitchen/mute')).toBe('ON');
    expect(m.get('earshot/kitchen/volume')).toBe('42');
    expect(m.get('earshot/kitchen/dont_save_recordings')).toBe('OFF');
    expect(JSON.parse(m.get('earshot/kitchen/link')!)).toEqual({
      status: 'down',
      cause: 'ECONNREFUSED',
    });
    expect(JSON.parse(m.get('earshot/kitchen/wake/last')!)).toEqual({
      time: '2025-01-01T10:00:00.000Z',
      keyword: 'alexa',
      score: 0.9123,
    });
    expect(JSON.parse(m.get('earshot/kitchen/counters')!)).toEqual({
      wakes: 5,
      uploads: 4,
      uploadFailures: 1,
      falseWakes: 2,
      droppedFrames: 7,
    });
    expect(JSON.parse(m.get('earshot/kitchen/problems')!)).toEqual({
      count: 1,
      problems: [{ part: 'wake', code: 'E_WAKE_FALLBACK', message: 'porcupine failed' }],
    });
  });

  it('omits the cause of a healthy link and a wake that has not happened', () => {
    const m = rendered(snapshot());
    expect(m.get('earshot/kitchen/link')).toBe('{"status":"up"}');
    expect(m.has('earshot/kitchen/wake/last')).toBe(false);
    expect(m.get('earshot/kitchen/listening')).toBe('OFF');
  });
});

describe('outbox', () => {
  const put = (box: Outbox, s: DeviceSnapshot) =>
    renderState(s, topics.state)
      .filter((m) => box.put(m))
      .map((m) => m.topic);

  it('hands out only what changed', () => {
    const box = new Outbox();
    expect(put(box, snapshot()).length).toBe(8);
    box.drain();
    expect(put(box, snapshot())).toEqual([]);
    expect(put(box, snapshot({ volume: 30 }))).toEqual(['earshot/kitchen/volume']);
    expect(put(box, snapshot({ volume: 30, state: 'listening' }))).toEqual([
      'earshot/kitchen/state',
      'earshot/kitchen/listening',
    ]);
    expect(box.drain().map((m) => [m.topic, m.payload])).toEqual([
      ['earshot/kitchen/volume', '30'],
      ['earshot/kitchen/state', 'listening'],
      ['earshot/kitchen/listening', 'ON'],
    ]);
    expect(box.drain()).toEqual([]);
  });

  it('keeps the latest value per topic, however many updates pile up', () => {
    const box = new Outbox();
    for (let i = 0; i < 10_000; i++) {
      put(
        box,
        snapshot({
          volume: i % 101,
          counters: { wakes: i, uploads: i, uploadFailures: 0, falseWakes: 0, droppedFrames: 0 },
        }),
      );
    }
    expect(box.pendingCount).toBe(8);
    expect(box.size).toBe(8);
    const out = new Map(box.drain().map((m) => [m.topic, m.payload]));
    expect(out.get('earshot/kitchen/volume')).toBe(String(9999 % 101));
    expect(JSON.parse(out.get('earshot/kitchen/counters')!).wakes).toBe(9999);
  });

  it('owes the broker everything again after a reconnect', () => {
    const box = new Outbox();
    put(box, snapshot());
    box.drain();
    expect(box.pendingCount).toBe(0);
    box.markAllPending();
    expect(box.drain().length).toBe(8);
  });
});
