/**
 * Failed-login limiter per key (an IP address): at most `maxFailures` within `windowMs`.
 * An attempt takes a slot up front (so parallel attempts cannot slip past the limit) and gives it
 * back on success. The map is bounded: beyond `maxKeys` the least recently used key is forgotten.
 */
export interface AttemptLimiterOptions {
  maxFailures: number;
  windowMs: number;
  maxKeys: number;
  now?: () => number;
}

export class AttemptLimiter {
  private readonly entries = new Map<string, number[]>();
  private readonly now: () => number;

  constructor(private readonly options: AttemptLimiterOptions) {
    this.now = options.now ?? Date.now;
  }

  get size(): number {
    return this.entries.size;
  }

  /** True when `key` may not try now. */
  blocked(key: string): boolean {
    return this.recent(key).length >= this.options.maxFailures;
  }

  /** Takes a slot for one attempt; false (nothing taken) when the key is blocked. */
  begin(key: string): boolean {
    const list = this.recent(key);
    if (list.length >= this.options.maxFailures) return false;
    list.push(this.now());
    this.touch(key, list);
    return true;
  }

  /** The attempt succeeded: its slot is given back. */
  succeed(key: string): void {
    const list = this.entries.get(key);
    if (!list) return;
    list.pop();
    if (list.length === 0) this.entries.delete(key);
  }

  private recent(key: string): number[] {
    const list = this.entries.get(key);
    if (!list) return [];
    const cutoff = this.now() - this.options.windowMs;
    while (list.length > 0 && list[0]! <= cutoff) list.shift();
    if (list.length === 0) this.entries.delete(key);
    return list;
  }

  private touch(key: string, list: number[]): void {
    this.entries.delete(key);
    this.entries.set(key, list);
    while (this.entries.size > this.options.maxKeys) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
  }
}
