import { describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';

function problems(input: unknown): string[] {
  const r = mqttSection.safeParse(input);
  if (r.success) return [];
  return r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('mqtt config section', () => {
  it('is off by default, with discovery and backoff defaults', () => {
    const c = mqttSection.parse(undefined);
    expect(c.url).toBeUndefined();
    expect(c.discovery).toBe(true);
    expect(c.discoveryPrefix).toBe('homeassistant');
    expect(c.backoff).toEqual({ initialMs: 1000, maxMs: 30_000 });
    expect(c.keepaliveSeconds).toBe(30);
  });

  it('accepts mqtt:// and mqtts:// with TLS files', () => {
    expect(problems({ url: 'mqtt://broker.local:1883' })).toEqual([]);
    expect(
      problems({ url: 'mqtts://broker.local', ca: '/etc/ca.pem', cert: '/c.pem', key: '/k.pem' }),
    ).toEqual([]);
  });

  it.each([
    [{ url: 'http://broker' }, /^url: expected mqtt:\/\//],
    [{ url: 'ws://broker' }, /^url: expected mqtt:\/\//],
    [{ url: 'broker:1883' }, /^url: /],
    [{ url: 'mqtts://b', cert: '/c.pem' }, /^key: cert and key go together/],
    [{ url: 'mqtts://b', key: '/k.pem' }, /^cert: cert and key go together/],
    [{ url: 'mqtt://b', ca: '/ca.pem' }, /^ca: TLS files need an mqtts:\/\/ url/],
    [{ password: 'x' }, /^username: password given without username/],
    [{ baseTopic: 'earshot/+/x' }, /^baseTopic: must not contain/],
    [{ baseTopic: 'earshot/#' }, /^baseTopic: must not contain/],
    [{ baseTopic: '/earshot' }, /^baseTopic: must not have empty levels/],
    [{ baseTopic: 'earshot/' }, /^baseTopic: must not have empty levels/],
    [{ baseTopic: '$SYS/earshot' }, /^baseTopic: must not start with "\$"/],
    [{ discoveryPrefix: 'home+assistant' }, /^discoveryPrefix: must not contain/],
    [{ backoff: { initialMs: 5000, maxMs: 1000 } }, /^backoff.maxMs: maxMs must be at least/],
    [{ reconnectMaxMs: 1000 }, /reconnectMaxMs/],
  ])('rejects %j', (input, why) => {
    const found = problems(input);
    expect(
      found.some((p) => why.test(p)),
      found.join('; '),
    ).toBe(true);
  });
});
