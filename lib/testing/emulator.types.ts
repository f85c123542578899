import type { CrossmintRefreshResult, CrossmintUser } from '../interfaces/crossmint-session.interface.js';

export type EmulatorRoute = 'jwks' | 'refresh' | 'logout' | 'user';

/** A user the emulated project knows: a Crossmint user profile. */
export type EmulatorUser = CrossmintUser;

export interface EmulatorFault {
  status?: number;
  /** Holds the request this long before it is handled (or answered with the fault). */
  delayMs?: number;
  /**
   * Handles the request at once and holds its answer this long: Crossmint did the work (consumed a refresh
   * token, say) but its answer is slow to arrive.
   */
  answerDelayMs?: number;
  body?: string;
  contentType?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '30' }` with a 429. */
  headers?: Record<string, string>;
  /** How many requests the fault applies to; default: until cleared. */
  times?: number;
}

/** A session minted by `createSession`: the material a refresh would answer, and whose it is. */
export interface EmulatorSession extends CrossmintRefreshResult {
  userId: string;
}

export interface CrossmintAuthEmulatorOptions {
  /** Default: random, like `emulator-project-<hex>`. */
  projectId?: string;
  /** Signing algorithm of the current key; default `ES256`. */
  algorithm?: 'ES256' | 'RS256';
  /** Lifetime of JWTs minted by refresh and `createSession`; default 60. */
  jwtTtlSec?: number;
  /** Default 7 days. */
  refreshTtlSec?: number;
  /** Environment part of the API key; default `development`. */
  environment?: 'development' | 'staging' | 'production';
}

/**
 * The form of an ES256 signature r || s: `'low'` has s <= n/2, `'high'` its mirror n - s (n the P-256 group
 * order). Both verify. Left unset, the signer's own pick is kept: OpenSSL, like WebCrypto and cloud KMS
 * signers, yields high-S for about half the tokens.
 */
export type EcdsaSForm = 'low' | 'high';
