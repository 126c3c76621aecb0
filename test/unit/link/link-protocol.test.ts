import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CLOUD_MESSAGE_TYPES,
  DEVICE_MESSAGE_TYPES,
  SUBPROTOCOL,
  encodeMessage,
  errorReply,
  parseCloudMessage,
  parseDeviceMessage,
  type CloudMessage,
  type DeviceMessage,
} from '../../../src/link/protocol/index.js';
import { repoRoot } from '../../helpers/paths.js';

const format = { encoding: 'pcm_s16le', sampleRate: 16000, channels: 1 } as const;
const sha = 'a'.repeat(64);

const deviceExamples: DeviceMessage[] = [
  {
    type: 'hello',
    protocol: 1,
    deviceId: 'kitchen',
    firmware: '0.1.0',
    capabilities: { uploadEncodings: ['pcm_s16le'], replyEncodings: ['pcm_s16le'], features: [] },
    format,
    privacy: { dontSaveRecordings: true, voiceIdAvailable: false },
  },
  {
    type: 'utterance.start',
    id: 'u-1',
    trigger: { kind: 'wake', keyword: 'hey', score: 0.9 },
    preRollMs: 500,
    format,
    dontSaveRecordings: true,
  },
  {
    type: 'utterance.end',
    id: 'u-1',
    reason: 'speechEnd',
    durationMs: 10,
    bytes: 320,
    sha256: sha,
  },
  { type: 'utterance.abort', id: 'u-1', reason: 'mute' },
  { type: 'state', state: 'idle', muted: false, dontSaveRecordings: true },
  { type: 'ping', nonce: 'n' },
  { type: 'pong' },
  { type: 'error', code: 'E_BAD_JSON', message: 'x', id: 'u-1' },
];

const cloudExamples: CloudMessage[] = [
  { type: 'hello.ok', protocol: 1, sessionId: 's', server: 'x', settings: { volume: 40 } },
  { type: 'utterance.ack', id: 'u-1', stored: false, bytes: 320, sha256: sha },
  { type: 'capture.stop', id: 'u-1' },
  { type: 'reply.start', id: 'u-1', format: { ...format, sampleRate: 22050 }, text: 'hi' },
  { type: 'reply.end', id: 'u-1', expectSpeech: true },
  { type: 'settings', settings: { volume: 40 } },
  { type: 'error', code: 'E_INTERNAL', message: 'x' },
  { type: 'ping' },
  { type: 'pong', nonce: 'n' },
];

