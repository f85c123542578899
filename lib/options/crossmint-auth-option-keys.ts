import type {
  CrossmintAuthCookieOptions,
  CrossmintAuthModuleOptions,
  CrossmintAuthRoutesOptions,
} from '../interfaces/crossmint-auth-options.interface.js';

// Every option key the module knows: any other key fails the boot. A new option is one line here (the compiler
// asks for it, since each list must name every key of its interface).

const MODULE_OPTIONS: Record<keyof CrossmintAuthModuleOptions, true> = {
  apiKey: true,
  baseUrl: true,
  projectId: true,
  jwks: true,
  cookies: true,
  acceptBearerToken: true,
  clockToleranceSec: true,
  httpClient: true,
  timeoutMs: true,
  jwksMaxAgeMs: true,
  jwksMaxStaleMs: true,
  jwksCooldownMs: true,
  verifiedTokenCacheSize: true,
  verifiedTokenCacheMb: true,
  refreshResultTtlMs: true,
  refreshResultCacheSize: true,
  refreshStore: true,
  routes: true,
  closeOnJwtExpiry: true,
  telemetry: true,
};

const COOKIE_OPTIONS: Record<keyof CrossmintAuthCookieOptions, true> = {
  jwt: true,
  refreshToken: true,
  domain: true,
  path: true,
  secure: true,
  sameSite: true,
  httpOnlyRefreshToken: true,
  readUnprefixed: true,
};

const ROUTE_OPTIONS: Record<keyof CrossmintAuthRoutesOptions, true> = {
  refresh: true,
  logout: true,
  allowedOrigins: true,
};

/** The known keys of the options object at `path` (`''` for the top level). */
export const CROSSMINT_AUTH_OPTION_KEYS: Record<'' | 'cookies' | 'routes', readonly string[]> = {
  '': Object.keys(MODULE_OPTIONS),
  cookies: Object.keys(COOKIE_OPTIONS),
  routes: Object.keys(ROUTE_OPTIONS),
};
