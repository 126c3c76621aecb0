import type { AudioFormat, CloudMessage } from '../link/protocol/index.js';
import { synthesize, tone, type Speech, type Voice } from './speech.js';

/**
 * Streams one spoken reply: `reply.start` (format), the audio in chunks of
 * `chunkMs`, `reply.end`. Chunks go out one per event-loop turn so a long reply
 * never blocks other sessions, and streaming stops as soon as the socket closes.
 */
export interface ReplyChannel {
  sendMessage(message: CloudMessage): boolean;
  sendAudio(chunk: Buffer): boolean;
  isOpen(): boolean;
}

export interface ReplyPlan {
  id: string;
  text: string;
  kind: 'speech' | 'tone';
  voice: Voice;
  expectSpeech: boolean;
  /** Announce a format the device never offered (a test of its format check). */
  wrongFormat: boolean;
  chunkMs?: number;
}

export interface ReplyResult {
  engine: string;
  bytes: number;
  /** False when the socket closed before reply.end went out. */
  complete: boolean;
}

export async function streamReply(channel: ReplyChannel, plan: ReplyPlan): Promise<ReplyResult> {
  const speech: Speech =
    plan.kind === 'tone'
      ? { ...tone(), engine: 'tone' }
      : await synthesize(plan.text, { voice: plan.voice });
  const format: AudioFormat = plan.wrongFormat
    ? { encoding: 'opus', sampleRate: 48_000, channels: 2 }
    : { encoding: 'pcm_s16le', sampleRate: speech.sampleRate, channels: speech.channels };
  if (!channel.sendMessage({ type: 'reply.start', id: plan.id, format, text: plan.text })) {
    return { engine: speech.engine, bytes: 0, complete: false };
  }
  const bytesPerMs = (speech.sampleRate * speech.channels * 2) / 1000;
  const chunkBytes = Math.max(2, Math.round(bytesPerMs * (plan.chunkMs ?? 100)) & ~1);
  let sent = 0;
  for (let offset = 0; offset < speech.data.length; offset += chunkBytes) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (!channel.isOpen()) return { engine: speech.engine, bytes: sent, complete: false };
    const chunk = speech.data.subarray(offset, offset + chunkBytes);
    channel.sendAudio(chunk);
    sent += chunk.length;
  }
  const end: CloudMessage = { type: 'reply.end', id: plan.id };
  if (plan.expectSpeech) end.expectSpeech = true;
  const complete = channel.sendMessage(end);
  return { engine: speech.engine, bytes: sent, complete };
}

/** What the reference cloud says back: how much it heard. */
export function replyText(audioMs: number): string {
  return `I heard ${(audioMs / 1000).toFixed(1)} seconds`;
}
