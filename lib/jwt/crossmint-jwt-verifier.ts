import { Inject, Injectable, Logger } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import { CROSSMINT_AUTH_OPTIONS, CROSSMINT_JWT_ALGORITHMS, MAX_JWT_LENGTH } from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintJwtPayload } from '../interfaces/crossmint-session.interface.js';
import { LruCache } from '../utils/lru-cache.js';
import { JwksKeyStore } from './jwks-key-store.js';
import { isCanonicalBase64url, mirrorEs256Signature } from './jws-encoding.js';
import { describeRefusal, refusalReason } from './jwt-refusal.js';

/** A compact JWS, strictly: Node's base64url decoding skips stray characters, so jose alone would accept them. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;

interface VerifiedToken {
  token: string;
  /** The same ES256 token with its mirror signature; none for RS256 (never '', which would match an empty token). */
  mirror: string | undefined;
  claims: CrossmintJwtPayload;
}

/**
 * Verifies Crossmint JWTs: allowed algorithms only, signature against the key store, `aud` = project id,
 * `exp`/`nbf` with the clock tolerance, `sub` and `exp` required. Verified tokens are remembered until
 * `exp` (bounded), and forgotten when the key set changes, so the hot path does not verify twice.
 */
@Injectable()
export class CrossmintJwtVerifier {
  private readonly logger = new Logger('CrossmintAuth');
  /** Keyed by `cacheKeyOf(token)`; a hit must still match the whole token, or the whole of its ES256 mirror. */
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
    return this.cached(token) ?? this.verifyUncached(token);
  }

  /** `verify` for a token just missed in `cached`: the whole check, then the cache. */
  async verifyUncached(token: string): Promise<CrossmintJwtPayload> {
    if (
      typeof token !== 'string' ||
      token.length > MAX_JWT_LENGTH ||
      !COMPACT_JWS.test(token) ||
      !token.split('.').every(isCanonicalBase64url)
    ) {
      throw this.refuse(CrossmintAuthReason.MalformedCredentials);
    }

    const keysVersion = this.keysVersion;
    let payload: JWTPayload;
    let alg: string | undefined;
    try {
      ({
        payload,
        protectedHeader: { alg },
      } = await jwtVerify(token, this.keyStore.getKey, {
        algorithms: CROSSMINT_JWT_ALGORITHMS,
        audience: this.options.projectId,
        clockTolerance: this.options.clockToleranceSec,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      if (error instanceof CrossmintServiceUnavailableError) throw error;
      const reason = refusalReason(error);
      throw this.refuse(reason, describeRefusal(reason, error, token, this.options.projectId));
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number')
      throw this.refuse(CrossmintAuthReason.MissingClaims);

    const claims = Object.freeze(payload) as CrossmintJwtPayload;
    // A copy: the token is often a slice of the request's Cookie header, which the cache must not keep alive.
    const stored = Buffer.from(token).toString();
    // Its first two segments are a slice of `stored`: V8 keeps the mirror as a rope over `stored` and its own
    // 86-character signature: about 190 bytes an entry (one token length at most, were it ever flattened).
    const signatureAt = stored.lastIndexOf('.') + 1;
    const mirror =
      alg === 'ES256' ? stored.slice(0, signatureAt) + mirrorEs256Signature(stored.slice(signatureAt)) : undefined;
    // Keys that changed while this token was checked may have dropped its key: verify it again next time.
    if (this.keyStore.version === keysVersion) {
      this.verified.set(
        cacheKeyOf(stored),
        { token: stored, mirror, claims },
        (claims.exp + this.options.clockToleranceSec) * 1000,
      );
    }
    return claims;
  }

  /** The payload of a token verified before, still within `exp`, under the current keys; no I/O, no await. */
  cached(token: string): CrossmintJwtPayload | undefined {
    if (this.keysVersion !== this.keyStore.version) {
      this.verified.clear();
      this.keysVersion = this.keyStore.version;
    }
    const entry = typeof token === 'string' ? this.verified.get(cacheKeyOf(token)) : undefined;
    return entry && (entry.token === token || entry.mirror === token) ? entry.claims : undefined;
  }

  /** Why a JWT is refused, at debug (never the token): enough to tell a wrong project id from an attack. */
  private refuse(reason: CrossmintAuthReason, detail = ''): CrossmintAuthenticationError {
    this.logger.debug(`JWT refused: ${reason}${detail}`);
    return new CrossmintAuthenticationError('Invalid or expired token', reason);
  }
}

/**
 * 8 characters of the token's signature (random per token) folded into a small integer: a string key would be
 * sliced and hashed on every lookup, most of what a hit cost. They are taken 86 characters from the end, the
 * length of an ES256 signature: there they encode the start of r, which an ES256 token and its mirror share,
 * so both find one entry. Two tokens may share a key; the entry then holds the one verified last.
 */
function cacheKeyOf(token: string): number {
  let key = 0;
  const start = Math.max(0, token.length - 86);
  for (let i = start; i < start + 8 && i < token.length; i++) key = (Math.imul(key, 31) + token.charCodeAt(i)) | 0;
  return key & 0x3fffffff;
}
