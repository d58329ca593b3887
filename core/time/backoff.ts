/** Capped exponential back-off: initial × factorⁿ up to max, with optional ± jitter fraction. */
export interface BackoffPolicy {
  initialMs: number;
  factor: number;
  maxMs: number;
  /** 0..1: each delay is spread by up to this fraction either way. */
  jitter?: number;
}

export class Backoff {
  private attempt = 0;

  constructor(
    private readonly policy: BackoffPolicy,
    private readonly random: () => number = Math.random,
  ) {}

  /** The delay before the next attempt; each call moves one step up. */
  next(): number {
    const { initialMs, factor, maxMs, jitter = 0 } = this.policy;
    const base = Math.min(maxMs, initialMs * factor ** this.attempt);
    this.attempt += 1;
    if (jitter <= 0) return base;
    return Math.max(0, Math.min(maxMs, base * (1 + jitter * (2 * this.random() - 1))));
  }

  reset(): void {
    this.attempt = 0;
  }
}
