// The hand-written LRU this package used until round 5 (lib/utils/lru-cache.ts then, types removed): kept so that
// bench/cache.mjs can compare it with the lru-cache package on the same keys and values. An entry moves to the
// recent end only once it has drifted into the older half; a full cache evicts its oldest sixteenth in one walk.
export class HandWrittenLru {
  entries = new Map();
  inserts = 0;

  constructor(maxSize) {
    this.maxSize = maxSize;
  }

  get(key, now = Date.now()) {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= now) {
      this.entries.delete(key);
      return undefined;
    }
    if (this.inserts - entry.insertedAt >= this.maxSize >> 1) {
      this.entries.delete(key);
      entry.insertedAt = this.inserts++;
      this.entries.set(entry.key, entry);
    }
    return entry.value;
  }

  set(key, value, expiresAt) {
    if (this.maxSize <= 0) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxSize) this.evictOldest();
    this.entries.set(key, { key, value, expiresAt, insertedAt: this.inserts++ });
  }

  evictOldest() {
    let count = Math.ceil(this.maxSize / 16);
    for (const key of this.entries.keys()) {
      this.entries.delete(key);
      if (--count === 0) break;
    }
  }
}
