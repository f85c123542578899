/**
 * Why a request was refused or a call to Crossmint failed: one stable set, used by the errors (`reason`), the logs,
 * the metrics and the span attributes. Values are part of the public contract: new ones may be added, none renamed.
 */
export const CrossmintAuthReason = {
  /** No JWT and no refresh secret came with the request. */
  NoCredentials: 'no_credentials',
  /** A credential that is not one: not a compact JWS, not canonical base64url, too long, a bad refresh secret. */
  MalformedCredentials: 'malformed_credentials',
  Expired: 'expired',
  NotYetValid: 'not_yet_valid',
  BadSignature: 'bad_signature',
  /** `aud` is not the project id: a JWT of another project, or a module configured for the wrong one. */
  WrongAudience: 'wrong_audience',
  /** No published key has the JWT's `kid`. */
  UnknownKey: 'unknown_key',
  /** An algorithm other than ES256 and RS256 (none, HS256...). */
  AlgorithmNotAllowed: 'algorithm_not_allowed',
  /** `sub` or `exp` missing, or another claim check failed. */
  MissingClaims: 'missing_claims',
  /** Crossmint refused the refresh token: spent, expired or revoked. */
  RefreshRefused: 'refresh_refused',
  /** A logout revoked the session (here or on another instance). */
  SessionRevoked: 'session_revoked',
  /** Crossmint refused the API key: revoked, or of another project or environment. */
  ApiKeyRefused: 'api_key_refused',
  /** Crossmint unreachable, or answering 5xx, 408 or 429. */
  UpstreamUnavailable: 'upstream_unavailable',
  UpstreamTimeout: 'upstream_timeout',
  /** Crossmint answered something that is not its API's shape. */
  UpstreamMalformed: 'upstream_malformed',
  /** Crossmint answered another 4xx. */
  UpstreamRefused: 'upstream_refused',
  /** A refresh answered a JWT that does not verify (wrong audience, unknown key, expired) or is of another user. */
  RefreshUnverifiable: 'refresh_unverifiable',
  /** The refresh store failed (Redis unreachable while another instance held the refresh, a custom store's bug). */
  RefreshStoreFailed: 'refresh_store_failed',
  /** No usable signing keys: the JWKS endpoint fails and no cached keys are fresh enough. */
  KeysUnavailable: 'keys_unavailable',
  /** A user lookup for an id Crossmint does not know. */
  UserNotFound: 'user_not_found',
} as const;

export type CrossmintAuthReason = (typeof CrossmintAuthReason)[keyof typeof CrossmintAuthReason];
