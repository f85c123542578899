import { CrossmintAuthenticationError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { CrossmintRefreshStore } from '../interfaces/crossmint-refresh-store.interface.js';
import type { CrossmintRefreshResult } from '../interfaces/crossmint-session.interface.js';
import { CROSSMINT_AUTH_DEFAULTS } from '../crossmint-auth.constants.js';
import { RecentRefreshes, REFUSED } from './recent-refreshes.js';

export interface InMemoryRefreshStoreOptions {
  /**
   * How long a result is handed to late requests still carrying the consumed secret, and how long a secret
   * Crossmint refused (or a logout revoked) is refused without asking again, in ms. Default 10 s; 0 disables both.
   */
  resultTtlMs?: number;
  /** Bound of the cache of results and refusals. Default 10,000. */
  maxSize?: number;
}

/**
 * Coordinates refreshes within this process: a short, bounded cache of outcomes. Requests arriving just after
 * with the consumed secret (another tab, a request already in flight) get the new material instead of a 401,
 * and a secret Crossmint refused is refused again without calling Crossmint. Concurrent calls are already one
 * call by then: the module's single-flight stands in front of every store. Outages are not cached.
 */
export class InMemoryRefreshStore implements CrossmintRefreshStore {
  private readonly recent: RecentRefreshes;

  constructor(options: InMemoryRefreshStoreOptions = {}) {
    this.recent = new RecentRefreshes(
      options.resultTtlMs ?? CROSSMINT_AUTH_DEFAULTS.refreshResultTtlMs,
      options.maxSize ?? CROSSMINT_AUTH_DEFAULTS.refreshResultCacheSize,
    );
  }

  setSecretHashKey(key: Buffer): void {
    this.recent.useHashKey(key);
  }

  run(
    secret: string,
    refresh: () => Promise<CrossmintRefreshResult>,
    id = this.recent.idOf(secret),
  ): Promise<CrossmintRefreshResult> {
    const recent = this.recent.get(id);
    if (recent === REFUSED)
      return Promise.reject(
        new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.RefreshRefused),
      );
    if (recent) return Promise.resolve(recent);
    return refresh().then(
      (result) => {
        this.recent.remember(id, result);
        return result;
      },
      (error: unknown) => {
        if (error instanceof CrossmintAuthenticationError) this.recent.refuse(id);
        throw error;
      },
    );
  }

  revoke(secret: string, id = this.recent.idOf(secret)): Promise<string | undefined> {
    return Promise.resolve(this.recent.revoke(id));
  }

  isRevoked(secret: string, id = this.recent.idOf(secret)): Promise<boolean> {
    return Promise.resolve(this.recent.isRefused(id));
  }
}
