interface Entry<K, V> {
  key: K;
  value: V;
  expiresAt: number;
  /** `inserts` when the entry was last (re-)inserted: how far it is from the most recent end. */
  insertedAt: number;
  weight: number;
}

/**
 * A Map bounded to a total weight (by default each entry weighs 1: a bound on the count) whose entries expire;
 * the least recently used are evicted first, give or take half the cache.
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
  private weight = 0;
  /** Entries evicted before they expired, since the cache was made: a cache too small for its load evicts many. */
  evictedUnexpired = 0;

  constructor(private readonly maxWeight: number) {}

  get size(): number {
    return this.entries.size;
  }

  get(key: K, now = Date.now()): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.delete(entry);
      return undefined;
    }
    if (this.inserts - entry.insertedAt >= this.entries.size >> 1) {
      this.entries.delete(key);
      // Re-inserted under the key it was stored with: the lookup key may be a slice of a much larger string
      // (a request's Cookie header) that the cache must not keep alive.
      entry.insertedAt = this.inserts++;
      this.entries.set(entry.key, entry);
    }
    return entry.value;
  }

  set(key: K, value: V, expiresAt: number, weight = 1): void {
    if (weight > this.maxWeight) return;
    const old = this.entries.get(key);
    if (old) this.delete(old);
    if (this.weight + weight > this.maxWeight) this.evictOldest(weight);
    this.entries.set(key, { key, value, expiresAt, insertedAt: this.inserts++, weight });
    this.weight += weight;
  }

  clear(): void {
    this.entries.clear();
    this.weight = 0;
  }

  private delete(entry: Entry<K, V>): void {
    this.entries.delete(entry.key);
    this.weight -= entry.weight;
  }

  /** Evicts the oldest entries until `incoming` fits with a sixteenth of the bound to spare. */
  private evictOldest(incoming: number): void {
    const target = this.maxWeight - Math.ceil(this.maxWeight / 16) - incoming;
    const now = Date.now();
    for (const entry of this.entries.values()) {
      this.delete(entry);
      if (entry.expiresAt > now) this.evictedUnexpired++;
      if (this.weight <= target) break;
    }
  }
}
