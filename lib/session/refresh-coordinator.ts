import { Inject, Injectable } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import { LruCache } from '../utils/lru-cache.js';

/**
 * Refresh tokens are good for one refresh, so concurrent requests carrying the same secret must share
 * one upstream call (single-flight), and requests arriving shortly after with the consumed secret
 * (another tab, a request already in flight) get the same result instead of a 401.
 * Keys are a hash of the secret, never the secret itself.
 */
@Injectable()
export class RefreshCoordinator {
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly recent: LruCache<string, unknown>;

  constructor(@Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions) {
    this.recent = new LruCache(options.refreshResultTtlMs > 0 ? options.refreshResultCacheSize : 0);
  }

  run<T>(secret: string, refresh: () => Promise<T>): Promise<T> {
    const key = createHash('sha256').update(secret).digest('base64url');
    const recent = this.recent.get(key);
    if (recent !== undefined) return Promise.resolve(recent as T);

    let pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = refresh()
        .then((result) => {
          this.recent.set(key, result, Date.now() + this.options.refreshResultTtlMs);
          return result;
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }
}
