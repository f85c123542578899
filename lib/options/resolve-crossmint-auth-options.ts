import type { JSONWebKeySet } from 'jose';
import { isPrefixedCookieName } from '../cookies/cookie-names.js';
import {
  CROSSMINT_AUTH_DEFAULTS,
  CROSSMINT_BASE_URLS,
  DEFAULT_JWT_COOKIE,
  DEFAULT_REFRESH_COOKIE,
} from '../crossmint-auth.constants.js';
import { CrossmintAuthOptionsError } from '../crossmint-auth.errors.js';
import type {
  CrossmintAuthCookieOptions,
  CrossmintAuthModuleOptions,
  CrossmintAuthRoutesOptions,
  ResolvedCookieOptions,
  ResolvedCrossmintAuthOptions,
} from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintHttpClient } from '../interfaces/crossmint-http-client.interface.js';
import type { CrossmintRefreshStore } from '../interfaces/crossmint-refresh-store.interface.js';
import { parseCrossmintApiKey } from './crossmint-api-key.js';
import { CROSSMINT_AUTH_OPTION_KEYS } from './crossmint-auth-option-keys.js';

const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

function optionError(option: string, expected: string): CrossmintAuthOptionsError {
  return new CrossmintAuthOptionsError(`CrossmintAuthModule: option \`${option}\` ${expected}.`, option);
}

/** Validates the module options and fills in defaults; a bad value fails the boot with a message naming the option. */
export function resolveCrossmintAuthOptions(
  options: CrossmintAuthModuleOptions | undefined,
): ResolvedCrossmintAuthOptions {
  if (options === undefined) {
    throw new CrossmintAuthOptionsError(
      'CrossmintAuthModule has no options: import `CrossmintAuthModule.forRoot(options)` or `.forRootAsync(...)`, ' +
        'not the bare class. Registered once with `isGlobal: true`, it needs no import in other modules.',
      'options',
    );
  }
  checkKeys('', options);
  if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
    throw optionError('apiKey', 'is required: a Crossmint server key (sk_…)');
  }
  const key = parseCrossmintApiKey(options.apiKey.trim());

  const projectId = options.projectId ?? key.projectId;
  if (options.projectId !== undefined && (typeof options.projectId !== 'string' || options.projectId === '')) {
    throw optionError('projectId', 'must be a non-empty string');
  }
  if (!projectId) {
    throw optionError(
      'apiKey',
      'could not be read: check the key. A Crossmint server key is `sk_<environment>_` followed by a long base58 ' +
        'string, copied whole from the Crossmint console (no quotes, spaces or line breaks). If the key is right, ' +
        'pass `projectId` explicitly',
    );
  }

  const routes = options.routes && resolveRoutes(options.routes);
  return {
    apiKey: options.apiKey.trim(),
    baseUrl: resolveBaseUrl(options.baseUrl ?? CROSSMINT_BASE_URLS[key.environment]),
    projectId,
    jwks: options.jwks === undefined ? undefined : checkJwks(options.jwks),
    cookies: resolveCookies(options.cookies ?? {}, routes?.refresh !== undefined),
    acceptBearerToken: bool('acceptBearerToken', options.acceptBearerToken, CROSSMINT_AUTH_DEFAULTS.acceptBearerToken),
    clockToleranceSec: num(
      'clockToleranceSec',
      options.clockToleranceSec,
      CROSSMINT_AUTH_DEFAULTS.clockToleranceSec,
      0,
    ),
    httpClient: checkHttpClient(options.httpClient),
    timeoutMs: num('timeoutMs', options.timeoutMs, CROSSMINT_AUTH_DEFAULTS.timeoutMs, 1),
    jwksMaxAgeMs: num('jwksMaxAgeMs', options.jwksMaxAgeMs, CROSSMINT_AUTH_DEFAULTS.jwksMaxAgeMs, 0),
    jwksMaxStaleMs: num('jwksMaxStaleMs', options.jwksMaxStaleMs, CROSSMINT_AUTH_DEFAULTS.jwksMaxStaleMs, 0),
    jwksCooldownMs: num('jwksCooldownMs', options.jwksCooldownMs, CROSSMINT_AUTH_DEFAULTS.jwksCooldownMs, 0),
    verifiedTokenCacheMb: num(
      'verifiedTokenCacheMb',
      options.verifiedTokenCacheMb,
      CROSSMINT_AUTH_DEFAULTS.verifiedTokenCacheMb,
      0,
    ),
    verifiedTokenCacheSize:
      options.verifiedTokenCacheSize === undefined
        ? undefined
        : int('verifiedTokenCacheSize', options.verifiedTokenCacheSize, 0),
    refreshResultTtlMs: num(
      'refreshResultTtlMs',
      options.refreshResultTtlMs,
      CROSSMINT_AUTH_DEFAULTS.refreshResultTtlMs,
      0,
    ),
    refreshResultCacheSize: int(
      'refreshResultCacheSize',
      options.refreshResultCacheSize,
      CROSSMINT_AUTH_DEFAULTS.refreshResultCacheSize,
    ),
    refreshStore: checkRefreshStore(options.refreshStore),
    routes,
    telemetry: bool('telemetry', options.telemetry, CROSSMINT_AUTH_DEFAULTS.telemetry),
    closeOnJwtExpiry: bool('closeOnJwtExpiry', options.closeOnJwtExpiry, CROSSMINT_AUTH_DEFAULTS.closeOnJwtExpiry),
  };
}

