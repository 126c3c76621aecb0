import { describe, expect, it } from 'vitest';
import { ModelSessions } from '../../src/models/sessions.js';

class FakeSession {
  released = 0;
  async release(): Promise<void> {
    this.released += 1;
  }
}

describe('ModelSessions', () => {
  it('creates one session per key and releases it with its last user', async () => {
    const sessions = new ModelSessions();
    let created = 0;
    const create = async () => {
      created += 1;
      return new FakeSession();
    };
    const [a, b] = await Promise.all([
      sessions.acquire('m', create),
      sessions.acquire('m', create),
    ]);
    expect(created).toBe(1);
    expect(a).toBe(b);
    expect(sessions.users('m')).toBe(2);
    await sessions.release('m');
    expect(a.released).toBe(0);
    await sessions.release('m');
    expect(a.released).toBe(1);
    expect(sessions.users('m')).toBe(0);
    // Released and forgotten: the next user loads it again.
    const c = await sessions.acquire('m', create);
    expect(c).not.toBe(a);
    expect(created).toBe(2);
  });

  it('keys are separate', async () => {
    const sessions = new ModelSessions();
    const a = await sessions.acquire('a', async () => new FakeSession());
    const b = await sessions.acquire('b', async () => new FakeSession());
    expect(a).not.toBe(b);
    await sessions.release('a');
    expect(a.released).toBe(1);
    expect(b.released).toBe(0);
  });

  it('a failed load is not kept: every waiting user gets the error, the next one retries', async () => {
    const sessions = new ModelSessions();
    const failing = async (): Promise<FakeSession> => {
      await new Promise((r) => setTimeout(r, 5));
      throw new Error('broken model');
    };
    const results = await Promise.allSettled([
      sessions.acquire('m', failing),
      sessions.acquire('m', failing),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(sessions.users('m')).toBe(0);
    const ok = await sessions.acquire('m', async () => new FakeSession());
    expect(ok).toBeInstanceOf(FakeSession);
  });

  it('releasing a key nobody holds does nothing', async () => {
    await expect(new ModelSessions().release('nothing')).resolves.toBeUndefined();
  });
});
