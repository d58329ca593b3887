import type { Clock, TimerHandle } from "../time/clock.js";
import { DEFAULT_CONFIG, type LimitsConfig } from "../config/portal-config.js";
import { addressGroup } from "./address-group.js";

export interface ThrottleEvents<S> {
  /** The session may now be announced to the game. */
  release(session: S): void;
  /** The session must wait about `seconds` (its turn in the round-robin, measured from now). */
  queued(session: S, seconds: number): void;
  /**
   * The queue (or this address's share of it) is full: tell the player and close. A connection that
   * was queued can also get "queue-full" later, when it is displaced to make room for another address.
   */
  refused(session: S, why: "queue-full" | "per-ip"): void;
}

export type ThrottleLimits = Pick<LimitsConfig, "maxConnectionRate" | "connectionQueueMax" | "connectionQueuePerIp">
  & Partial<Pick<LimitsConfig, "ipv6PrefixLength">>;

/**
 * Connection throttle, fair across addresses: at most `maxConnectionRate` connections are released
 * per second, and each release goes to the next address in turn (round-robin over one first-come
 * line per address group, see `addressGroup`: IPv4 address, IPv6 /`ipv6PrefixLength`). Connections
 * from one address keep their order; an address that starts waiting joins the back of the turn, so a
 * newcomer waits at most (addresses waiting / rate) seconds however many connections each of them has
 * queued. A full queue (`connectionQueueMax`) displaces the newest connection of the address with the
 * most waiting to make room for an address with fewer (at least two fewer), so a few addresses cannot
 * fill the queue against everyone else either. The spacing is keyed on the last *released* connection
 * (not the last arrival), so a steady flood cannot starve the queue.
 */
export class ConnectionThrottle<S extends { readonly address: string | null }> {
  /** Waiting connections by address group, in turn order: the first group is served next; a served group that still has some waiting moves to the back. */
  private readonly lines = new Map<string, S[]>();
  /** The group each waiting connection was queued under. */
  private readonly groupOf = new Map<S, string>();
  /** Groups by how many connections they have waiting, and the longest line (to find whom a full queue displaces). */
  private readonly byLength = new Map<number, Set<string>>();
  private longest = 0;
  private count = 0;
  private nextFree = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly limits: ThrottleLimits,
    private readonly clock: Clock,
    private readonly events: ThrottleEvents<S>,
  ) {}

  private get spacingMs(): number {
    return 1000 / this.limits.maxConnectionRate;
  }

  /** Connections waiting. */
  get length(): number {
    return this.count;
  }

  /** Address groups with at least one connection waiting (the most turns a newcomer waits for). */
  get addresses(): number {
    return this.lines.size;
  }

  enqueue(session: S): void {
    const now = this.clock.now();
    if (this.limits.maxConnectionRate <= 0 || (this.count === 0 && now >= this.nextFree)) {
      this.nextFree = now + (this.limits.maxConnectionRate > 0 ? this.spacingMs : 0);
      this.events.release(session);
      return;
    }
    const group = addressGroup(session.address, this.limits.ipv6PrefixLength ?? DEFAULT_CONFIG.limits.ipv6PrefixLength);
    const had = this.lines.get(group)?.length ?? 0;
    if (had >= this.limits.connectionQueuePerIp) {
      this.events.refused(session, "per-ip");
      return;
    }
    if (this.count >= this.limits.connectionQueueMax) {
      // A full queue makes room for an address with fewer waiting by displacing the newest
      // connection of the address with the most waiting; with no such address, the newcomer is refused.
      if (this.longest <= had + 1) {
        this.events.refused(session, "queue-full");
        return;
      }
      const victim = this.newestOfLongest();
      this.remove(victim);
      this.events.refused(victim, "queue-full");
    }
    const ahead = this.releasesAhead(group, had);
    const line = this.lines.get(group);
    if (line) line.push(session);
    else this.lines.set(group, [session]);
    this.groupOf.set(session, group);
    this.count += 1;
    this.resized(group, had, had + 1);
    const waitMs = Math.max(0, this.nextFree - now) + ahead * this.spacingMs;
    this.events.queued(session, waitMs / 1000);
    this.arm(now);
  }

  /** Drops a queued session (it disconnected while waiting). True when it was queued. */
  remove(session: S): boolean {
    const group = this.groupOf.get(session);
    if (group === undefined) return false;
    this.groupOf.delete(session);
    const line = this.lines.get(group);
    const i = line ? line.indexOf(session) : -1;
    if (line && i >= 0) {
      line.splice(i, 1);
      this.count -= 1;
      if (line.length === 0) this.lines.delete(group);
      this.resized(group, line.length + 1, line.length);
    }
    return true;
  }

  /** Empties the queue, returning the sessions that were waiting (for shutdown). */
  drain(): S[] {
    const waiting = [...this.lines.values()].flat();
    this.clear();
    return waiting;
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.clear();
  }

  /**
   * Releases due before a connection queued now as the `k`-th waiting one of `group` (0-based), if no
   * other address starts waiting meanwhile: the group's own `k`, and from every other waiting group
   * up to `k + 1` (groups served before it in the turn) or `k` (groups after it).
   */
  private releasesAhead(group: string, k: number): number {
    if (k === 0) return this.lines.size;
    let n = 0;
    let before = true;
    for (const [g, line] of this.lines) {
      if (g === group) {
        n += k;
        before = false;
      } else {
        n += Math.min(line.length, before ? k + 1 : k);
      }
    }
    return n;
  }

  private clear(): void {
    this.lines.clear();
    this.groupOf.clear();
    this.byLength.clear();
    this.longest = 0;
    this.count = 0;
  }

  /** Moves `group` from the bucket of lines `from` long to that of lines `to` long (lengths change by one). */
  private resized(group: string, from: number, to: number): void {
    if (from > 0) {
      const bucket = this.byLength.get(from)!;
      bucket.delete(group);
      if (bucket.size === 0) this.byLength.delete(from);
    }
    if (to > 0) {
      const bucket = this.byLength.get(to);
      if (bucket) bucket.add(group);
      else this.byLength.set(to, new Set([group]));
    }
    if (to > this.longest) this.longest = to;
    else if (from === this.longest && !this.byLength.has(from)) this.longest = from - 1;
  }

  /** The last-queued connection of an address with the most connections waiting. */
  private newestOfLongest(): S {
    const group = this.byLength.get(this.longest)!.values().next().value!;
    const line = this.lines.get(group)!;
    return line[line.length - 1]!;
  }

  private arm(now: number): void {
    if (this.timer !== undefined || this.count === 0) return;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, this.nextFree - now));
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const next = this.lines.entries().next();
    if (!next.done) {
      const [group, line] = next.value;
      const session = line.shift()!;
      this.lines.delete(group);
      if (line.length > 0) this.lines.set(group, line);
      this.resized(group, line.length + 1, line.length);
      this.groupOf.delete(session);
      this.count -= 1;
      this.nextFree = now + this.spacingMs;
      this.events.release(session);
    }
    this.arm(now);
  }
}
