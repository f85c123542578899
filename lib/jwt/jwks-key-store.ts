import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTHeaderParameters,
  type FlattenedJWSInput,
  type KeyLike,
} from 'jose';
import { CrossmintApi } from '../api/crossmint-api.js';
import { CROSSMINT_AUTH_OPTIONS, JWKS_COLD_RETRY_MS } from '../crossmint-auth.constants.js';
import { CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import { CrossmintAuthTelemetry, reasonOf, type TelemetryOutcome } from '../telemetry/crossmint-auth.telemetry.js';

/** The key set as the health indicator reports it. */
export interface KeySetHealth {
  /** Milliseconds since the last good fetch; undefined before one (or with static `jwks`). */
  ageMs?: number;
  /** Serving keys older than `jwksMaxAgeMs` because the JWKS endpoint fails. */
  stale: boolean;
  /** Whether a token could be verified now: keys within `jwksMaxAgeMs + jwksMaxStaleMs`. */
  usable: boolean;
  /** The reason of the last failed fetch, when it failed after the last good one. */
  lastError?: string;
}

interface KeySet {
  getKey: ReturnType<typeof createLocalJWKSet>;
  json: string;
  fetchedAt: number;
}

/**
 * Crossmint's signing keys: fetched once and cached; re-fetched when older than `jwksMaxAgeMs` (in the
 * background, the old keys serving meanwhile and for up to `jwksMaxStaleMs` while the endpoint fails) or
 * when a token names an unknown `kid` (at most once per `jwksCooldownMs`).
 */
@Injectable()
export class JwksKeyStore {
  private readonly logger = new Logger('CrossmintAuth');
  private keySet?: KeySet;
  private loading?: Promise<KeySet>;
  private lastAttemptAt = Number.NEGATIVE_INFINITY;
  private lastError?: TelemetryOutcome;
  /** Bumped whenever the set of keys changes, so verified-token caches know to start over. */
  version = 0;

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly api: CrossmintApi,
    @Optional() private readonly telemetry: CrossmintAuthTelemetry = new CrossmintAuthTelemetry(options),
  ) {
    if (options.jwks) this.keySet = this.toKeySet(options.jwks, Number.POSITIVE_INFINITY);
  }

  /** The key for a JWS header, in the shape `jose.jwtVerify` takes. */
  readonly getKey = async (header: JWTHeaderParameters, token: FlattenedJWSInput): Promise<KeyLike | Uint8Array> => {
    const keySet = await this.currentKeySet();
    try {
      return await keySet.getKey(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || !this.mayFetch()) throw error;
      const fresh = await this.load().catch(() => keySet);
      return fresh.getKey(header, token);
    }
  };

  health(): KeySetHealth {
    const { jwksMaxAgeMs, jwksMaxStaleMs } = this.options;
    const fetchedAt = this.keySet?.fetchedAt;
    if (fetchedAt === Number.POSITIVE_INFINITY) return { stale: false, usable: true };
    const ageMs = fetchedAt === undefined ? undefined : Date.now() - fetchedAt;
    return {
      ageMs,
      stale: ageMs !== undefined && ageMs > jwksMaxAgeMs,
      usable: ageMs !== undefined && ageMs <= jwksMaxAgeMs + jwksMaxStaleMs,
      lastError: this.lastError,
    };
  }

  private async currentKeySet(): Promise<KeySet> {
    const keySet = this.keySet;
    const age = keySet ? Date.now() - keySet.fetchedAt : Number.POSITIVE_INFINITY;
    if (keySet && age <= this.options.jwksMaxAgeMs) return keySet;
    if (keySet && age <= this.options.jwksMaxAgeMs + this.options.jwksMaxStaleMs) {
      if (this.mayFetch()) this.load().catch(() => undefined);
      return keySet;
    }
    // No usable keys (cold start, or stale for too long): try again, but do not hammer a JWKS endpoint that is down.
    if (!this.loading && Date.now() - this.lastAttemptAt < JWKS_COLD_RETRY_MS)
      throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.KeysUnavailable);
    return this.load();
  }

  private mayFetch(): boolean {
    return !this.options.jwks && Date.now() - this.lastAttemptAt >= this.options.jwksCooldownMs;
  }

  private load(): Promise<KeySet> {
    this.loading ??= this.fetchKeySet().finally(() => (this.loading = undefined));
    return this.loading;
  }

  private async fetchKeySet(): Promise<KeySet> {
    if (this.options.jwks) return this.keySet!;
    this.lastAttemptAt = Date.now();
    let jwks: JSONWebKeySet;
    try {
      jwks = await this.api.fetchJwks();
    } catch (error) {
      this.lastError = reasonOf(error);
      this.telemetry.jwksFetch(this.lastError);
      if (this.keySet) this.logger.warn('Serving cached Crossmint keys while the JWKS endpoint fails');
      throw error instanceof CrossmintServiceUnavailableError
        ? error
        : new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.KeysUnavailable);
    }
    this.lastError = undefined;
    this.telemetry.jwksFetch('success');
    const keySet = this.toKeySet(jwks, Date.now());
    if (keySet.json !== this.keySet?.json) this.version++;
    this.keySet = keySet;
    return keySet;
  }

  private toKeySet(jwks: JSONWebKeySet, fetchedAt: number): KeySet {
    return { getKey: createLocalJWKSet(jwks), json: JSON.stringify(jwks.keys), fetchedAt };
  }
}
