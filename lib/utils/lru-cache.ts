import { LRUCache } from 'lru-cache';

/**
 * A cache bounded to a total weight (by default each entry weighs 1: a bound on the count) whose entries expire;
 * the least recently used are evicted first. It is the `lru-cache` package's: its hits move an entry in a linked
 * list held in arrays, where an LRU over a Map alone must delete and re-insert the Map's entry (3–5× the time of a
 * hit when many keys take turns; the comparison is in BENCHMARKS.md).
 */
export class LruCache<K extends NonNullable<unknown>, V extends NonNullable<unknown>> {
  private readonly cache: LRUCache<K, V> | undefined;

  constructor(maxWeight: number) {
    // ttlResolution 0: read the clock on each lookup. The default caches it for 1 ms with a new timer each time,
    // which costs a busy server more than the clock does.
    this.cache = maxWeight > 0 ? new LRUCache<K, V>({ maxSize: maxWeight, ttlResolution: 0 }) : undefined;
  }

  get size(): number {
    return this.cache?.size ?? 0;
  }

  get(key: K): V | undefined {
    return this.cache?.get(key);
  }

  /** Stores `value` until `expiresAt` (a time in ms; Infinity: until evicted), unless that is past. */
  set(key: K, value: V, expiresAt: number, weight = 1): void {
    const ttl = expiresAt - Date.now();
    if (!this.cache || ttl <= 0 || weight > this.cache.maxSize) return;
    this.cache.set(key, value, { ttl: Number.isFinite(ttl) ? ttl : 0, size: weight });
  }

  clear(): void {
    this.cache?.clear();
  }
}
