/**
 * One loaded model per file, shared by every part that runs it. Silero VAD is used
 * twice (the wake word's speech check and the end-of-speech detector); each user keeps
 * its own input, state and output buffers, and onnxruntime allows concurrent runs on
 * one session, so only the weights and the session (about 5 MiB) are shared.
 *
 * Reference counted: the session is released when its last user lets it go.
 */
export interface Releasable {
  release(): Promise<void>;
}

interface Entry {
  session: Promise<Releasable>;
  users: number;
}

export class ModelSessions {
  private readonly entries = new Map<string, Entry>();

  /**
   * The session for `key` (the model file's absolute path), created by `create` if
   * nobody holds it yet. Every user of one key must ask for the same kind of session.
   */
  async acquire<S extends Releasable>(key: string, create: () => Promise<S>): Promise<S> {
    let entry = this.entries.get(key);
    if (!entry) {
      entry = { session: create(), users: 0 };
      this.entries.set(key, entry);
      // A failed load is not kept: the next user tries again (and gets its own error).
      entry.session.catch(() => {
        if (this.entries.get(key) === entry) this.entries.delete(key);
      });
    }
    entry.users += 1;
    try {
      return (await entry.session) as S;
    } catch (err) {
      entry.users -= 1;
      throw err;
    }
  }

  /** Lets go of `key`; the last user's release releases the session. */
  async release(key: string): Promise<void> {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.users -= 1;
    if (entry.users > 0) return;
    this.entries.delete(key);
    await (await entry.session).release();
  }

  /** How many users hold `key` (for tests and diagnostics). */
  users(key: string): number {
    return this.entries.get(key)?.users ?? 0;
  }
}

/** The process-wide set: one session per model file. */
export const modelSessions = new ModelSessions();
