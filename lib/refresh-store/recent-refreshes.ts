import { randomBytes } from 'node:crypto';
import { LruCache } from '../utils/lru-cache.js';
import type { CrossmintRefreshResult } from './crossmint-refresh-store.interface.js';
import { hashRefreshSecret } from './refresh-secret-hash.js';

export const REFUSED = Symbol('refused');

/**
 * What a store remembers, for `ttlMs`, of refresh secrets it has seen: the result of their refresh, handed to
 * late requests still carrying the consumed secret, or that the secret is refused (Crossmint refused it, or it
 * was revoked at logout), so that a dead secret sent again does not cost another call to Crossmint.
 * Bounded LRU, keyed by an HMAC of the secret under a key of this process.
 */
export class RecentRefreshes {
  private readonly entries: LruCache<string, CrossmintRefreshResult | typeof REFUSED>;
  private readonly hashKey = randomBytes(32);

  constructor(
    private readonly ttlMs: number,
    maxSize: number,
  ) {
    this.entries = new LruCache(ttlMs > 0 ? maxSize : 0);
  }

  /** The result for `secret`, or `REFUSED`: also when the refresh secret that result hands out was revoked since. */
  get(secret: string): CrossmintRefreshResult | typeof REFUSED | undefined {
    const recent = this.entries.get(this.keyOf(secret));
    if (recent !== REFUSED && recent && this.entries.get(this.keyOf(recent.refreshToken.secret)) === REFUSED) return REFUSED;
    return recent;
  }

  remember(secret: string, result: CrossmintRefreshResult): void {
    const key = this.keyOf(secret);
    // A logout that landed while this refresh was in flight stays in force.
    if (this.entries.get(key) !== REFUSED) this.entries.set(key, result, Date.now() + this.ttlMs);
  }

  refuse(secret: string): void {
    this.entries.set(this.keyOf(secret), REFUSED, Date.now() + this.ttlMs);
  }

  /** Refuses `secret` from now on; returns the refresh secret its remembered result held, if any. */
  revoke(secret: string): string | undefined {
    const key = this.keyOf(secret);
    const recent = this.entries.get(key);
    this.entries.set(key, REFUSED, Date.now() + this.ttlMs);
    return recent === REFUSED ? undefined : recent?.refreshToken.secret;
  }

  private keyOf(secret: string): string {
    return hashRefreshSecret(secret, this.hashKey);
  }
}
