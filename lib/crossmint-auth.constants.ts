export const CROSSMINT_HTTP_CLIENT = Symbol('CROSSMINT_HTTP_CLIENT');
export const CROSSMINT_AUTH_OPTIONS = Symbol('CROSSMINT_AUTH_OPTIONS');

export const CROSSMINT_API_VERSION = '2024-09-26';
export const CROSSMINT_API_PATHS = {
  jwks: '/.well-known/jwks.json',
  refresh: `/api/${CROSSMINT_API_VERSION}/session/sdk/auth/refresh`,
  logout: `/api/${CROSSMINT_API_VERSION}/session/sdk/auth/logout`,
  user: (encodedUserId: string) => `/api/${CROSSMINT_API_VERSION}/sdk/auth/user/${encodedUserId}`,
} as const;

export const CROSSMINT_BASE_URLS = {
  production: 'https://www.crossmint.com',
  staging: 'https://staging.crossmint.com',
  development: 'http://localhost:3000',
} as const;

export const DEFAULT_JWT_COOKIE = 'crossmint-jwt';
export const DEFAULT_REFRESH_COOKIE = 'crossmint-refresh-token';

/** Algorithms Crossmint signs with; anything else (none, HS*) is refused before a key is looked up. */
export const CROSSMINT_JWT_ALGORITHMS = ['ES256', 'RS256'];

/** Refresh secrets longer than this are refused wherever they come from (cookie, body, Crossmint's answer). */
export const MAX_REFRESH_SECRET_LENGTH = 4 * 1024;
