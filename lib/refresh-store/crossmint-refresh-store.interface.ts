import type { CrossmintRefreshToken, CrossmintUser } from '../http/crossmint-api.js';

/**
 * What one refresh produced: only the material a session is rebuilt from. Whoever receives it verifies
 * the JWT again with its own verifier, so a result from a shared store is never trusted as a session.
 */
export interface CrossmintRefreshResult {
  jwt: string;
  refreshToken: CrossmintRefreshToken;
  user: CrossmintUser;
}

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
   * for this secret failed that way.
   */
  run(secret: string, refresh: () => Promise<CrossmintRefreshResult>): Promise<CrossmintRefreshResult>;

  /**
   * Ends the grace window of `secret` (the module calls it at logout): from now on, and for as long as a
   * result would have been kept, `run` rejects with `CrossmintAuthenticationError` for `secret` and for any
   * secret whose result hands out `secret` as its new refresh token. Resolves with the refresh secret of the
   * result dropped for `secret`, if any: the module revokes it at Crossmint too.
   *
   * Optional: without it, logout revokes at Crossmint only and the grace window runs its course.
   */
  revoke?(secret: string): Promise<string | undefined>;

  /**
   * Called once by the module, before any `run`, with a key derived from its API key: the same on every
   * instance that shares the API key. A shared store names secrets by an HMAC under this key, so that whoever
   * reads the store cannot find the entry of a secret they know.
   */
  setSecretHashKey?(key: Buffer): void;
}
