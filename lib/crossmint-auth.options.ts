import type { JSONWebKeySet } from 'jose';
import { parseCrossmintApiKey } from './crossmint-api-key.js';
import { CROSSMINT_BASE_URLS, DEFAULT_JWT_COOKIE, DEFAULT_REFRESH_COOKIE } from './crossmint-auth.constants.js';
import type { CrossmintHttpClient } from './http/crossmint-http-client.interface.js';
import type { CrossmintRefreshStore } from './refresh-store/crossmint-refresh-store.interface.js';

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
  /** `Secure` attribute. Default `'auto'`: set unless the request is plain http to localhost. */
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
  /** Verified JWTs remembered until their `exp` (bounded LRU). Default 10,000; 0 disables. */
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
  verifiedTokenCacheSize: number;
  refreshResultTtlMs: number;
  refreshResultCacheSize: number;
  refreshStore?: CrossmintRefreshStore;
  routes?: { refresh?: string; logout?: string; allowedOrigins: string[] };
}

export const CROSSMINT_AUTH_DEFAULTS = {
  acceptBearerToken: true,
  clockToleranceSec: 5,
  timeoutMs: 5_000,
  jwksMaxAgeMs: 10 * 60_000,
  jwksMaxStaleMs: 24 * 60 * 60_000,
  jwksCooldownMs: 30_000,
  verifiedTokenCacheSize: 10_000,
  refreshResultTtlMs: 10_000,
  refreshResultCacheSize: 10_000,
  cookiePath: '/',
  cookieSameSite: 'lax',
} as const;

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

class OptionError extends Error {
  constructor(option: string, expected: string) {
    super(`CrossmintAuthModule: option \`${option}\` ${expected}.`);
    this.name = 'CrossmintAuthOptionsError';
  }
}

/** Validates the module options and fills in defaults; a bad value fails the boot with a message naming the option. */
export function resolveCrossmintAuthOptions(options: CrossmintAuthModuleOptions): ResolvedCrossmintAuthOptions {
  if (options === null || typeof options !== 'object') throw new OptionError('options', 'must be an object');
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw new OptionError('apiKey', 'is required: a Crossmint server key (sk_…)');
  }
  let key;
  try {
    key = parseCrossmintApiKey(options.apiKey.trim());
  } catch (error) {
    throw new Error(`CrossmintAuthModule: ${(error as Error).message}`);
  }

  const projectId = options.projectId ?? key.projectId;
  if (options.projectId !== undefined && (typeof options.projectId !== 'string' || options.projectId === '')) {
    throw new OptionError('projectId', 'must be a non-empty string');
  }
  if (!projectId) {
    throw new OptionError('projectId', 'is required: the project id could not be read from `apiKey`; pass it explicitly');
  }

  const routes = options.routes && resolveRoutes(options.routes);
  return {
    apiKey: options.apiKey.trim(),
    baseUrl: resolveBaseUrl(options.baseUrl ?? CROSSMINT_BASE_URLS[key.environment]),
    projectId,
    jwks: options.jwks === undefined ? undefined : checkJwks(options.jwks),
    cookies: resolveCookies(options.cookies ?? {}, routes?.refresh !== undefined),
    acceptBearerToken: bool('acceptBearerToken', options.acceptBearerToken, CROSSMINT_AUTH_DEFAULTS.acceptBearerToken),
    clockToleranceSec: num('clockToleranceSec', options.clockToleranceSec, CROSSMINT_AUTH_DEFAULTS.clockToleranceSec, 0),
    httpClient: checkHttpClient(options.httpClient),
    timeoutMs: num('timeoutMs', options.timeoutMs, CROSSMINT_AUTH_DEFAULTS.timeoutMs, 1),
    jwksMaxAgeMs: num('jwksMaxAgeMs', options.jwksMaxAgeMs, CROSSMINT_AUTH_DEFAULTS.jwksMaxAgeMs, 0),
    jwksMaxStaleMs: num('jwksMaxStaleMs', options.jwksMaxStaleMs, CROSSMINT_AUTH_DEFAULTS.jwksMaxStaleMs, 0),
    jwksCooldownMs: num('jwksCooldownMs', options.jwksCooldownMs, CROSSMINT_AUTH_DEFAULTS.jwksCooldownMs, 0),
    verifiedTokenCacheSize: int('verifiedTokenCacheSize', options.verifiedTokenCacheSize, CROSSMINT_AUTH_DEFAULTS.verifiedTokenCacheSize),
    refreshResultTtlMs: num('refreshResultTtlMs', options.refreshResultTtlMs, CROSSMINT_AUTH_DEFAULTS.refreshResultTtlMs, 0),
    refreshResultCacheSize: int('refreshResultCacheSize', options.refreshResultCacheSize, CROSSMINT_AUTH_DEFAULTS.refreshResultCacheSize),
    refreshStore: checkRefreshStore(options.refreshStore),
    routes,
  };
}

