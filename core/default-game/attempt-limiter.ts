/**
 * A sliding-window limiter per key (an address, an account name): at most `maxFailures` counted
 * events within `windowMs`. An attempt takes a slot up front (so parallel attempts cannot slip past
 * the limit) and gives it back with `release` when it should not count (a successful login, a
 * creation that failed). With `lockoutMs`, the failure that fills the window locks the key for that
 * long and starts it afresh afterwards (a cooldown). `maxFailures` 0 disables the limiter. The map is
 * bounded: beyond `maxKeys` the least recently used key is forgotten.
 */
import { addressGroup } from "../sessions/address-group.js";

export interface AttemptLimiterOptions {
  /** Events allowed per key within `windowMs`; 0 allows everything. */
  maxFailures: number;
  windowMs: number;
  maxKeys: number;
  /** Once the window is full, the key stays locked this long (default: until the window frees a slot). */
  lockoutMs?: number;
  now?: () => number;
}

interface Entry {
  times: number[];
  lockedUntil: number;
}

export class AttemptLimiter {
  private readonly entries = new Map<string, Entry>();
  private readonly now: () => number;

  constructor(private readonly options: AttemptLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  get enabled(): boolean {
    return this.options.maxFailures > 0;
  }

  /** True when `key` may not try now. */
  blocked(key: string): boolean {
    return this.retryAfterMs(key) > 0;
  }

  /** How long until `key` may try again (0: now). */
  retryAfterMs(key: string): number {
    if (!this.enabled) return 0;
    const entry = this.recent(key);
    if (!entry) return 0;
    const now = this.now();
    if (entry.lockedUntil > now) return entry.lockedUntil - now;
    if (entry.times.length < this.options.maxFailures) return 0;
    return Math.max(1, entry.times[0]! + this.options.windowMs - now);
  }

  /** Takes a slot for one attempt; false (nothing taken) when the key is blocked. */
  begin(key: string): boolean {
    if (!this.enabled) return true;
    if (this.blocked(key)) return false;
    const entry = this.entries.get(key) ?? { times: [], lockedUntil: 0 };
    entry.times.push(this.now());
    this.touch(key, entry);
    return true;
  }

  /** The attempt should not count (it succeeded, or failed for a reason that is not the player's): its slot is given back. */
  release(key: string): void {
    const entry = this.entries.get(key);
    if (!entry) return;
    entry.times.pop();
    if (entry.times.length === 0 && entry.lockedUntil <= this.now()) this.entries.delete(key);
  }

  /** The same as release: a successful login does not count. */
  succeed(key: string): void {
    this.release(key);
  }

  /**
   * The attempt failed and keeps its slot. True when this failure filled the window, i.e. the key is
   * now locked out (reported once, so the caller can log the lockout once).
   */
  failed(key: string): boolean {
    if (!this.enabled) return false;
    const entry = this.recent(key);
    if (!entry || entry.lockedUntil > this.now() || entry.times.length < this.options.maxFailures) return false;
    if (this.options.lockoutMs !== undefined) {
      entry.lockedUntil = this.now() + this.options.lockoutMs;
      entry.times = [];
    }
    return true;
  }

  /** The key's entry with events older than the window dropped; undefined (and forgotten) when nothing is left. */
  private recent(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const now = this.now();
    const cutoff = now - this.options.windowMs;
    while (entry.times.length > 0 && entry.times[0]! <= cutoff) entry.times.shift();
    if (entry.times.length === 0 && entry.lockedUntil <= now) {
      this.entries.delete(key);
      return undefined;
    }
    return entry;
  }

  private touch(key: string, entry: Entry): void {
    this.entries.delete(key);
    this.entries.set(key, entry);
    while (this.entries.size > this.options.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}

/** "about 15 minutes", "about 1 minute": how long until a limit lets go, rounded up. */
export function aboutMinutes(ms: number): string {
  const minutes = Math.max(1, Math.ceil(ms / 60_000));
  return `about ${minutes} minute${minutes === 1 ? "" : "s"}`;
}

/**
 * The key per-address limits count under: the portal's address group (an IPv4 address as it is,
 * IPv4-mapped IPv6 as IPv4, other IPv6 by its /64 prefix, since one subscriber usually holds a whole
 * /64), so the game's limits and the portal's connection throttle count the same way.
 */
export function addressKey(address: string | null | undefined): string {
  return addressGroup(address ?? null, 64);
}
