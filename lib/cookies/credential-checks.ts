import { MAX_REFRESH_SECRET_LENGTH } from '../crossmint-auth.constants.js';
import { MAX_JWT_LENGTH } from '../jwt/crossmint-jwt-verifier.js';

/** Only the type and length: the verifier checks the format, and only after a miss in its cache of verified tokens. */
export function isJwtCandidate(value: unknown): value is string {
  return typeof value === 'string' && value.length <= MAX_JWT_LENGTH;
}

/** A refresh secret that may be sent to Crossmint: a bounded string a cookie can carry. */
export function isRefreshCandidate(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && value.length <= MAX_REFRESH_SECRET_LENGTH && !/[\s;,]/.test(value);
}
