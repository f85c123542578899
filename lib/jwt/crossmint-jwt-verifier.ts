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

/** A compact JWS, strictly: Node's base64url decoding skips stray characters, so jose alone would accept them. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface VerifiedToken {
  token: string;
  claims: CrossmintJwtPayload;
}

/**
 * Verifies Crossmint JWTs: allowed algorithms only, signature against the key store, `aud` = project id,
 * `exp`/`nbf` with the clock tolerance, `sub` and `exp` required. Verified tokens are remembered until
 * `exp` (bounded), and forgotten when the key set changes, so the hot path does not verify twice.
 */
@Injectable()
export class CrossmintJwtVerifier {
  /** Keyed by `cacheKeyOf(token)`; a hit must still match the whole token. */
  private readonly verified: LruCache<number, VerifiedToken>;
  private keysVersion: number;

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly keyStore: JwksKeyStore,
  ) {
    this.verified = new LruCache(options.verifiedTokenCacheSize);
    this.keysVersion = keyStore.version;
  }

  async verify(token: string): Promise<CrossmintJwtPayload> {
    const cached = this.cached(token);
    if (cached) return cached;
    if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH || !COMPACT_JWS.test(token)) throw invalidToken();

    const keysVersion = this.keysVersion;
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
    // A copy: the token is often a slice of the request's Cookie header, which the cache must not keep alive.
    const stored = Buffer.from(token).toString();
    // Keys that changed while this token was checked may have dropped its key: verify it again next time.
    if (this.keyStore.version === keysVersion) this.verified.set(cacheKeyOf(stored), { token: stored, claims }, (claims.exp + this.options.clockToleranceSec) * 1000);
    return claims;
  }

  /** The payload of a token verified before, still within `exp`, under the current keys; no I/O, no await. */
  cached(token: string): CrossmintJwtPayload | undefined {
    if (this.keysVersion !== this.keyStore.version) {
      this.verified.clear();
      this.keysVersion = this.keyStore.version;
    }
    const entry = typeof token === 'string' ? this.verified.get(cacheKeyOf(token)) : undefined;
    return entry?.token === token ? entry.claims : undefined;
  }
}

/**
 * The token's last characters, which lie in its signature (random per token), folded into a small integer: a
 * string key would be sliced and hashed on every lookup, most of what a hit cost. Two tokens may share a key;
 * the entry then holds the one verified last.
 */
function cacheKeyOf(token: string): number {
  let key = 0;
  for (let i = Math.max(0, token.length - 8); i < token.length; i++) key = (Math.imul(key, 31) + token.charCodeAt(i)) | 0;
  return key & 0x3fffffff;
}

function invalidToken(): CrossmintAuthenticationError {
  return new CrossmintAuthenticationError('Invalid or expired token');
}
