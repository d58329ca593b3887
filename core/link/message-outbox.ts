import { systemClock, type Clock, type TimerHandle } from "../time/clock.js";
import { frameBatches } from "./chunks.js";

/**
 * Serialized link messages waiting to go out, written together in as few frames as fit: at the end
 * of the event-loop turn, at once when `batchMaxBytes` are waiting, or, for messages that may wait
 * (`mayWaitMs`), up to that long for company unless something else is sent first. One per link
 * connection (TCP) or epoch (NATS); `write` gets each frame's batch.
 */
export class MessageOutbox {
  private pending: string[] = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  /** Set while only messages that may wait are pending. */
  private lateFlush: TimerHandle | undefined;

  constructor(
    private readonly options: { batchMaxBytes: number; clock?: Clock },
    /** The frame limit in force (it may be raised later). */
    private readonly frameLimit: () => number,
    private readonly write: (batch: string[]) => void,
  ) {}

  push(json: string, mayWaitMs = 0): void {
    this.pending.push(json);
    this.pendingBytes += json.length;
    if (this.pendingBytes >= this.options.batchMaxBytes) this.flush();
    else if (this.flushScheduled) return;
    else if (mayWaitMs > 0) this.lateFlush ??= (this.options.clock ?? systemClock).setTimeout(() => this.flush(), mayWaitMs);
    else {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  /** Writes everything pending now. */
  flush(): void {
    this.flushScheduled = false;
    this.cancelLate();
    if (this.pending.length === 0) return;
    const pending = this.pending;
    this.pending = [];
    this.pendingBytes = 0;
    for (const batch of frameBatches(pending, this.options.batchMaxBytes, this.frameLimit())) this.write(batch);
  }

  /** Forgets what is pending (the connection is gone). */
  clear(): void {
    this.cancelLate();
    this.pending = [];
    this.pendingBytes = 0;
  }

  private cancelLate(): void {
    (this.options.clock ?? systemClock).clearTimeout(this.lateFlush);
    this.lateFlush = undefined;
  }
}
