import type { JSONWebKeySet } from 'jose';
import type { CrossmintHttpClient } from './crossmint-http-client.interface.js';
import type { CrossmintRefreshStore } from './crossmint-refresh-store.interface.js';

export type CookieSameSite = 'lax' | 'strict' | 'none';

export interface CrossmintAuthCookieOptions {
  /** Name of the JWT cookie. Default `crossmint-jwt`. */
  jwt?: string;
  /** Name of the refresh-token cookie. Default `crossmint-refresh-token`. */
  refreshToken?: string;
  /** Cookie `Domain`. Default: none (host-only). */
  domain?: string;
  /** Cookie `Path`. Default `/`. */
  path?: string;
  /**
   * `Secure` attribute. Default `'auto'`: set unless the request is plain http to a loopback host with no
   * `X-Forwarded-*`/`Forwarded` header (and always for prefixed names and `sameSite: 'none'`).
   */
  secure?: boolean | 'auto';
  /** Default `'lax'`. */
  sameSite?: CookieSameSite;
  /** Mark the refresh cookie HttpOnly. Default: `true` when `routes.refresh` is set, else `false` (the browser SDK reads it). */
  httpOnlyRefreshToken?: boolean;
  /**
   * With `__Host-`/`__Secure-` names only, for a migration to them: when a request carries none of the prefixed
   * cookies, read the unprefixed ones (`crossmint-jwt-<projectId>`, `crossmint-jwt`, and the refresh-token
   * pair) too. A prefixed cookie always wins, and a failure caused by an unprefixed one clears only unprefixed
   * ones. Default `false`: a sibling subdomain or a plain-http page can plant unprefixed cookies.
   */
  readUnprefixed?: boolean;
}

export interface CrossmintAuthRoutesOptions {
  /** Path of the browser SDK's `refreshRoute`, e.g. `/api/auth/refresh`. */
  refresh?: string;
  /** Path of the browser SDK's `logoutRoute`, e.g. `/api/auth/logout`. */
  logout?: string;
  /** Origins allowed to call the routes besides the request's own. Default: none. */
  allowedOrigins?: string[];
}

export interface CrossmintAuthModuleOptions {
  /** Crossmint server API key (`sk_production_…`, `sk_staging_…`, `sk_development_…`). */
  apiKey: string;
  /** Overrides the base URL derived from the key's environment. */
  baseUrl?: string;
  /** Expected `aud` of Crossmint JWTs. Default: read from the API key. */
  projectId?: string;
  /** A static key set: JWTs are verified against it and the JWKS endpoint is never called. */
  jwks?: JSONWebKeySet;
  cookies?: CrossmintAuthCookieOptions;
  /** Accept `Authorization: Bearer <jwt>`. Default `true`. */
  acceptBearerToken?: boolean;
  /** Leeway for `exp`/`nbf`, in seconds. Default 5. */
  clockToleranceSec?: number;
  /** Replaces the default `fetch` client for every call to Crossmint. */
  httpClient?: CrossmintHttpClient;
  /** Timeout of each call to Crossmint, in ms. Default 5000. */
  timeoutMs?: number;
  /** How long fetched keys are fresh, in ms. Default 10 minutes. */
  jwksMaxAgeMs?: number;
  /** How long past `jwksMaxAgeMs` the last good keys are still used while the JWKS endpoint fails. Default 24 hours. */
  jwksMaxStaleMs?: number;
  /** Minimum time between two JWKS fetches caused by an unknown `kid`, in ms. Default 30 s. */
  jwksCooldownMs?: number;
  /**
   * Memory budget, in MB, of the cache of verified JWTs (remembered until their `exp`; when full, the least
   * recently used go first): a session counts 80 bytes plus its JWT's payload segment length, about 300 bytes for
   * Crossmint's usual JWTs, so the default 64 MB hold about 220,000 active sessions; for N active users give
   * N × 300 bytes. Default 64; 0 disables.
   */
  verifiedTokenCacheMb?: number;
  /**
   * @deprecated Use `verifiedTokenCacheMb`. When set, the cache is bounded to this many entries instead of a
   * memory budget (0 disables).
   */
  verifiedTokenCacheSize?: number;
  /** How long a refresh result is handed to late requests still carrying the consumed secret, in ms. Default 10 s. Default store only. */
  refreshResultTtlMs?: number;
  /** Bound of that refresh-result cache. Default 10,000. Default store only. */
  refreshResultCacheSize?: number;
  /**
   * Where refreshes are coordinated. Default: an `InMemoryRefreshStore` sized by the two options above,
   * which covers one process. Behind a load balancer, the parallel requests of one browser land on
   * different instances with the same one-time refresh token: pass a `RedisRefreshStore` so that one
   * instance refreshes and the others reuse its result.
   */
  refreshStore?: CrossmintRefreshStore;
  /** Serve the browser SDK's refresh/logout routes. Off by default. */
  routes?: CrossmintAuthRoutesOptions;
  /**
   * Spans and metrics through `@opentelemetry/api` when it is installed (register the SDK before creating the
   * app); nothing is loaded without it. Default true; false turns them off.
   */
  telemetry?: boolean;
  /**
   * End long-lived connections when their JWT expires: a WebSocket (socket.io or ws) or a graphql-ws socket the
   * guard or `CrossmintSocketAuth` let in is closed, an `@Sse()` stream is ended. Nothing is refreshed over a
   * connection: the client refreshes over HTTP, then reconnects. Default `true`.
   */
  closeOnJwtExpiry?: boolean;
}

export interface ResolvedCookieOptions {
  jwt: string;
  refreshToken: string;
  domain?: string;
  path: string;
  secure: boolean | 'auto';
  sameSite: CookieSameSite;
  httpOnlyRefreshToken: boolean;
  readUnprefixed: boolean;
}

export interface ResolvedCrossmintAuthOptions {
  apiKey: string;
  baseUrl: string;
  projectId: string;
  jwks?: JSONWebKeySet;
  cookies: ResolvedCookieOptions;
  acceptBearerToken: boolean;
  clockToleranceSec: number;
  httpClient?: CrossmintHttpClient;
  timeoutMs: number;
  jwksMaxAgeMs: number;
  jwksMaxStaleMs: number;
  jwksCooldownMs: number;
  verifiedTokenCacheMb: number;
  /** Set only when the deprecated option was given: then it bounds the cache instead of the budget. */
  verifiedTokenCacheSize?: number;
  refreshResultTtlMs: number;
  refreshResultCacheSize: number;
  refreshStore?: CrossmintRefreshStore;
  routes?: { refresh?: string; logout?: string; allowedOrigins: string[] };
  telemetry: boolean;
  closeOnJwtExpiry: boolean;
}
