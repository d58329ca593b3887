import type { Clock, TimerHandle } from "../time/clock.js";
import type { LimitsConfig } from "../config/portal-config.js";

export interface ThrottleEvents<S> {
  /** The session may now be announced to the game. */
  release(session: S): void;
  /** The session must wait `seconds` (position × spacing, measured from now). */
  queued(session: S, seconds: number): void;
  /** The queue (or this address's share of it) is full: tell the player and close. */
  refused(session: S, why: "queue-full" | "per-ip"): void;
}

/**
 * First come, first served connection throttle. A token bucket keyed on the last *released*
 * connection (not the last arrival), so a steady flood cannot starve the queue.
 */
export class ConnectionThrottle<S extends { readonly address: string | null }> {
  private readonly queue: S[] = [];
  private readonly perIp = new Map<string, number>();
  private nextFree = 0;
  private timer: TimerHandle | undefined;

  constructor(
    private readonly limits: Pick<LimitsConfig, "maxConnectionRate" | "connectionQueueMax" | "connectionQueuePerIp">,
    private readonly clock: Clock,
    private readonly events: ThrottleEvents<S>,
  ) {}

  private get spacingMs(): number {
    return 1000 / this.limits.maxConnectionRate;
  }

  get length(): number {
    return this.queue.length;
  }

  enqueue(session: S): void {
    const now = this.clock.now();
    if (this.limits.maxConnectionRate <= 0 || (this.queue.length === 0 && now >= this.nextFree)) {
      this.nextFree = now + (this.limits.maxConnectionRate > 0 ? this.spacingMs : 0);
      this.events.release(session);
      return;
    }
    if (this.queue.length >= this.limits.connectionQueueMax) {
      this.events.refused(session, "queue-full");
      return;
    }
    const ip = session.address ?? "";
    const fromIp = this.perIp.get(ip) ?? 0;
    if (fromIp >= this.limits.connectionQueuePerIp) {
      this.events.refused(session, "per-ip");
      return;
    }
    this.perIp.set(ip, fromIp + 1);
    this.queue.push(session);
    const waitMs = Math.max(0, this.nextFree - now) + (this.queue.length - 1) * this.spacingMs;
    this.events.queued(session, waitMs / 1000);
    this.arm(now);
  }

  /** Drops a queued session (it disconnected while waiting). True when it was queued. */
  remove(session: S): boolean {
    const i = this.queue.indexOf(session);
    if (i < 0) return false;
    this.queue.splice(i, 1);
    this.forget(session);
    return true;
  }

  /** Empties the queue, returning the sessions that were waiting (for shutdown). */
  drain(): S[] {
    const waiting = this.queue.splice(0);
    this.perIp.clear();
    return waiting;
  }

  stop(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.queue.length = 0;
    this.perIp.clear();
  }

  private arm(now: number): void {
    if (this.timer !== undefined || this.queue.length === 0) return;
    this.timer = this.clock.setTimeout(() => this.tick(), Math.max(0, this.nextFree - now));
  }

  private tick(): void {
    this.timer = undefined;
    const now = this.clock.now();
    const session = this.queue.shift();
    if (session) {
      this.forget(session);
      this.nextFree = now + this.spacingMs;
      this.events.release(session);
    }
    this.arm(now);
  }

  private forget(session: S): void {
    const ip = session.address ?? "";
    const n = (this.perIp.get(ip) ?? 1) - 1;
    if (n <= 0) this.perIp.delete(ip);
    else this.perIp.set(ip, n);
  }
}
