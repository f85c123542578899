import { LRUCache } from 'lru-cache';

/**
 * A cache bounded to a total weight (by default each entry weighs 1: a bound on the count) whose entries expire;
 * the least recently used are evicted first. It is the `lru-cache` package's: its hits move an entry in a linked
 * list held in arrays, where an LRU over a Map alone must delete and re-insert the Map's entry (3–5× the time of a
 * hit when many keys take turns; the comparison is in BENCHMARKS.md).
 *
 * An entry expires at the `expiresAt` given to `set`, or, when the cache is made with `expiryOf`, at
 * `expiryOf(value)`: values that carry their own expiry need no per-entry timestamps, and a hit reads two arrays
 * fewer (what a cache of 100,000 sessions taking turns feels most).
 */
export class LruCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly cache: LRUCache<K, V> | undefined;
  /** Entries evicted before they expired, since the cache was made: a cache too small for its load evicts many. */
  evictedUnexpired = 0;

  constructor(
    maxWeight: number,
    private readonly expiryOf?: (value: V) => number,
  ) {
    this.cache =
      maxWeight > 0
        ? new LRUCache<K, V>({
            maxSize: maxWeight,
            // Read the clock on each lookup: the default caches it for 1 ms with a new timer each time, which
            // costs a busy server more than the clock does.
            ttlResolution: 0,
            // Called while the evicted entry is still in place, so its remaining time can be read.
            dispose: (value, key, reason) => {
              if (reason === 'evict' && this.remainingMs(key, value) > 0) this.evictedUnexpired++;
            },
          })
        : undefined;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  get(key: K): V | undefined {
    const value = this.cache?.get(key);
    if (value === undefined || this.expiryOf === undefined || this.expiryOf(value) > Date.now()) return value;
    this.cache!.delete(key);
    return undefined;
  }

  /** Stores `value` unless `expiresAt` is past (with `expiryOf`, the value's own expiry then applies). */
  set(key: K, value: V, expiresAt: number, weight = 1): void {
    const ttl = expiresAt - Date.now();
    if (!this.cache || ttl <= 0 || weight > this.cache.maxSize) return;
    const timed = this.expiryOf === undefined && Number.isFinite(ttl);
    this.cache.set(key, value, { ttl: timed ? ttl : 0, size: weight });
  }

  clear(): void {
    this.cache?.clear();
  }

  private remainingMs(key: K, value: V): number {
    return this.expiryOf ? this.expiryOf(value) - Date.now() : this.cache!.getRemainingTTL(key);
  }
}
