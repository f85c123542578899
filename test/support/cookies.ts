import { DEFAULT_JWT_COOKIE, DEFAULT_REFRESH_COOKIE } from '../../lib/crossmint-auth.constants.js';

/** The library's default names, `crossmint-jwt` and `crossmint-refresh-token` (unit/options.spec.ts pins them). */
export const JWT_COOKIE = DEFAULT_JWT_COOKIE;
export const REFRESH_COOKIE = DEFAULT_REFRESH_COOKIE;

/** The same names with the `__Host-` prefix. */
export const HOST_JWT_COOKIE = `__Host-${JWT_COOKIE}`;
export const HOST_REFRESH_COOKIE = `__Host-${REFRESH_COOKIE}`;

/** The cookies a browser holding `session` sends. */
export function sessionCookies(session: { jwt: string; refreshToken: { secret: string } }): Record<string, string> {
  return { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
}
