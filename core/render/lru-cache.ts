/**
 * A small bounded LRU cache on top of Map's insertion order: a hit is re-inserted at the end, and inserting past
 * capacity evicts the oldest entry. Capacity 0 disables caching.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, V>();
  private capacity: number;
  /**
   * A live iterator kept between evictions. Map iterators follow later changes, and everything before its
   * position has been evicted or moved to the end, so its next key is always the oldest. A fresh iterator per
   * eviction would have to skip every deleted slot at the front of the table (microseconds at 10 000 entries).
   */
  private evictor: Iterator<K> | undefined;

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
    this.evictor = undefined;
  }

  private trim(): void {
    while (this.entries.size > this.capacity) {
      let oldest = this.evictor?.next();
      if (!oldest || oldest.done === true) {
        this.evictor = this.entries.keys();
        oldest = this.evictor.next();
        if (oldest.done === true) break;
      }
      this.entries.delete(oldest.value);
    }
  }
}
