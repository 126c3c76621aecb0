import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mqttSection } from '../../../src/config/sections/mqtt.js';
import { MqttBridge, type RejectedCommand } from '../../../src/mqtt/index.js';
import type { DeviceCommand } from '../../../src/shared/device-status.js';
import type { RemotePolicy } from '../../../src/shared/remote-policy.js';
import { silentLogger } from '../../../src/shared/logger.js';
import { eventually, Mosquitto, Probe } from '../../helpers/mosquitto.js';

let broker: Mosquitto;
const cleanup: Array<() => Promise<void>> = [];
let seq = 0;

beforeAll(async () => {
  broker = await Mosquitto.start();
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await broker?.dispose();
});

/** The owner allowed every remote command (the parsing tests); the default allows fewer. */
const ALLOW_ALL: RemotePolicy = { allowUnmute: true, allowListen: true, allowSaveRecordings: true };

async function setup(options: { start?: boolean; policy?: RemotePolicy; set?: object } = {}) {
  const id = `cmd-${++seq}`;
  const base = `earshot/${id}`;
  const bridge = new MqttBridge(
    mqttSection.parse({ url: broker.url, discovery: false, ...options.set }),
    { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
    silentLogger(),
    { policy: options.policy ?? ALLOW_ALL },
  );
  const commands: DeviceCommand[] = [];
  const rejected: RejectedCommand[] = [];
  bridge.on('command', (c) => commands.push(c));
  bridge.on('rejected', (r) => rejected.push(r));
  const probe = await Probe.connect(broker.url);
  await probe.subscribe(`${base}/error`);
  cleanup.push(
    () => bridge.stop(),
    () => probe.close(),
  );
  if (options.start !== false) {
    await bridge.start();
    // "up" is reported after the SUBACK, so commands published from here on are heard.
    expect(await bridge.waitUntilUp(10_000)).toBe(true);
  }
  return { bridge, probe, base, commands, rejected };
}

describe('MQTT commands', () => {
  it('turns each command into its typed event', async () => {
    const { probe, base, commands, rejected } = await setup();
    const cases: Array<[string, string, DeviceCommand]> = [
      ['mute/set', 'ON', { type: 'mute', muted: true }],
      ['mute/set', 'off', { type: 'mute', muted: false }],
      ['volume/set', '40', { type: 'volume', volume: 40 }],
      ['volume/set', '72.4', { type: 'volume', volume: 72 }],
      ['command/listen', 'PRESS', { type: 'listen' }],
      ['command/stop', 'PRESS', { type: 'stop' }],
      ['dont_save_recordings/set', 'OFF', { type: 'retention', dontSaveRecordings: false }],
      ['dont_save_recordings/set', 'true', { type: 'retention', dontSaveRecordings: true }],
      ['command/false_wake', 'PRESS', { type: 'falseWake' }],
      ['command', '{"type":"volume","volume":5}', { type: 'volume', volume: 5 }],
    ];
    for (const [suffix, payload] of cases) await probe.publish(`${base}/${suffix}`, payload);
    await eventually(() => (commands.length >= cases.length ? true : undefined), 'all commands');
    expect(commands).toEqual(cases.map(([, , command]) => command));
    expect(rejected).toEqual([]);
  });

  it('answers a malformed or out-of-range command on the error topic and applies nothing', async () => {
    const { probe, base, commands, rejected } = await setup();
    const bad: Array<[string, string | Buffer, RegExp]> = [
      ['volume/set', '150', /between 0 and 100/],
      ['volume/set', 'loud', /number/],
      ['mute/set', 'perhaps', /ON or OFF/],
      ['command/listen', 'OFF', /PRESS/],
      ['command', '{"type":"volume","volume":-3}', /between 0 and 100/],
      ['command', '{"type":"selfDestruct"}', /type/],
      ['volme/set', '40', /unknown command topic/],
      ['mute/set', Buffer.from([0xc3, 0x28]), /UTF-8/],
      ['volume/set', 'x'.repeat(2000), /too large/],
    ];
    for (const [suffix, payload] of bad) await probe.publish(`${base}/${suffix}`, payload);
    const errors = await eventually(() => {
      const e = probe.on(`${base}/error`);
      return e.length >= bad.length ? e : undefined;
    }, 'an error answer per bad command');

    bad.forEach(([suffix, , why], i) => {
      const answer = JSON.parse(errors[i]!.payload) as Record<string, unknown>;
      expect(answer.topic).toBe(`${base}/${suffix}`);
      expect(answer.reason).toMatch(why);
      expect(answer.time).toEqual(expect.any(String));
      expect(String(answer.payload).length).toBeLessThanOrEqual(65);
      expect(errors[i]!.retain).toBe(false);
    });
    expect(JSON.parse(errors[0]!.payload).payload).toBe('150');
    expect(rejected.map((r) => r.reason)).toEqual(errors.map((e) => JSON.parse(e.payload).reason));

    // The bridge is still listening, and nothing from the bad batch slipped through.
    await probe.publish(`${base}/volume/set`, '30');
    await eventually(() => (commands.length > 0 ? true : undefined), 'the good command');
    expect(commands).toEqual([{ type: 'volume', volume: 30 }]);
  });

  it('ignores a retained command instead of replaying it on every connect', async () => {
    const id = `cmd-${++seq}`;
    const base = `earshot/${id}`;
    const publisher = await Probe.connect(broker.url);
    cleanup.push(async () => {
      await publisher.publish(`${base}/command/listen`, '', true); // clear it again
      await publisher.close();
    });
    await publisher.publish(`${base}/command/listen`, 'PRESS', true);

    const bridge = new MqttBridge(
      mqttSection.parse({ url: broker.url, discovery: false }),
      { id, name: 'Test speaker', firmwareVersion: '0.1.0' },
      silentLogger(),
    );
    cleanup.push(() => bridge.stop());
    const commands: DeviceCommand[] = [];
    const rejected: RejectedCommand[] = [];
    bridge.on('command', (c) => commands.push(c));
    bridge.on('rejected', (r) => rejected.push(r));
    await bridge.start();
    await eventually(() => rejected[0], 'the retained command to be refused');
    expect(rejected[0]).toMatchObject({ topic: `${base}/command/listen`, reason: /retained/ });

    await publisher.publish(`${base}/command/stop`, 'PRESS');
    await eventually(() => commands[0], 'a live command');
    expect(commands).toEqual([{ type: 'stop' }]);
  });

  it('survives a command listener that throws', async () => {
    const { bridge, probe, base, commands } = await setup();
    let calls = 0;
    bridge.on('command', () => {
      calls += 1;
      throw new Error('listener bug');
    });
    await probe.publish(`${base}/mute/set`, 'ON');
    await probe.publish(`${base}/mute/set`, 'OFF');
    await eventually(() => (commands.length >= 2 ? true : undefined), 'both commands');
    expect(calls).toBe(2);
    expect(bridge.status.status).toBe('up');
  });

  it('by default refuses unmute, listen and letting the cloud save recordings, on the error topic', async () => {
    const policy = { allowUnmute: false, allowListen: false, allowSaveRecordings: false };
    const { probe, base, commands, rejected } = await setup({ policy });
    await probe.publish(`${base}/mute/set`, 'OFF');
    await probe.publish(`${base}/command/listen`, 'PRESS');
    await probe.publish(`${base}/dont_save_recordings/set`, 'OFF');
    await probe.publish(`${base}/command`, '{"type":"mute","muted":false}');
    // What only makes the speaker more private is always allowed.
    await probe.publish(`${base}/mute/set`, 'ON');
    await probe.publish(`${base}/dont_save_recordings/set`, 'ON');
    await eventually(() => (commands.length >= 2 ? true : undefined), 'the allowed commands');
    await eventually(() => (rejected.length >= 4 ? true : undefined), 'four refusals');
    expect(commands).toEqual([
      { type: 'mute', muted: true },
      { type: 'retention', dontSaveRecordings: true },
    ]);
    expect(rejected.map((r) => [r.code, r.topic.slice(base.length)])).toEqual([
      ['E_REMOTE_REFUSED', '/mute/set'],
      ['E_REMOTE_REFUSED', '/command/listen'],
      ['E_REMOTE_REFUSED', '/dont_save_recordings/set'],
      ['E_REMOTE_REFUSED', '/command'],
    ]);
    expect(rejected[0]!.reason).toMatch(/remote\.allowUnmute/);
    const answers = await eventually(() => {
      const errs = probe.messages.filter((m) => m.topic === `${base}/error`);
      return errs.length >= 4 ? errs : undefined;
    }, 'the answers on the error topic');
    expect(JSON.parse(answers[1]!.payload)).toMatchObject({
      code: 'E_REMOTE_REFUSED',
      reason: /remote\.allowListen/,
    });
  });

  it('drops commands over the rate limit without answering each', async () => {
    const { probe, base, commands, rejected } = await setup({ set: { maxCommandsPer10s: 5 } });
    for (let i = 0; i < 30; i++) await probe.publish(`${base}/volume/set`, String(i));
    await probe.settle();
    await eventually(() => (commands.length >= 5 ? true : undefined), 'the first five');
    await probe.settle();
    expect(commands).toHaveLength(5);
    expect(rejected).toEqual([]);
  });
});
