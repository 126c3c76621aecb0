import type { GarbageKind } from './types.js';

/**
 * The frames a misbehaving cloud sends (`--garbage KIND`), for testing that a
 * device logs, answers with `error` and carries on. `oversized` is always sent
 * last: the device's WebSocket closes the connection (1009) on it.
 */
export function garbageFrames(
  kinds: readonly GarbageKind[],
  oversizedBytes: number,
): Array<{ kind: GarbageKind; data: string | Buffer }> {
  const order: GarbageKind[] = [
    'malformed-json',
    'unknown-type',
    'invalid-fields',
    'stray-audio',
    'oversized',
  ];
  return order
    .filter((kind) => kinds.includes(kind))
    .map((kind) => ({ kind, data: frame(kind, oversizedBytes) }));
}

function frame(kind: GarbageKind, oversizedBytes: number): string | Buffer {
  switch (kind) {
    case 'malformed-json':
      return '{"type": "reply.start", "id": ';
    case 'unknown-type':
      return JSON.stringify({ type: 'teleport', id: 'garbage-1', destination: 'moon' });
    case 'invalid-fields':
      return JSON.stringify({ type: 'utterance.ack', id: 'garbage-2', stored: 'maybe' });
    case 'stray-audio':
      return Buffer.alloc(3200);
    case 'oversized':
      return JSON.stringify({
        type: 'settings',
        settings: {},
        padding: 'x'.repeat(oversizedBytes),
      });
  }
}
