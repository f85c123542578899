// Injection tokens, Crossmint's protocol, and every default and limit of the module: one home for each.

/** The resolved, validated module options (`ResolvedCrossmintAuthOptions`); `@InjectCrossmintAuthOptions()` injects them. */
export const CROSSMINT_AUTH_OPTIONS = Symbol('CROSSMINT_AUTH_OPTIONS');
/** The `CrossmintHttpClient` every call to Crossmint goes through. */
export const CROSSMINT_HTTP_CLIENT = Symbol('CROSSMINT_HTTP_CLIENT');

// ---- Crossmint's protocol ----

export const CROSSMINT_API_VERSION = '2024-09-26';
export const CROSSMINT_API_PATHS = {
  jwks: '/.well-known/jwks.json',
  refresh: `/api/${CROSSMINT_API_VERSION}/session/sdk/auth/refresh`,
  logout: `/api/${CROSSMINT_API_VERSION}/session/sdk/auth/logout`,
  user: (encodedUserId: string) => `/api/${CROSSMINT_API_VERSION}/sdk/auth/user/${encodedUserId}`,
} as const;

/** Base URL by the API key's environment. */
export const CROSSMINT_BASE_URLS = {
  production: 'https://www.crossmint.com',
  staging: 'https://staging.crossmint.com',
  development: 'http://localhost:3000',
} as const;

/** The browser SDK's cookie names; newer SDKs also write them with `-<projectId>` appended. */
export const DEFAULT_JWT_COOKIE = 'crossmint-jwt';
export const DEFAULT_REFRESH_COOKIE = 'crossmint-refresh-token';

/** Algorithms Crossmint signs with; anything else (none, HS*) is refused before a key is looked up. */
export const CROSSMINT_JWT_ALGORITHMS = ['ES256', 'RS256'];

/**
 * How a WebSocket is closed when its session is refused or over: 4401, as graphql-ws closes an unauthorized
 * socket (4000-4999 are for applications); clients treat it as final rather than reconnecting at once.
 */
export const SOCKET_CLOSE_UNAUTHORIZED = 4401;

/** The `code` a socket client receives when its session ended while it was connected. */
export const SESSION_EXPIRED_CODE = 'CROSSMINT_SESSION_EXPIRED';

// ---- Defaults ----

/** The defaults of the module options. */
export const CROSSMINT_AUTH_DEFAULTS = {
  acceptBearerToken: true,
  clockToleranceSec: 5,
  timeoutMs: 5_000,
  jwksMaxAgeMs: 10 * 60_000,
  jwksMaxStaleMs: 24 * 60 * 60_000,
  jwksCooldownMs: 30_000,
  verifiedTokenCacheMb: 64,
  refreshResultTtlMs: 10_000,
  refreshResultCacheSize: 10_000,
  cookiePath: '/',
  cookieSameSite: 'lax',
  cookieSecure: 'auto',
  telemetry: true,
  closeOnJwtExpiry: true,
} as const;

/** The defaults of `RedisRefreshStore`'s options. */
export const REDIS_REFRESH_STORE_DEFAULTS = {
  keyPrefix: 'crossmint-auth:refresh:',
  resultTtlMs: 10_000,
  unavailableTtlMs: 1_000,
  lockTtlMs: 10_000,
  waitTimeoutMs: 15_000,
  pollIntervalMs: 25,
  commandTimeoutMs: 1_000,
  localCacheSize: 10_000,
} as const;

/** `Retry-After` of a 503 when Crossmint did not send one. */
export const DEFAULT_RETRY_AFTER_SEC = 5;

/** With no usable keys, a failing JWKS endpoint is tried again at most this often. */
export const JWKS_COLD_RETRY_MS = 1_000;

/** How long one check of the API key stands: the bound on checks, and on the error log, while it is refused. */
export const API_KEY_CHECK_INTERVAL_MS = 10_000;

/** The health indicator reports the outcomes of this many recent refreshes. */
export const REFRESH_HEALTH_WINDOW = 50;

/** Refreshed JWTs failing on `aud` this many times in a row: a configuration mistake, warned once. */
export const REFRESH_AUDIENCE_WARN_AFTER = 3;

/** The instrumentation scope of the module's spans and metrics. */
export const TELEMETRY_SCOPE = 'nestjs-crossmint-auth';

// ---- Limits ----

/**
 * What one session costs in the verified-token cache besides its claims, in bytes (its slot of digest and state,
 * at least a quarter of the slots empty, and the value's pointer; `npm run bench:cache` measures it): an entry
 * weighs this plus its JWT's payload segment length, which stands for its claims object (268 bytes measured per
 * session, heap and typed arrays, for a 218-character payload segment).
 */
export const VERIFIED_TOKEN_ENTRY_BYTES = 80;

/** Slots of the verifier's small exact-token table in front of its cache: the busiest sessions skip the digest. */
export const HOT_TOKEN_SLOTS = 4096;

/**
 * JWT signature checks run at once; the others queue. A check runs on libuv's thread pool (4 threads by default,
 * shared with file and DNS work) and takes a core for about 0.1 ms: during a burst of new tokens (after a deploy,
 * or a key rotation), unbounded checks would crowd out the event loop, and every other request with it.
 */
export const MAX_CONCURRENT_SIGNATURE_CHECKS = 2;

/**
 * The verified-token cache is too small when, within one such window, it evicts more still-valid entries than a
 * tenth of what it holds: it then logs a warning once.
 */
export const VERIFIED_TOKEN_CACHE_CHURN_WINDOW_MS = 60_000;

/** Longer JWTs are refused before any parsing: Crossmint JWTs are well under 2 KB. */
export const MAX_JWT_LENGTH = 8 * 1024;

/** Refresh secrets longer than this are refused wherever they come from (cookie, body, Crossmint's answer). */
export const MAX_REFRESH_SECRET_LENGTH = 4 * 1024;

/** User ids longer than this are refused before any call to Crossmint. */
export const MAX_USER_ID_LENGTH = 256;

/** Node's longest timer (about 24.8 days): a longer wait fires at once, so expiry timers are capped to it. */
export const MAX_TIMER_DELAY_MS = 2 ** 31 - 1;

/** Crossmint answers above this are refused rather than buffered: none comes close. */
export const MAX_RESPONSE_BYTES = 1024 * 1024;

/** Longer waits are capped: past a few minutes, a client is better off trying again than giving up. */
export const MAX_RETRY_AFTER_SEC = 300;

/** The OpenAPI security scheme names that `@ApiCrossmintAuth()` refers to and `addCrossmintAuth()` defines. */
export const CROSSMINT_SWAGGER_SECURITY = { cookie: 'crossmint-cookie', bearer: 'crossmint-bearer' };