describe('protocol v1', () => {
  it('is spoken as the subprotocol earshot.v1', () => {
    expect(SUBPROTOCOL).toBe('earshot.v1');
  });

  it('round-trips every device message', () => {
    expect(new Set(deviceExamples.map((m) => m.type))).toEqual(DEVICE_MESSAGE_TYPES);
    for (const m of deviceExamples) {
      expect(parseDeviceMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
    }
  });

  it('round-trips every cloud message', () => {
    expect(new Set(cloudExamples.map((m) => m.type))).toEqual(CLOUD_MESSAGE_TYPES);
    for (const m of cloudExamples) {
      expect(parseCloudMessage(encodeMessage(m))).toEqual({ ok: true, message: m });
    }
  });

  it('classifies bad input with stable codes, never throwing', () => {
    expect(parseCloudMessage('{nope')).toMatchObject({ ok: false, code: 'E_BAD_JSON' });
    expect(parseCloudMessage('[1]')).toMatchObject({ ok: false, code: 'E_BAD_MESSAGE' });
    expect(parseCloudMessage('null')).toMatchObject({ ok: false, code: 'E_BAD_MESSAGE' });
    expect(parseCloudMessage('{"id":"u-9"}')).toMatchObject({
      ok: false,
      code: 'E_BAD_MESSAGE',
      id: 'u-9',
    });
    expect(parseCloudMessage('{"type":"warp","id":"u-2"}')).toMatchObject({
      ok: false,
      code: 'E_UNKNOWN_TYPE',
      type: 'warp',
      id: 'u-2',
    });
    // A device message is unknown to the device's own parser, and the reverse.
    expect(parseCloudMessage(encodeMessage(deviceExamples[1]!))).toMatchObject({
      code: 'E_UNKNOWN_TYPE',
    });
    expect(parseDeviceMessage(encodeMessage(cloudExamples[2]!))).toMatchObject({
      code: 'E_UNKNOWN_TYPE',
    });
    const bad = parseCloudMessage('{"type":"utterance.ack","id":"u-3","stored":"yes","bytes":-1}');
    expect(bad).toMatchObject({
      ok: false,
      code: 'E_BAD_MESSAGE',
      type: 'utterance.ack',
      id: 'u-3',
    });
    if (!bad.ok) {
      expect(bad.reason).toMatch(/stored/);
      expect(bad.reason).toMatch(/bytes/);
    }
  });

  it('names a protocol version mismatch', () => {
    const hello = { ...deviceExamples[0]!, protocol: 2 };
    expect(parseDeviceMessage(JSON.stringify(hello))).toMatchObject({
      ok: false,
      code: 'E_PROTOCOL_VERSION',
    });
    const ok = { ...cloudExamples[0]!, protocol: 0 };
    expect(parseCloudMessage(JSON.stringify(ok))).toMatchObject({ code: 'E_PROTOCOL_VERSION' });
  });

  it('enforces the privacy rules in the schema itself', () => {
    const start = deviceExamples[1]!;
    // P3: never more than 2 s of pre-roll.
    expect(parseDeviceMessage(JSON.stringify({ ...start, preRollMs: 2001 })).ok).toBe(false);
    // P7: the retention flag is required on every request.
    const { dontSaveRecordings: _drop, ...withoutRetention } = start as Record<string, unknown>;
    expect(parseDeviceMessage(JSON.stringify(withoutRetention)).ok).toBe(false);
    // Voice ID is available exactly when recordings may be saved.
    const hello = deviceExamples[0]! as Record<string, unknown>;
    const lying = { ...hello, privacy: { dontSaveRecordings: true, voiceIdAvailable: true } };
    expect(parseDeviceMessage(JSON.stringify(lying))).toMatchObject({ code: 'E_BAD_MESSAGE' });
  });

  it('ignores unknown extra fields (forward compatible within v1)', () => {
    const later = { type: 'reply.end', id: 'u-1', expectSpeech: false, mood: 'cheerful' };
    expect(parseCloudMessage(JSON.stringify(later))).toEqual({
      ok: true,
      message: { type: 'reply.end', id: 'u-1', expectSpeech: false },
    });
  });

  it('refuses ids that could escape a file name or a log line', () => {
    for (const id of ['../x', 'a b', '', 'x'.repeat(65), 'ü']) {
      expect(parseCloudMessage(JSON.stringify({ type: 'capture.stop', id })).ok).toBe(false);
    }
  });

  it('builds error answers that always validate', () => {
    const reply = errorReply('E_BAD_JSON', 'y'.repeat(5000), 'u-1');
    expect(reply.message).toHaveLength(1000);
    expect(parseCloudMessage(encodeMessage(reply)).ok).toBe(true);
    expect(parseDeviceMessage(encodeMessage(reply)).ok).toBe(true);
  });

  it('documents every message type in PROTOCOL.md', () => {
    const doc = readFileSync(join(repoRoot, 'src', 'link', 'PROTOCOL.md'), 'utf8');
    for (const type of [...DEVICE_MESSAGE_TYPES, ...CLOUD_MESSAGE_TYPES]) {
      expect(doc, type).toContain(`\`${type}\``);
    }
    for (const code of ['E_BAD_JSON', 'E_UNKNOWN_TYPE', 'E_UNSUPPORTED_FORMAT', 'E_INTEGRITY']) {
      expect(doc).toContain(code);
    }
  });
});
