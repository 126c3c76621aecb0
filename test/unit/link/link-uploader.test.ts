import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DeviceMessage } from '../../../src/link/protocol/index.js';
import { Upload, type UploadSink } from '../../../src/link/uploader.js';

/** The uploader against an in-memory sink (its own interface; the socket is tested elsewhere). */
function setup(options: { buffered?: () => number; accept?: () => boolean } = {}) {
  const sent: Array<DeviceMessage | Buffer> = [];
  const failures: Array<[string, string, string]> = [];
  const closed: Array<[string, string]> = [];
  const sink: UploadSink = {
    send: (data) => {
      if (options.accept && !options.accept()) return false;
      sent.push(Buffer.isBuffer(data) ? Buffer.from(data) : data);
      return true;
    },
    bufferedAmount: options.buffered ?? (() => 0),
  };
  const upload = new Upload({
    id: 'u-1',
    sink,
    maxBufferedBytes: 10_000,
    bytesPerMs: 32,
    onFailed: (...args) => failures.push(args),
    onClosed: (...args) => closed.push(args),
  });
  return { upload, sent, failures, closed };
}

describe('uploader', () => {
  it('sums bytes, duration and SHA-256 of what it sent', () => {
    const { upload, sent } = setup();
    const a = Buffer.alloc(3200, 1);
    const b = Buffer.alloc(1600, 2);
    expect(upload.write(a)).toBe(true);
    expect(upload.write(Buffer.alloc(0))).toBe(true);
    expect(upload.write(b)).toBe(true);
    const summary = upload.end('speechEnd');
    const sha = createHash('sha256').update(a).update(b).digest('hex');
    expect(summary).toEqual({ bytes: 4800, durationMs: 150, sha256: sha, completed: true });
    expect(sent.at(-1)).toEqual({
      type: 'utterance.end',
      id: 'u-1',
      reason: 'speechEnd',
      bytes: 4800,
      durationMs: 150,
      sha256: sha,
    });
    expect(sent).toHaveLength(3);
  });

  it('hashes the empty utterance correctly', () => {
    const { upload } = setup();
    expect(upload.end('noSpeech')).toMatchObject({
      bytes: 0,
      durationMs: 0,
      sha256: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    });
  });

  it('aborts on backpressure and reports it after write() has returned', async () => {
    let queued = 0;
    const { upload, sent, failures, closed } = setup({ buffered: () => queued });
    expect(upload.write(Buffer.alloc(3200))).toBe(true);
    queued = 9000;
    expect(upload.write(Buffer.alloc(3200))).toBe(false);
    // Not inside write(): the audio loop's call stack is never re-entered.
    expect(failures).toEqual([]);
    expect(upload.state).toBe('failed');
    expect(sent.at(-1)).toEqual({ type: 'utterance.abort', id: 'u-1', reason: 'backpressure' });
    await Promise.resolve();
    expect(failures).toEqual([['u-1', 'E_BACKPRESSURE', expect.stringMatching(/9000 bytes/)]]);
    expect(closed).toEqual([['u-1', 'failed']]);
    expect(upload.write(Buffer.alloc(2))).toBe(false);
    expect(upload.end('speechEnd')).toMatchObject({ bytes: 3200, completed: false });
    expect(sent).toHaveLength(2); // the audio and the abort, nothing after
  });

  it('fails with E_LINK_DOWN when its connection is gone', async () => {
    const { upload, failures } = setup({ accept: () => false });
    expect(upload.write(Buffer.alloc(320))).toBe(false);
    await Promise.resolve();
    expect(failures.map((f) => f[1])).toEqual(['E_LINK_DOWN']);
  });

  it('reports closing once, with the final state', () => {
    const ended = setup();
    ended.upload.end('button');
    ended.upload.end('button');
    ended.upload.abort('mute');
    expect(ended.closed).toEqual([['u-1', 'ended']]);
    const aborted = setup();
    aborted.upload.abort('mute');
    aborted.upload.abort('mute');
    expect(aborted.closed).toEqual([['u-1', 'aborted']]);
    expect(aborted.sent).toEqual([{ type: 'utterance.abort', id: 'u-1', reason: 'mute' }]);
  });
});
