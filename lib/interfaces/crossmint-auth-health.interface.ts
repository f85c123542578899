/** The Crossmint side of the app's health, as `CrossmintAuthHealthIndicator` reports it. */
export interface CrossmintAuthHealth {
  /**
   * `down`: sessions cannot be checked or refreshed (the API key is refused, or no usable signing keys after a
   * failed fetch). `degraded`: working on borrowed time (stale keys, most recent refreshes failing upstream, the
   * refresh store unreachable). `up` otherwise.
   */
  state: 'up' | 'degraded' | 'down';
  /** Why not `up`, as reason codes: `api_key_refused`, `keys_unavailable`, `keys_stale`, `refreshes_failing`, `refresh_store_unreachable`. */
  problems: string[];
  keys: {
    /** Seconds since the last good JWKS fetch; absent before the first one and with static `jwks`. */
    ageSec?: number;
    /** Serving keys older than `jwksMaxAgeMs` because the JWKS endpoint fails. */
    stale: boolean;
    /** The reason of the last failed fetch, when it failed after the last good one. */
    lastError?: string;
  };
  /** What Crossmint said of the API key when last asked: it is asked when a refresh is refused. */
  apiKey: 'unknown' | 'accepted' | 'refused';
  /** The last refreshes (up to 50): how many, how many failed for a reason that is not the user's, and the last reason. */
  refreshes: { recent: number; failing: number; lastFailure?: string };
  /** Present when the refresh store can tell (`RedisRefreshStore`). */
  refreshStore?: { reachable: boolean };
}

/**
 * A Terminus health indicator result: `{ [key]: { status, ...CrossmintAuthHealth } }`. With `@nestjs/terminus` 12
 * a degraded state has `status: 'degraded'` (the check answers 200 with status `degraded`); terminus 11 has no
 * such status, so it reports `up`. `state` always tells the three apart.
 */
export type CrossmintAuthHealthIndicatorResult<Key extends string = string> = Record<
  Key,
  CrossmintAuthHealth & { status: 'up' | 'down' }
>;
