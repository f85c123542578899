interface Entry<K, V> {
  key: K;
  value: V;
  expiresAt: number;
  /** `inserts` when the entry was last (re-)inserted: how far it is from the most recent end. */
  insertedAt: number;
}

/**
 * A Map bounded to `maxSize` entries whose entries expire; the least recently used are evicted first, give
 * or take half the cache.
 *
 * V8 keeps a Map's deleted slots until it rehashes the Map, and two usual LRU moves walk them: moving an
 * entry on every hit (delete + set) lines them up in the hot key's own hash chain, and evicting the oldest
 * entry one insert at a time (`keys().next()`) starts each time from the front, past every slot freed
 * before. So an entry moves to the recent end only once it has drifted into the older half, and a full
 * cache evicts its oldest sixteenth in one walk.
 */
export class LruCache<K, V> {
  private readonly entries = new Map<K, Entry<K, V>>();
  private inserts = 0;

  constructor(private readonly maxSize: number) {}

  get(key: K, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.inserts - entry.insertedAt >= this.maxSize >> 1) {
      this.entries.delete(key);
      // Re-inserted under the key it was stored with: the lookup key may be a slice of a much larger string
      // (a request's Cookie header) that the cache must not keep alive.
      entry.insertedAt = this.inserts++;
      this.entries.set(entry.key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number): void {
    if (this.maxSize <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxSize) this.evictOldest();
    this.entries.set(key, { key, value, expiresAt, insertedAt: this.inserts++ });
  }

  private evictOldest(): void {
    let count = Math.ceil(this.maxSize / 16);
    for (const key of this.entries.keys()) {
      this.entries.delete(key);
      if (--count === 0) break;
    }
  }

  clear(): void {
    this.entries.clear();
  }
}
