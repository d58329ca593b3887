/**
 * A small bounded LRU cache on top of Map's insertion order: a hit is re-inserted at the end, and inserting past
 * capacity evicts the oldest entry. Capacity 0 disables caching.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  private capacity: number;

  constructor(capacity: number) {
    this.capacity = LruCache.checkCapacity(capacity);
  }

  private static checkCapacity(capacity: number): number {
    if (!Number.isInteger(capacity) || capacity < 0) {
      throw new RangeError(`LRU capacity must be a non-negative integer, got ${String(capacity)}`);
    }
    return capacity;
  }

  get size(): number {
    return this.entries.size;
  }

  get maxEntries(): number {
    return this.capacity;
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    this.entries.delete(key);
    this.entries.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    if (this.capacity === 0) return;
    this.entries.delete(key);
    this.entries.set(key, value);
    this.trim();
  }

  /** Change the capacity, evicting the oldest entries if it shrank. */
  resize(capacity: number): void {
    this.capacity = LruCache.checkCapacity(capacity);
    this.trim();
  }

  clear(): void {
    this.entries.clear();
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }
}