function resolveBaseUrl(value: unknown): string {
  if (typeof value !== 'string') throw optionError('baseUrl', 'must be an http(s) URL');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw optionError('baseUrl', 'must be an http(s) URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw optionError('baseUrl', 'must be an http(s) URL');
  if (url.search || url.hash || url.username || url.password) {
    throw optionError('baseUrl', 'must not carry credentials, a query or a fragment');
  }
  return url.toString().replace(/\/+$/, '');
}

function resolveCookies(cookies: CrossmintAuthCookieOptions, refreshRoute: boolean): ResolvedCookieOptions {
  checkKeys('cookies', cookies);
  const resolved: ResolvedCookieOptions = {
    jwt: cookies.jwt ?? DEFAULT_JWT_COOKIE,
    refreshToken: cookies.refreshToken ?? DEFAULT_REFRESH_COOKIE,
    domain: cookies.domain,
    path: cookies.path ?? CROSSMINT_AUTH_DEFAULTS.cookiePath,
    secure: cookies.secure ?? CROSSMINT_AUTH_DEFAULTS.cookieSecure,
    sameSite: cookies.sameSite ?? CROSSMINT_AUTH_DEFAULTS.cookieSameSite,
    httpOnlyRefreshToken: bool('cookies.httpOnlyRefreshToken', cookies.httpOnlyRefreshToken, refreshRoute),
    readUnprefixed: bool('cookies.readUnprefixed', cookies.readUnprefixed, false),
  };
  for (const name of ['jwt', 'refreshToken'] as const) {
    if (typeof resolved[name] !== 'string' || !COOKIE_NAME.test(resolved[name])) {
      throw optionError(`cookies.${name}`, 'must be a valid cookie name');
    }
  }
  if (resolved.jwt === resolved.refreshToken)
    throw optionError('cookies.refreshToken', 'must differ from `cookies.jwt`');
  if (
    resolved.domain !== undefined &&
    (typeof resolved.domain !== 'string' || !/^[.A-Za-z0-9-]+$/.test(resolved.domain))
  ) {
    throw optionError('cookies.domain', 'must be a domain name');
  }
  if (typeof resolved.path !== 'string' || !/^\/[\x21-\x3a\x3c-\x7e]*$/.test(resolved.path)) {
    throw optionError('cookies.path', "must start with '/' and contain no ';', spaces or control characters");
  }
  if (resolved.secure !== true && resolved.secure !== false && resolved.secure !== 'auto') {
    throw optionError('cookies.secure', "must be true, false or 'auto'");
  }
  if (!['lax', 'strict', 'none'].includes(resolved.sameSite)) {
    throw optionError('cookies.sameSite', "must be 'lax', 'strict' or 'none'");
  }
  if (resolved.sameSite === 'none' && resolved.secure === false) {
    throw optionError('cookies.sameSite', "'none' requires Secure cookies (browsers drop them otherwise)");
  }
  const names = [resolved.jwt, resolved.refreshToken];
  if (names.some((name) => /^__(host|secure)-/i.test(name) && !isPrefixedCookieName(name))) {
    throw optionError(
      'cookies',
      "needs its prefixes spelled '__Host-' or '__Secure-': older browsers enforce them in that case only",
    );
  }
  const hostPrefixed = names.some((name) => name.startsWith('__Host-'));
  if (hostPrefixed && (resolved.secure === false || resolved.domain !== undefined || resolved.path !== '/')) {
    throw optionError('cookies', "with a '__Host-' name requires secure, path '/' and no domain");
  }
  const securePrefixed = names.some((name) => name.startsWith('__Secure-'));
  if (securePrefixed && resolved.secure === false)
    throw optionError('cookies', "with a '__Secure-' name requires secure");
  if (isPrefixedCookieName(resolved.jwt) !== isPrefixedCookieName(resolved.refreshToken)) {
    // Else a plantable unprefixed cookie would decide what happens to the prefixed one.
    throw optionError(
      'cookies',
      "needs a '__Host-' or '__Secure-' prefix on both `jwt` and `refreshToken`, or on neither",
    );
  }
  if (resolved.readUnprefixed && !isPrefixedCookieName(resolved.jwt)) {
    throw optionError('cookies.readUnprefixed', "applies only with '__Host-' or '__Secure-' names");
  }
  // Browsers drop these cookies without `Secure`, even from http://localhost, so 'auto' cannot leave it off.
  if (resolved.secure === 'auto' && (hostPrefixed || securePrefixed || resolved.sameSite === 'none'))
    resolved.secure = true;
  return resolved;
}

function resolveRoutes(routes: CrossmintAuthRoutesOptions): NonNullable<ResolvedCrossmintAuthOptions['routes']> {
  checkKeys('routes', routes);
  for (const name of ['refresh', 'logout'] as const) {
    const path = routes[name];
    if (path !== undefined && (typeof path !== 'string' || !/^\/[\w\-./]*$/.test(path))) {
      throw optionError(`routes.${name}`, "must be a path starting with '/'");
    }
  }
  if (routes.refresh === undefined && routes.logout === undefined) {
    throw optionError('routes', 'needs a `refresh` and/or a `logout` path');
  }
  if (routes.refresh !== undefined && routes.refresh === routes.logout) {
    throw optionError('routes.logout', 'must differ from `routes.refresh`');
  }
  const allowedOrigins = routes.allowedOrigins ?? [];
  if (!Array.isArray(allowedOrigins) || allowedOrigins.some((origin) => typeof origin !== 'string')) {
    throw optionError('routes.allowedOrigins', 'must be an array of origins');
  }
  return { refresh: routes.refresh, logout: routes.logout, allowedOrigins };
}

/** A key the module does not know fails the boot: a misspelt option would otherwise be ignored. */
function checkKeys(path: keyof typeof CROSSMINT_AUTH_OPTION_KEYS, value: object): void {
  if (value === null || typeof value !== 'object') throw optionError(path || 'options', 'must be an object');
  const known = CROSSMINT_AUTH_OPTION_KEYS[path];
  const prefix = path ? `${path}.` : '';
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    if (key === 'isGlobal' && !path) {
      throw optionError(
        key,
        'is not a module option: pass it beside the factory, `forRootAsync({ isGlobal: true, useFactory })`',
      );
    }
    const near = known.find((name) => name.toLowerCase() === key.toLowerCase() || name === `${key}s`);
    throw optionError(`${prefix}${key}`, `is not a known option${near ? `; did you mean \`${prefix}${near}\`?` : ''}`);
  }
}

function checkJwks(jwks: JSONWebKeySet): JSONWebKeySet {
  if (!jwks || !Array.isArray(jwks.keys) || jwks.keys.length === 0) {
    throw optionError('jwks', 'must be a key set with a non-empty `keys` array');
  }
  return jwks;
}

function checkHttpClient(client: CrossmintHttpClient | undefined): CrossmintHttpClient | undefined {
  if (client !== undefined && typeof client?.request !== 'function') {
    throw optionError('httpClient', 'must implement `request(request)`');
  }
  return client;
}

function checkRefreshStore(store: CrossmintRefreshStore | undefined): CrossmintRefreshStore | undefined {
  if (store !== undefined && typeof store?.run !== 'function') {
    throw optionError('refreshStore', 'must implement `run(secret, refresh)`, like `RedisRefreshStore`');
  }
  return store;
}

function bool(option: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw optionError(option, 'must be a boolean');
  return value;
}

function num(option: string, value: unknown, fallback: number, min: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw optionError(option, `must be a finite number >= ${min}`);
  }
  return value;
}

function int(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) {
    throw optionError(option, 'must be a whole number >= 0');
  }
  return value;
}
