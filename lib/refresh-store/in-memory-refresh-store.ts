import { LruCache } from '../utils/lru-cache.js';
import type { CrossmintRefreshResult, CrossmintRefreshStore } from './crossmint-refresh-store.interface.js';
import { hashRefreshSecret } from './refresh-secret-hash.js';

export interface InMemoryRefreshStoreOptions {
  /** How long a result is handed to late requests still carrying the consumed secret, in ms. Default 10 s; 0 disables. */
  resultTtlMs?: number;
  /** Bound of the result cache. Default 10,000. */
  maxSize?: number;
}

/**
 * Coordinates refreshes within this process: a short, bounded cache of results so that requests arriving
 * just after with the consumed secret (another tab, a request already in flight) get the new material
 * instead of a 401. Concurrent calls are already one call by then: the module's single-flight stands in
 * front of every store. Failures are not cached.
 */
export class InMemoryRefreshStore implements CrossmintRefreshStore {
  private readonly recent: LruCache<string, CrossmintRefreshResult>;
  private readonly resultTtlMs: number;

  constructor(options: InMemoryRefreshStoreOptions = {}) {
    this.resultTtlMs = options.resultTtlMs ?? 10_000;
    this.recent = new LruCache(this.resultTtlMs > 0 ? (options.maxSize ?? 10_000) : 0);
  }

  run(secret: string, refresh: () => Promise<CrossmintRefreshResult>): Promise<CrossmintRefreshResult> {
    const key = hashRefreshSecret(secret);
    const recent = this.recent.get(key);
    if (recent) return Promise.resolve(recent);
    return refresh().then((result) => {
      this.recent.set(key, result, Date.now() + this.resultTtlMs);
      return result;
    });
  }
}
