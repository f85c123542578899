import type { CrossmintRefreshResult } from './crossmint-session.interface.js';

/**
 * Where refreshes are coordinated. Refresh secrets are good for one refresh, so every request carrying
 * the same secret must share one upstream call and its result. The module's own single-flight always
 * stands in front of the store; the store widens that to late requests and, when shared, to other
 * instances of the app.
 *
 * Default: `InMemoryRefreshStore` (this process only). Behind a load balancer: `RedisRefreshStore`.
 */
export interface CrossmintRefreshStore {
  /**
   * Calls `refresh` for this secret, or hands back what a call for the same secret produced (here or,
   * with a shared store, on another instance). Rejects with `refresh`'s error, or with
   * `CrossmintAuthenticationError` / `CrossmintServiceUnavailableError` when another instance's refresh
   * for this secret failed that way. `id` is the module's name for the secret (an HMAC under the key given to
   * `setSecretHashKey`): a store that names entries that way need not hash the secret again.
   */
  run(secret: string, refresh: () => Promise<CrossmintRefreshResult>, id?: string): Promise<CrossmintRefreshResult>;

  /**
   * Ends the grace window of `secret` (the module calls it at logout): from now on, and for as long as a
   * result would have been kept, `run` rejects with `CrossmintAuthenticationError` for `secret` and for any
   * secret whose result hands out `secret` as its new refresh token. Resolves with the refresh secret of the
   * result dropped for `secret`, if any: the module revokes it at Crossmint too.
   *
   * Optional: without it, logout revokes at Crossmint only and the grace window runs its course.
   */
  revoke?(secret: string, id?: string): Promise<string | undefined>;

  /**
   * Whether `secret` was revoked (by `revoke`, here or on another instance) within the grace window. The module
   * asks once a refresh of `secret` completes: a logout that landed meanwhile wins, and the new refresh token is
   * revoked in turn. Optional: without it, that race is lost to the refresh.
   */
  isRevoked?(secret: string, id?: string): Promise<boolean>;

  /**
   * Called once by the module, before any `run`, with a key derived from its API key: the same on every
   * instance that shares the API key. A shared store names secrets by an HMAC under this key, so that whoever
   * reads the store cannot find the entry of a secret they know.
   */
  setSecretHashKey?(key: Buffer): void;

  /** Whether the store's backend answers now (`RedisRefreshStore`: a Redis command); the health indicator asks. */
  isReachable?(): Promise<boolean>;
}
