import { systemClock, type Clock, type TimerHandle } from "../time/clock.js";

/** The system clock, counting the timers set through it that have neither fired nor been cleared. */
export class TrackingClock implements Clock {
  private readonly live = new Set<TimerHandle>();

  constructor(private readonly inner: Clock = systemClock) {}

  get pendingTimers(): number {
    return this.live.size;
  }

  now(): number {
    return this.inner.now();
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const handle: TimerHandle = this.inner.setTimeout(() => {
      this.live.delete(handle);
      fn();
    }, ms);
    this.live.add(handle);
    return handle;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle === undefined) return;
    this.live.delete(handle);
    this.inner.clearTimeout(handle);
  }
}
