import { randomBytes } from 'node:crypto';
import type { CrossmintRefreshResult } from '../interfaces/crossmint-session.interface.js';
import { LruCache } from '../utils/lru-cache.js';
import { hashRefreshSecret } from './refresh-secret-hash.js';

export const REFUSED = Symbol('refused');

/** How many refreshes on a grace result is followed to find a refresh token revoked since (S0 → S1 → S2 …). */
const MAX_HOPS = 4;

/**
 * What a store remembers, for `ttlMs`, of refresh secrets it has seen, by id (an HMAC of the secret): the result
 * of their refresh, handed to late requests still carrying the consumed secret, or that the secret is refused
 * (Crossmint refused it, or it was revoked at logout), so that a dead secret sent again costs no call to Crossmint.
 * Bounded LRU.
 */
export class RecentRefreshes {
  private readonly entries: LruCache<string, CrossmintRefreshResult | typeof REFUSED>;
  private hashKey: Buffer = randomBytes(32);

  constructor(
    private readonly ttlMs: number,
    maxSize: number,
  ) {
    this.entries = new LruCache(ttlMs > 0 ? maxSize : 0);
  }

  /** Names secrets with the module's key from now on, so that the ids it passes match. */
  useHashKey(key: Buffer): void {
    this.hashKey = key;
  }

  idOf(secret: string): string {
    return hashRefreshSecret(secret, this.hashKey);
  }

  /** The result for `id`, or `REFUSED`: also when a refresh token it leads to was revoked since. */
  get(id: string): CrossmintRefreshResult | typeof REFUSED | undefined {
    const recent = this.entries.get(id);
    if (recent === undefined || recent === REFUSED) return recent;
    let next: CrossmintRefreshResult = recent;
    for (let hop = 0; hop < MAX_HOPS; hop++) {
      const after = this.entries.get(this.idOf(next.refreshToken.secret));
      if (after === REFUSED) return REFUSED;
      if (!after) break;
      next = after;
    }
    return recent;
  }

  isRefused(id: string): boolean {
    return this.entries.get(id) === REFUSED;
  }

  remember(id: string, result: CrossmintRefreshResult): void {
    // A logout that landed while this refresh was in flight stays in force.
    if (!this.isRefused(id)) this.entries.set(id, result, Date.now() + this.ttlMs);
  }

  refuse(id: string): void {
    this.entries.set(id, REFUSED, Date.now() + this.ttlMs);
  }

  /** Refuses `id` from now on; returns the refresh secret its remembered result held, if any. */
  revoke(id: string): string | undefined {
    const recent = this.entries.get(id);
    this.refuse(id);
    return recent === REFUSED ? undefined : recent?.refreshToken.secret;
  }
}
