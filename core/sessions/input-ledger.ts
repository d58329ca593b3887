import type { CommandTuple } from "../messages/command-tuple.js";

export interface LedgerLimits {
  /** Tuples kept per session. */
  maxTuples: number;
  /** Bytes (about the JSON size) kept per session. */
  maxBytes: number;
  /** Bytes kept for all sessions together. */
  maxTotalBytes: number;
}

interface Entry {
  seq: number;
  tuple: CommandTuple;
  bytes: number;
}

/** One session's input: numbered, kept until the game acknowledges it. */
interface Account {
  /** The sequence number the next input gets. */
  next: number;
  /** Highest sequence number the game acknowledged. */
  acked: number;
  /** Highest sequence number sent on the current link connection. */
  sent: number;
  /** Live entries from `head` on; the slots before it were acknowledged and emptied. */
  entries: (Entry | undefined)[];
  /** Index of the first live entry (entries before it were acknowledged). */
  head: number;
  bytes: number;
}

export type KeepResult = { kept: true; seq: number } | { kept: false; full: "session" | "portal" };
export type AckResult = { ok: true; released: number } | { ok: false; reason: string };

/** About the JSON size of a tuple on the link; exact enough for a memory bound, cheap for typed lines. */
export function tupleBytes(tuple: CommandTuple): number {
  const [name, args, kwargs] = tuple;
  if (name === "text" && args.length === 1 && typeof args[0] === "string" && isEmpty(kwargs)) return args[0].length + 16;
  return JSON.stringify(tuple).length;
}

function isEmpty(o: object): boolean {
  for (const _ in o) return false;
  return true;
}

/**
 * Every session's input from the moment the portal accepts it until the game acknowledges it:
 * numbered per session (1, 2, 3, ...), sent once per link connection, replayed in order to the next
 * game after the link was lost. Bounded per session (tuples and bytes) and portal-wide (bytes).
 */
export class InputLedger<S extends object> {
  private readonly accounts = new Map<S, Account>();
  private total = 0;

  constructor(private readonly limits: LedgerLimits) {}

  /** Numbers and keeps one input; `kept: false` when a bound is hit (the input is not kept). */
  keep(session: S, tuple: CommandTuple): KeepResult {
    const account = this.account(session);
    const bytes = tupleBytes(tuple);
    const live = account.entries.length - account.head;
    // One input is always kept when the session has none waiting (a long line the guard allowed is never refused here).
    if (live > 0 && (live >= this.limits.maxTuples || account.bytes + bytes > this.limits.maxBytes)) return { kept: false, full: "session" };
    if (this.total + bytes > this.limits.maxTotalBytes) return { kept: false, full: "portal" };
    const seq = account.next++;
    account.entries.push({ seq, tuple, bytes });
    account.bytes += bytes;
    this.total += bytes;
    return { kept: true, seq };
  }

  /** What is not yet sent on this link connection (first sequence number and the tuples), now counted as sent. */
  takeUnsent(session: S): { seq: number; cmds: CommandTuple[] } | undefined {
    const account = this.accounts.get(session);
    if (!account || account.sent >= account.next - 1) return undefined;
    // Live entries hold acked+1 .. next-1 in order, so the first unsent one is found by arithmetic.
    const from = account.head + (account.sent - account.acked);
    const cmds: CommandTuple[] = [];
    for (let i = from; i < account.entries.length; i++) cmds.push(account.entries[i]!.tuple);
    const seq = account.sent + 1;
    account.sent = account.next - 1;
    return { seq, cmds };
  }

  /** The game has taken in everything up to `seq` (cumulative). Refused when it was never sent or does not move forward. */
  ack(session: S, seq: number): AckResult {
    const account = this.accounts.get(session);
    if (!account) return { ok: false, reason: "no input was sent to this session" };
    if (seq <= account.acked) return { ok: false, reason: `${seq} does not move past ${account.acked}, acknowledged before` };
    if (seq > account.sent) return { ok: false, reason: `${seq} is beyond ${account.sent}, the last input sent` };
    let released = 0;
    while (account.head < account.entries.length && account.entries[account.head]!.seq <= seq) {
      const entry = account.entries[account.head]!;
      // The slot is emptied at once: an acknowledged input must not stay reachable (at a command a
      // second it would live long enough to be promoted, and old space would fill with them).
      account.entries[account.head++] = undefined;
      account.bytes -= entry.bytes;
      this.total -= entry.bytes;
      released++;
    }
    account.acked = seq;
    if (account.head === account.entries.length) {
      account.entries.length = 0;
      account.head = 0;
    } else if (account.head > 64 && account.head * 2 > account.entries.length) {
      account.entries = account.entries.slice(account.head);
      account.head = 0;
    }
    return { ok: true, released };
  }

  /** The link is gone: what was sent and not acknowledged will be sent again to the next game. */
  rewind(): void {
    for (const account of this.accounts.values()) account.sent = account.acked;
  }

  /** The sequence number of the first input the game has not acknowledged (what portal-sync tells it). */
  nextExpected(session: S): number {
    return (this.accounts.get(session)?.acked ?? 0) + 1;
  }

  /** Whether this session has input the game has not acknowledged. */
  hasUnacked(session: S): boolean {
    const account = this.accounts.get(session);
    return account !== undefined && account.entries.length > account.head;
  }

  drop(session: S): void {
    const account = this.accounts.get(session);
    if (!account) return;
    this.total -= account.bytes;
    this.accounts.delete(session);
  }

  /** Tuples kept for all sessions (metrics, status). */
  get size(): number {
    let n = 0;
    for (const a of this.accounts.values()) n += a.entries.length - a.head;
    return n;
  }

  /** Bytes kept for all sessions. */
  get bytes(): number {
    return this.total;
  }

  private account(session: S): Account {
    let account = this.accounts.get(session);
    if (!account) {
      account = { next: 1, acked: 0, sent: 0, entries: [], head: 0, bytes: 0 };
      this.accounts.set(session, account);
    }
    return account;
  }
}
