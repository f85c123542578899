import { decodeProtectedHeader } from 'jose';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';

/** jose's error codes, by the reason they stand for. */
const REASON_BY_JOSE_CODE: Record<string, CrossmintAuthReason> = {
  ERR_JWT_EXPIRED: CrossmintAuthReason.Expired,
  ERR_JWS_SIGNATURE_VERIFICATION_FAILED: CrossmintAuthReason.BadSignature,
  ERR_JWKS_NO_MATCHING_KEY: CrossmintAuthReason.UnknownKey,
  ERR_JWKS_MULTIPLE_MATCHING_KEYS: CrossmintAuthReason.UnknownKey,
  ERR_JOSE_ALG_NOT_ALLOWED: CrossmintAuthReason.AlgorithmNotAllowed,
};

/** The reason of a `jwtVerify` failure. */
export function refusalReason(error: unknown): CrossmintAuthReason {
  const { code, claim } = (error ?? {}) as { code?: string; claim?: string };
  if (code === 'ERR_JWT_CLAIM_VALIDATION_FAILED') {
    if (claim === 'aud') return CrossmintAuthReason.WrongAudience;
    if (claim === 'nbf') return CrossmintAuthReason.NotYetValid;
    return CrossmintAuthReason.MissingClaims;
  }
  return (code && REASON_BY_JOSE_CODE[code]) || CrossmintAuthReason.MalformedCredentials;
}

/** What a log line may add to a reason: the audience, key id or algorithm at fault, quoted and cut short. */
export function describeRefusal(reason: CrossmintAuthReason, error: unknown, token: string, projectId: string): string {
  if (reason === CrossmintAuthReason.WrongAudience) {
    const aud = (error as { payload?: { aud?: unknown } }).payload?.aud;
    return ` (expected ${quote(projectId)}, got ${quote(aud)})`;
  }
  if (reason === CrossmintAuthReason.UnknownKey) return ` (kid ${quote(headerOf(token).kid)})`;
  if (reason === CrossmintAuthReason.AlgorithmNotAllowed) return ` (alg ${quote(headerOf(token).alg)})`;
  return '';
}

/** The audience a JWT names, for a log line; undefined when it cannot be read. */
export function audienceOf(token: string): string {
  try {
    const [, payload] = token.split('.');
    return quote((JSON.parse(Buffer.from(payload, 'base64url').toString()) as { aud?: unknown }).aud);
  } catch {
    return quote(undefined);
  }
}

function headerOf(token: string): { kid?: unknown; alg?: unknown } {
  try {
    return decodeProtectedHeader(token);
  } catch {
    return {};
  }
}

function quote(value: unknown): string {
  if (value === undefined) return 'none';
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}...` : text;
}
