import { randomBytes, timingSafeEqual } from 'node:crypto';

export interface Session {
  id: string;
  /** Sent with every form; a POST without it is refused (CSRF). */
  csrf: string;
  created: number;
  lastSeen: number;
}

export interface SessionLimits {
  idleMs: number;
  maxAgeMs: number;
  maxSessions: number;
}

/** 32 random bytes, URL-safe: a session id or a token nobody can guess. */
export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Equal strings, compared in constant time. */
export function sameToken(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Signed-in sessions, in memory only: a restart of the daemon signs everyone out, and a
 * cookie from another instance (another speaker, an earlier run) names no session here.
 * Bounded: past `maxSessions` the least recently used one ends.
 */
export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(
    private readonly limits: SessionLimits,
    private readonly now: () => number = Date.now,
  ) {}

  create(): Session {
    const t = this.now();
    const session: Session = { id: newToken(), csrf: newToken(), created: t, lastSeen: t };
    this.byId.set(session.id, session);
    while (this.byId.size > this.limits.maxSessions) {
      const oldest = [...this.byId.values()].sort((a, b) => a.lastSeen - b.lastSeen)[0]!;
      this.byId.delete(oldest.id);
    }
    return session;
  }

  /** The live session with this id (and it counts as used now), or nothing. */
  find(id: string | undefined): Session | undefined {
    if (!id) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.lastSeen > this.limits.idleMs || t - s.created > this.limits.maxAgeMs) {
      this.byId.delete(id);
      return undefined;
    }
    s.lastSeen = t;
    return s;
  }

  /** Whether the session still lives, without counting as use (a live stream is not a visit). */
  isLive(id: string): boolean {
    const s = this.byId.get(id);
    if (!s) return false;
    const t = this.now();
    return t - s.lastSeen <= this.limits.idleMs && t - s.created <= this.limits.maxAgeMs;
  }

  end(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }
}

export interface LockoutLimits {
  maxFailures: number;
  windowMs: number;
  lockoutMs: number;
  maxTracked: number;
}

interface Failures {
  count: number;
  first: number;
  lockedUntil: number;
}

/**
 * Failed sign-ins per address: `maxFailures` within `windowMs` locks the address out
 * for `lockoutMs`. The table is bounded; when it is full of live entries, new addresses
 * are refused too (a flood of addresses must not make room for unlimited guessing).
 */
export class SignInLimiter {
  private readonly table = new Map<string, Failures>();

  constructor(
    private readonly limits: LockoutLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Milliseconds the address must still wait, or 0 when it may try. */
  waitMs(address: string): number {
    const t = this.now();
    this.expire(t);
    const f = this.table.get(address);
    if (f) return Math.max(0, f.lockedUntil - t);
    return this.table.size >= this.limits.maxTracked ? this.limits.lockoutMs : 0;
  }

  failed(address: string): void {
    const t = this.now();
    let f = this.table.get(address);
    if (!f || t - f.first > this.limits.windowMs) {
      f = { count: 0, first: t, lockedUntil: 0 };
      this.table.set(address, f);
    }
    f.count += 1;
    if (f.count >= this.limits.maxFailures) f.lockedUntil = t + this.limits.lockoutMs;
  }

  succeeded(address: string): void {
    this.table.delete(address);
  }

  private expire(t: number): void {
    for (const [address, f] of this.table) {
      if (t - f.first > this.limits.windowMs && t >= f.lockedUntil) this.table.delete(address);
    }
  }
}
