import { randomBytes } from "node:crypto";

interface Entry<S> {
  session: S;
  expiresAt: number;
}

/**
 * Resume tokens: 32 random bytes (base64url), each naming one session, each usable once, each with an
 * expiry. A session has at most one valid token: issuing a new one revokes the old.
 */
export class ResumeTokens<S extends object> {
  private readonly byToken = new Map<string, Entry<S>>();
  private readonly bySession = new Map<S, string>();

  /** A fresh token for `session`, valid until `expiresAt` (ms); the session's previous token stops working. */
  issue(session: S, expiresAt: number): string {
    this.revoke(session);
    const token = randomBytes(32).toString("base64url");
    this.byToken.set(token, { session, expiresAt });
    this.bySession.set(session, token);
    return token;
  }

  /** Moves the expiry of the session's current token (e.g. to the end of its grace window). */
  extend(session: S, expiresAt: number): void {
    const token = this.bySession.get(session);
    const entry = token === undefined ? undefined : this.byToken.get(token);
    if (entry) entry.expiresAt = expiresAt;
  }

  /** The session a token names, once: the token is spent whatever the answer. Undefined if unknown, spent or expired. */
  take(token: string, now: number): S | undefined {
    const entry = this.byToken.get(token);
    if (!entry) return undefined;
    this.byToken.delete(token);
    this.bySession.delete(entry.session);
    return entry.expiresAt >= now ? entry.session : undefined;
  }

  revoke(session: S): void {
    const token = this.bySession.get(session);
    if (token === undefined) return;
    this.bySession.delete(session);
    this.byToken.delete(token);
  }

  get size(): number {
    return this.byToken.size;
  }
}
