import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { wakeSection } from '../../src/config/sections/wake.js';
import { transition } from '../../src/device/machine.js';
import { initialModel, type DeviceState } from '../../src/device/states.js';
import { parseCommand } from '../../src/mqtt/commands.js';
import { mqttTopics } from '../../src/mqtt/topics.js';
import { FRAME_SAMPLES } from '../../src/shared/audio-format.js';
import { silentLogger } from '../../src/shared/logger.js';
import { ConfiguredWake, wakeChoices } from '../../src/wake/factory.js';
import { resolveKeywordModel } from '../../src/wake/openwakeword/models.js';
import { tempDir } from '../helpers/paths.js';

const tmp = tempDir('earshot-wake-choice-');
afterAll(() => tmp.cleanup());

describe('wake-word choices', () => {
  it('offers the configured set first, then every keyword and bundled choice once', () => {
    const config = wakeSection.parse({
      keywords: [{ name: 'alexa' }, { name: 'mine', model: '/m/mine.onnx', threshold: 0.3 }],
    });
    const choices = wakeChoices(config);
    expect([...choices.keys()]).toEqual([
      'alexa + mine',
      'alexa',
      'mine',
      'hey_jarvis',
      'hey_mycroft',
      'hey_rhasspy',
    ]);
    expect(choices.get('mine')).toEqual([
      { name: 'mine', model: '/m/mine.onnx', threshold: 0.3, patience: 1 },
    ]);
    expect(choices.get('hey_jarvis')![0]!.threshold).toBe(0.5);
  });

  it('parses the select command, as a plain name and as JSON', () => {
    const topics = mqttTopics('earshot/x').command;
    expect(parseCommand(topics, topics.wakeWord, Buffer.from(' hey_jarvis '))).toEqual({
      ok: true,
      command: { type: 'wakeWord', keyword: 'hey_jarvis' },
    });
    expect(
      parseCommand(topics, topics.json, Buffer.from('{"type":"wakeWord","keyword":"alexa"}')),
    ).toEqual({ ok: true, command: { type: 'wakeWord', keyword: 'alexa' } });
    expect(parseCommand(topics, topics.wakeWord, Buffer.from('a\u0001b')).ok).toBe(false);
  });

  it('is taken in every state, and changes nothing but the wake word', () => {
    const states: DeviceState[] = [{ name: 'idle' }, { name: 'muted' }, { name: 'booting' }];
    for (const state of states) {
      const model = { ...initialModel({ link: 'up', idPrefix: 'd' }), state };
      const next = transition(model, { type: 'wakeWord', keyword: 'hey_jarvis' });
      expect(next.model).toEqual(model);
      expect(next.effects).toEqual([{ type: 'selectWakeWord', keyword: 'hey_jarvis' }]);
    }
  });
});

describe('switching the keyword of a running detector', () => {
  it('loads a custom model file, keeps listening on a failed load, and refuses unknown names', async () => {
    // A keyword model file outside the package, as one trained with openWakeWord's recipe.
    const custom = join(tmp.dir, 'my_word.onnx');
    copyFileSync(resolveKeywordModel('hey_mycroft'), custom);
    const config = wakeSection.parse({
      vadThreshold: 0,
      choices: [
        { name: 'my_word', model: custom, threshold: 0.4 },
        { name: 'broken', model: join(tmp.dir, 'missing.onnx') },
      ],
    });
    const wake = new ConfiguredWake(config, silentLogger());
    const seen: string[] = [];
    wake.on('keywords', ({ name }) => seen.push(name));
    await wake.start();
    try {
      const frame = (index: number) => ({ index, samples: new Int16Array(FRAME_SAMPLES) });
      await wake.process(frame(0));
      // The switch is asked for while a frame is being scored: neither waits on the other.
      const scoring = wake.process(frame(1));
      const switching = wake.selectKeyword('my_word');
      await scoring;
      await switching;
      expect(wake.keywords).toEqual(['my_word']);
      await wake.process(frame(2));

      await expect(wake.selectKeyword('broken')).rejects.toMatchObject({
        code: 'E_WAKE_MODEL_MISSING',
      });
      await expect(wake.selectKeyword('nope')).rejects.toMatchObject({ code: 'E_WAKE_CHOICE' });
      expect(wake.keywords).toEqual(['my_word']);
      await wake.process(frame(3));
      expect(seen).toEqual(['alexa', 'my_word']);
    } finally {
      await wake.stop();
    }
  });
});
