import { MAX_JWT_LENGTH, MAX_REFRESH_SECRET_LENGTH } from './crossmint-auth.constants.js';
import { CrossmintAuthenticationError } from './crossmint-auth.errors.js';
import { CrossmintAuthReason } from './crossmint-auth.reasons.js';
import type { CrossmintTokens } from './interfaces/crossmint-session.interface.js';

/** The credentials a request (or a caller) presents. `source` decides what a failure may touch: only cookies get cleared. */
export interface CrossmintCredentials {
  jwt?: string;
  refreshSecret?: string;
  source: 'cookie' | 'bearer' | 'explicit';
  /** Read from unprefixed names under `cookies.readUnprefixed`: a failure clears only those. */
  unprefixed?: boolean;
}

/** Only the type and length: the verifier checks the format, and only after a miss in its cache of verified tokens. */
export function isJwtCandidate(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_JWT_LENGTH;
}

/** RFC 6265 cookie-octets: what a cookie carries and reads back unchanged (no blank, quote, `,`, `;` or `\\`). */
const REFRESH_SECRET = new RegExp(
  `^[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]{1,${MAX_REFRESH_SECRET_LENGTH}}$`,
);

/**
 * A refresh secret that may be sent to Crossmint or written to a cookie, wherever it came from (a cookie, a body,
 * a caller, Crossmint's answer): bounded cookie-octets.
 */
export function isRefreshSecret(value: unknown): value is string {
  return typeof value === 'string' && REFRESH_SECRET.test(value);
}

/** Explicit tokens get the checks cookies get: anything else is no credential, never a TypeError or an upstream call. */
export function explicitCredentials(tokens: CrossmintTokens): CrossmintCredentials {
  if (typeof tokens !== 'object' || tokens === null) throw new CrossmintAuthenticationError('Authentication required');
  const jwt = tokens.jwt === '' ? undefined : tokens.jwt;
  const refreshToken = tokens.refreshToken;
  const refreshSecret = typeof refreshToken === 'object' && refreshToken !== null ? refreshToken.secret : refreshToken;
  if (
    (jwt !== undefined && !isJwtCandidate(jwt)) ||
    (refreshSecret !== undefined && refreshSecret !== '' && !isRefreshSecret(refreshSecret))
  ) {
    throw new CrossmintAuthenticationError('Invalid or expired token', CrossmintAuthReason.MalformedCredentials);
  }
  return { jwt, refreshSecret: refreshSecret || undefined, source: 'explicit' };
}
