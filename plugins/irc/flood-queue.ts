/**
 * Outgoing flood control for the IRC bot: a token bucket in front of a bounded FIFO.
 *
 * The bucket holds up to `burst` tokens and refills at `ratePerSec`; each line sent costs one token. A line is sent
 * at once when a token is available and nothing is waiting, otherwise it is queued. When the queue is full, new
 * lines are dropped and counted, and ONE marker line (e.g. `[… 7 line(s) clipped]`) is queued as soon as there is
 * room; its count keeps growing while it waits, so readers see how much was clipped and where. clear() (on
 * disconnect) discards everything without a marker but keeps the bucket's state, so a reconnect cannot be used to
 * send faster than the bucket allows. All timing goes through the injected Clock; at most one timer is pending.
 */
import type { Clock, TimerHandle } from "../../core/index.js";

export interface FloodQueueOptions {
  /** Tokens added per second (lines per second in the long run). Default 1. */
  ratePerSec?: number;
  /** Bucket size: lines that may go out back to back after a quiet period. Default 3. */
  burst?: number;
  /** Lines that may wait in the queue (the clipped marker, once queued, takes one of these slots). Default 100. */
  queueMax?: number;
  clock: Clock;
  /** Writes one line to the IRC connection. Errors it throws are caught and passed to onError. */
  send: (line: string) => void;
  /** The marker line for `n` dropped lines. Default `[… n line(s) clipped]`. */
  clippedMarker?: (n: number) => string;
  /** Called with anything send() throws (the line counts as sent). Default: ignored. */
  onError?: (err: unknown) => void;
}

/** What push() did with a line. */
export type PushResult = "sent" | "queued" | "dropped";

interface Marker {
  readonly marker: true;
  count: number;
}

type Item = string | Marker;

/** Tokens within this of a whole token count as one (guards against floating-point drift). */
const EPSILON = 1e-9;

export const defaultClippedMarker = (n: number): string => `[… ${n} line(s) clipped]`;

export class FloodQueue {
  private readonly ratePerSec: number;
  private readonly burst: number;
  private readonly queueMax: number;
  private readonly clock: Clock;
  private readonly sendLine: (line: string) => void;
  private readonly clippedMarker: (n: number) => string;
  private readonly onError: (err: unknown) => void;

  private tokens: number;
  private lastRefill: number;
  private readonly queue: Item[] = [];
  /** The marker counting dropped lines, until it is sent (queued or still waiting for room). */
  private marker: Marker | undefined;
  private markerQueued = false;
  private timer: TimerHandle | undefined;
  private droppedTotal = 0;
  private stopped = false;
  private pumping = false;

