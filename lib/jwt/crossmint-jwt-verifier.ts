import { Inject, Injectable } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import { CROSSMINT_AUTH_OPTIONS, CROSSMINT_JWT_ALGORITHMS } from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import { LruCache } from '../utils/lru-cache.js';
import { JwksKeyStore } from './jwks-key-store.js';

/** A verified Crossmint JWT payload. */
export interface CrossmintJwtPayload extends JWTPayload {
  /** The Crossmint user id. */
  sub: string;
  exp: number;
}

/** Longer tokens are refused before any parsing: Crossmint JWTs are well under 2 KB. */
export const MAX_JWT_LENGTH = 8 * 1024;

/**
 * Verifies Crossmint JWTs: allowed algorithms only, signature against the key store, `aud` = project id,
 * `exp`/`nbf` with the clock tolerance, `sub` and `exp` required. Verified tokens are remembered until
 * `exp` (bounded), and forgotten when the key set changes, so the hot path does not verify twice.
 */
@Injectable()
export class CrossmintJwtVerifier {
  private readonly verified: LruCache<string, CrossmintJwtPayload>;
  private keysVersion: number;

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly keyStore: JwksKeyStore,
  ) {
    this.verified = new LruCache(options.verifiedTokenCacheSize);
    this.keysVersion = keyStore.version;
  }

  async verify(token: string): Promise<CrossmintJwtPayload> {
    if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) throw invalidToken();
    if (this.keysVersion !== this.keyStore.version) {
      this.verified.clear();
      this.keysVersion = this.keyStore.version;
    }
    const cached = this.verified.get(token);
    if (cached) return cached;

    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keyStore.getKey, {
        algorithms: CROSSMINT_JWT_ALGORITHMS,
        audience: this.options.projectId,
        clockTolerance: this.options.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof CrossmintServiceUnavailableError) throw error;
      throw invalidToken();
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number') throw invalidToken();

    const claims = Object.freeze(payload) as CrossmintJwtPayload;
    this.verified.set(token, claims, (claims.exp + this.options.clockToleranceSec) * 1000);
    return claims;
  }
}

function invalidToken(): CrossmintAuthenticationError {
  return new CrossmintAuthenticationError('Invalid or expired token');
}
