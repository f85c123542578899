import { Inject, Injectable, Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import type { CrossmintRefreshResult, CrossmintRefreshStore } from '../refresh-store/crossmint-refresh-store.interface.js';
import { InMemoryRefreshStore } from '../refresh-store/in-memory-refresh-store.js';
import { deriveRefreshSecretHashKey, hashRefreshSecret } from '../refresh-store/refresh-secret-hash.js';

/**
 * Refresh tokens are good for one refresh, so concurrent requests carrying the same secret must share
 * one upstream call (single-flight, always in this process) and its result (the `refreshStore`: this
 * process by default, every instance with a shared store). Whatever the store hands back is accepted
 * (verified) once per flight before it becomes a session.
 * Keys are a keyed hash of the secret, never the secret itself.
 */
@Injectable()
export class RefreshCoordinator {
  private readonly logger = new Logger('CrossmintAuth');
  private readonly inFlight = new Map<string, Promise<unknown>>();
  private readonly hashKey = randomBytes(32);
  private readonly store: CrossmintRefreshStore;

  constructor(@Inject(CROSSMINT_AUTH_OPTIONS) options: ResolvedCrossmintAuthOptions) {
    this.store =
      options.refreshStore ??
      new InMemoryRefreshStore({ resultTtlMs: options.refreshResultTtlMs, maxSize: options.refreshResultCacheSize });
    // Every instance shares the API key, so a shared store gets the same key everywhere without configuration.
    this.store.setSecretHashKey?.(deriveRefreshSecretHashKey(options.apiKey));
  }

  run<T>(
    secret: string,
    refresh: () => Promise<CrossmintRefreshResult>,
    accept: (result: CrossmintRefreshResult) => Promise<T>,
  ): Promise<T> {
    const key = hashRefreshSecret(secret, this.hashKey);
    let pending = this.inFlight.get(key) as Promise<T> | undefined;
    if (!pending) {
      pending = this.store
        .run(secret, refresh)
        .then(accept, (error: unknown) => {
          if (error instanceof CrossmintAuthenticationError || error instanceof CrossmintServiceUnavailableError) throw error;
          // A store that fails in its own way (a custom one, a client bug) is an outage, not a 500.
          this.logger.warn(`Refresh store failed: ${(error as Error)?.name ?? 'unknown error'}`);
          throw new CrossmintServiceUnavailableError();
        })
        .finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  /**
   * Ends the refresh-result grace window of `secret` (at logout): whatever the store handed to late requests
   * carrying it is dropped, and the secret is remembered as refused. Resolves with the refresh secret that the
   * dropped result held, if any, so that the caller can revoke it too.
   */
  async endGrace(secret: string): Promise<string | undefined> {
    try {
      return await this.store.revoke?.(secret);
    } catch (error) {
      // The logout still revokes the secret at Crossmint; only the grace window runs its course.
      this.logger.warn(`Refresh store failed to end a grace window: ${(error as Error)?.name ?? 'unknown error'}`);
      return undefined;
    }
  }
}