  constructor(options: FloodQueueOptions) {
    const { ratePerSec = 1, burst = 3, queueMax = 100 } = options;
    if (!Number.isFinite(ratePerSec) || ratePerSec <= 0) throw new RangeError(`FloodQueue: ratePerSec must be > 0, got ${ratePerSec}`);
    if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`FloodQueue: burst must be an integer >= 1, got ${burst}`);
    if (!Number.isInteger(queueMax) || queueMax < 0) throw new RangeError(`FloodQueue: queueMax must be an integer >= 0, got ${queueMax}`);
    this.ratePerSec = ratePerSec;
    this.burst = burst;
    this.queueMax = queueMax;
    this.clock = options.clock;
    this.sendLine = options.send;
    this.clippedMarker = options.clippedMarker ?? defaultClippedMarker;
    this.onError = options.onError ?? (() => {});
    this.tokens = burst;
    this.lastRefill = this.clock.now();
  }

  /** Lines waiting in the queue (including a queued clipped marker). */
  get length(): number {
    return this.queue.length;
  }

  /** Lines dropped because the queue was full, since construction (clear() does not count). */
  get dropped(): number {
    return this.droppedTotal;
  }

  /** Whether a timer is pending (for diagnostics and tests). */
  get waiting(): boolean {
    return this.timer !== undefined;
  }

  /** Send `line` now if the bucket allows and nothing is waiting; otherwise queue it, or drop it if the queue is full. */
  push(line: string): PushResult {
    if (this.stopped) return "dropped";
    this.pump(); // anything already due goes first, keeping the order
    this.refill();
    let result: PushResult;
    if (this.queue.length === 0 && this.marker === undefined && this.tokens >= 1 - EPSILON && !this.pumping) {
      this.take();
      this.deliver(line);
      result = "sent";
    } else if (this.queue.length < this.queueMax) {
      this.queue.push(line);
      result = "queued";
    } else {
      this.droppedTotal++;
      if (this.marker === undefined) this.marker = { marker: true, count: 1 };
      else this.marker.count++;
      this.placeMarker();
      result = "dropped";
    }
    this.pump();
    return result;
  }

  /**
   * Puts `lines` at the head of the queue, in their order, ahead of everything waiting: lines that already came
   * through the queue once and could not be delivered (held while IRC was unreachable or a channel not yet joined)
   * go before the ones the game sent after them. Paced like the rest; not counted against `queueMax` (the caller
   * bounds them), so nothing is dropped here.
   */
  requeue(lines: readonly string[]): void {
    if (this.stopped || lines.length === 0) return;
    this.queue.unshift(...lines);
    this.pump();
  }

  /** Drop everything waiting (no marker) and cancel the timer. The bucket keeps its state. Returns lines discarded. */
  clear(): number {
    const discarded = this.queue.filter((item) => typeof item === "string").length;
    this.queue.length = 0;
    this.marker = undefined;
    this.markerQueued = false;
    this.cancelTimer();
    return discarded;
  }

  /** Final: cancels the timer and discards everything; later pushes are ignored. */
  stop(): void {
    this.stopped = true;
    this.clear();
  }

  private refill(): void {
    const now = this.clock.now();
    const elapsed = now - this.lastRefill;
    this.lastRefill = now;
    if (elapsed > 0) this.tokens = Math.min(this.burst, this.tokens + (elapsed * this.ratePerSec) / 1000);
  }

  private take(): void {
    this.tokens = Math.max(0, this.tokens - 1);
  }

  private deliver(line: string): void {
    try {
      this.sendLine(line);
    } catch (err) {
      try {
        this.onError(err);
      } catch {
        // an error handler that throws must not break the queue
      }
    }
  }

  /** Put a waiting marker into the queue once there is room. */
  private placeMarker(): void {
    if (this.marker !== undefined && !this.markerQueued && this.queue.length < this.queueMax) {
      this.queue.push(this.marker);
      this.markerQueued = true;
    }
  }

  /** Send what the bucket allows, in order, then arm the timer for the rest. */
  private pump(): void {
    if (this.stopped || this.pumping) return;
    this.pumping = true;
    try {
      this.refill();
      while (this.tokens >= 1 - EPSILON) {
        // With queueMax 0 a marker can never be queued: it goes out directly once the queue is empty.
        const item: Item | undefined = this.queue.length > 0
          ? this.queue.shift()
          : this.marker !== undefined && !this.markerQueued ? this.marker : undefined;
        if (item === undefined) break;
        this.take();
        if (typeof item === "string") {
          this.deliver(item);
        } else {
          this.marker = undefined;
          this.markerQueued = false;
          this.deliver(this.clippedMarker(item.count));
        }
        if (this.stopped) return;
        this.placeMarker();
      }
    } finally {
      this.pumping = false;
    }
    this.schedule();
  }

  private schedule(): void {
    const pending = this.queue.length > 0 || this.marker !== undefined;
    if (!pending) {
      this.cancelTimer();
      return;
    }
    if (this.timer !== undefined) return;
    const delay = Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.ratePerSec));
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  private cancelTimer(): void {
    if (this.timer !== undefined) {
      this.clock.clearTimeout(this.timer);
      this.timer = undefined;
    }
  }
}