function resolveBaseUrl(value: unknown): string {
  if (typeof value !== 'string') throw new OptionError('baseUrl', 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new OptionError('baseUrl', 'must be an http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new OptionError('baseUrl', 'must be an http(s) URL');
  if (url.search || url.hash || url.username || url.password) {
    throw new OptionError('baseUrl', 'must not carry credentials, a query or a fragment');
  }
  return url.toString().replace(/\/+$/, '');
}

function resolveCookies(cookies: CrossmintAuthCookieOptions, refreshRoute: boolean): ResolvedCookieOptions {
  const resolved: ResolvedCookieOptions = {
    jwt: cookies.jwt ?? DEFAULT_JWT_COOKIE,
    refreshToken: cookies.refreshToken ?? DEFAULT_REFRESH_COOKIE,
    domain: cookies.domain,
    path: cookies.path ?? CROSSMINT_AUTH_DEFAULTS.cookiePath,
    secure: cookies.secure ?? 'auto',
    sameSite: cookies.sameSite ?? CROSSMINT_AUTH_DEFAULTS.cookieSameSite,
    httpOnlyRefreshToken: bool('cookies.httpOnlyRefreshToken', cookies.httpOnlyRefreshToken, refreshRoute),
    readUnprefixed: bool('cookies.readUnprefixed', cookies.readUnprefixed, false),
  };
  for (const name of ['jwt', 'refreshToken'] as const) {
    if (typeof resolved[name] !== 'string' || !COOKIE_NAME.test(resolved[name])) {
      throw new OptionError(`cookies.${name}`, 'must be a valid cookie name');
    }
  }
  if (resolved.jwt === resolved.refreshToken) throw new OptionError('cookies.refreshToken', 'must differ from `cookies.jwt`');
  if (resolved.domain !== undefined && (typeof resolved.domain !== 'string' || !/^[.A-Za-z0-9-]+$/.test(resolved.domain))) {
    throw new OptionError('cookies.domain', 'must be a domain name');
  }
  if (typeof resolved.path !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(resolved.path)) {
    throw new OptionError('cookies.path', "must start with '/' and contain no ';', spaces or control characters");
  }
  if (resolved.secure !== true && resolved.secure !== false && resolved.secure !== 'auto') {
    throw new OptionError('cookies.secure', "must be true, false or 'auto'");
  }
  if (!['lax', 'strict', 'none'].includes(resolved.sameSite)) {
    throw new OptionError('cookies.sameSite', "must be 'lax', 'strict' or 'none'");
  }
  if (resolved.sameSite === 'none' && resolved.secure === false) {
    throw new OptionError('cookies.sameSite', "'none' requires Secure cookies (browsers drop them otherwise)");
  }
  const names = [resolved.jwt, resolved.refreshToken];
  const hostPrefixed = names.some((name) => /^__Host-/i.test(name));
  if (hostPrefixed && (resolved.secure === false || resolved.domain !== undefined || resolved.path !== '/')) {
    throw new OptionError('cookies', "with a '__Host-' name requires secure, path '/' and no domain");
  }
  const securePrefixed = names.some((name) => /^__Secure-/i.test(name));
  if (securePrefixed && resolved.secure === false) throw new OptionError('cookies', "with a '__Secure-' name requires secure");
  if (isPrefixedCookieName(resolved.jwt) !== isPrefixedCookieName(resolved.refreshToken)) {
    // Else a plantable unprefixed cookie would decide what happens to the prefixed one.
    throw new OptionError('cookies', "needs a '__Host-' or '__Secure-' prefix on both `jwt` and `refreshToken`, or on neither");
  }
  if (resolved.readUnprefixed && !isPrefixedCookieName(resolved.jwt)) {
    throw new OptionError('cookies.readUnprefixed', "applies only with '__Host-' or '__Secure-' names");
  }
  // Browsers drop these cookies without `Secure`, even from http://localhost, so 'auto' cannot leave it off.
  if (resolved.secure === 'auto' && (hostPrefixed || securePrefixed || resolved.sameSite === 'none')) resolved.secure = true;
  return resolved;
}

/** A `__Host-` or `__Secure-` name: browsers accept such a cookie only from a secure origin, so it cannot be planted from plain http. */
export function isPrefixedCookieName(name: string): boolean {
  return /^__(Host|Secure)-/i.test(name);
}

function resolveRoutes(routes: CrossmintAuthRoutesOptions): NonNullable<ResolvedCrossmintAuthOptions['routes']> {
  for (const name of ['refresh', 'logout'] as const) {
    const path = routes[name];
    if (path !== undefined && (typeof path !== 'string' || !/^\/[\w\-./]*$/.test(path))) {
      throw new OptionError(`routes.${name}`, "must be a path starting with '/'");
    }
  }
  if (routes.refresh === undefined && routes.logout === undefined) {
    throw new OptionError('routes', 'needs a `refresh` and/or a `logout` path');
  }
  if (routes.refresh !== undefined && routes.refresh === routes.logout) {
    throw new OptionError('routes.logout', 'must differ from `routes.refresh`');
  }
  const allowedOrigins = routes.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || allowedOrigins.some((origin) => typeof origin !== 'string')) {
    throw new OptionError('routes.allowedOrigins', 'must be an array of origins');
  }
  return { refresh: routes.refresh, logout: routes.logout, allowedOrigins };
}

function checkJwks(jwks: JSONWebKeySet): JSONWebKeySet {
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw new OptionError('jwks', 'must be a key set with a non-empty `keys` array');
  }
  return jwks;
}

function checkHttpClient(client: CrossmintHttpClient | undefined): CrossmintHttpClient | undefined {
  if (client !== undefined && typeof client?.request !== 'function') {
    throw new OptionError('httpClient', 'must implement `request(request)`');
  }
  return client;
}

function checkRefreshStore(store: CrossmintRefreshStore | undefined): CrossmintRefreshStore | undefined {
  if (store !== undefined && typeof store?.run !== 'function') {
    throw new OptionError('refreshStore', 'must implement `run(secret, refresh)`, like `RedisRefreshStore`');
  }
  return store;
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new OptionError(option, 'must be a boolean');
  return value;
}

function num(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new OptionError(option, `must be a finite number >= ${min}`);
  }
  return value;
}

function int(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw new OptionError(option, 'must be a whole number >= 0');
  }
  return value;
}
