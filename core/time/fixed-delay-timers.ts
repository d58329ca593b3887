import type { Clock, TimerHandle } from "./clock.js";

/** A place in a FixedDelayTimers queue, for `cancel()`; 0 is never a ticket (use it for "none"). */
export type TimerTicket = number;

/**
 * Many timers with one and the same delay (a listener's handshake timeout, its keep-alive interval):
 * since every timer is due `delayMs` after it was added, they fall due in the order they were added,
 * so a first-in first-out queue and one clock timer serve them all. Adding or cancelling one costs two
 * array slots and no closure or timer object, where a timer per session costs a few hundred bytes and
 * a timer created per connection in the accept path. Cancelled entries are skipped when they reach the
 * front; the queue is compacted as it drains, and the clock timer is cleared whenever nothing is due.
 */
export class FixedDelayTimers<T extends object> {
  private items: (T | undefined)[] = [];
  private dueAt: number[] = [];
  /** Index of the first entry not yet fired or skipped. */
  private head = 0;
  /** The ticket of `items[0]` (tickets count up for ever; compaction moves the base). */
  private base = 1;
  private live = 0;
  private timer: TimerHandle | undefined;
  /** True while due items fire (adds and cancels then leave the clock timer to the end of the run). */
  private running = false;

  constructor(
    private readonly clock: Clock,
    readonly delayMs: number,
    private readonly fire: (item: T) => void,
    /** Called when `fire` throws; the other items still fire. */
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Timers added and neither fired nor cancelled. */
  get size(): number {
    return this.live;
  }

  /** Fires `fire(item)` once, `delayMs` from now; returns the ticket that cancels it. */
  add(item: T): TimerTicket {
    const ticket = this.base + this.items.length;
    this.items.push(item);
    this.dueAt.push(this.clock.now() + this.delayMs);
    this.live += 1;
    if (this.timer === undefined && !this.running) this.arm();
    return ticket;
  }

  /** Cancels a timer that has not fired; a stale ticket (fired, cancelled, 0) is ignored. */
  cancel(ticket: TimerTicket): void {
    const i = ticket - this.base;
    if (i < this.head || i >= this.items.length || this.items[i] === undefined) return;
    this.items[i] = undefined;
    this.live -= 1;
    if (this.live === 0 && !this.running) this.clear();
  }

  /** Cancels every timer. */
  clear(): void {
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    this.base += this.items.length;
    this.items = [];
    this.dueAt = [];
    this.head = 0;
    this.live = 0;
  }

  private arm(): void {
    while (this.head < this.items.length && this.items[this.head] === undefined) this.head += 1;
    if (this.head >= this.items.length) return;
    const wait = Math.max(0, this.dueAt[this.head]! - this.clock.now());
    this.timer = this.clock.setTimeout(() => this.run(), wait);
  }

  private run(): void {
    this.timer = undefined;
    const now = this.clock.now();
    // Only what was due when this run began: an item `fire` adds again waits for its own turn.
    const end = this.items.length;
    this.running = true;
    try {
      while (this.head < end && this.dueAt[this.head]! <= now) {
        const item = this.items[this.head];
        this.items[this.head] = undefined;
        this.head += 1;
        if (item === undefined) continue;
        this.live -= 1;
        try {
          this.fire(item);
        } catch (err) {
          this.onError(err);
        }
      }
    } finally {
      this.running = false;
    }
    if (this.live === 0) {
      this.clear();
      return;
    }
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.dueAt = this.dueAt.slice(this.head);
      this.base += this.head;
      this.head = 0;
    }
    this.arm();
  }
}
