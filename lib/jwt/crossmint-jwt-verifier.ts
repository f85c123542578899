import { hash } from 'node:crypto';
import { Inject, Injectable, Logger } from '@nestjs/common';
import { jwtVerify, type JWTPayload } from 'jose';
import {
  CROSSMINT_AUTH_OPTIONS,
  CROSSMINT_JWT_ALGORITHMS,
  HOT_TOKEN_SLOTS,
  MAX_CONCURRENT_SIGNATURE_CHECKS,
  MAX_JWT_LENGTH,
  VERIFIED_TOKEN_CACHE_CHURN_WINDOW_MS,
  VERIFIED_TOKEN_ENTRY_BYTES,
} from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintJwtPayload } from '../interfaces/crossmint-session.interface.js';
import { ConcurrencyLimit } from '../utils/concurrency-limit.js';
import { DigestTable } from '../utils/digest-table.js';
import { JwksKeyStore } from './jwks-key-store.js';
import { isCanonicalBase64url, mirrorEs256Signature } from './jws-encoding.js';
import { describeRefusal, refusalReason } from './jwt-refusal.js';

/** A compact JWS, strictly: Node's base64url decoding skips stray characters, so jose alone would accept them. */
const COMPACT_JWS = /^[\w-]+\.[\w-]+\.[\w-]+$/;
const BASE64URL_86 = /^[\w-]{86}$/;

/** A session of the hot table: the exact token (a copy), its claims, and when the cache would forget it. */
interface HotToken {
  token: string;
  claims: CrossmintJwtPayload;
  expiresAt: number;
}

/**
 * Verifies Crossmint JWTs: allowed algorithms only, signature against the key store, `aud` = project id,
 * `exp`/`nbf` with the clock tolerance, `sub` and `exp` required. Verified tokens are remembered until
 * `exp` (bounded), and forgotten when the key set changes, so the hot path does not verify twice.
 */
@Injectable()
export class CrossmintJwtVerifier {
  private readonly logger = new Logger('CrossmintAuth');
  /**
   * Keyed by a SHA-256 of the whole token (header, payload and signature; 128 bits of it kept): a hit is a token
   * verified before, and the entry holds its claims, not the token.
   */
  private readonly verified: DigestTable<CrossmintJwtPayload>;
  /**
   * In front of it, direct-mapped by `slotOf`: the last token found in the cache in each slot, compared whole. The
   * busiest sessions are answered here without a digest; it holds at most HOT_TOKEN_SLOTS tokens.
   */
  private hot: Array<HotToken | undefined> = new Array<HotToken | undefined>(HOT_TOKEN_SLOTS);
  private readonly hotFingerprints = new Int32Array(HOT_TOKEN_SLOTS);
  private keysVersion: number;
  /** Turns for signature checks: more wait, so that a burst of new tokens leaves the event loop room. */
  private readonly signatureChecks = new ConcurrencyLimit(MAX_CONCURRENT_SIGNATURE_CHECKS);
  private promotions = 0;
  private churn = { since: 0, evicted: 0, warned: false };

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly keyStore: JwksKeyStore,
  ) {
    const { verifiedTokenCacheSize: size, verifiedTokenCacheMb: mb } = options;
    this.verified = new DigestTable(size ?? Math.floor(mb * 1024 * 1024), (claims) => this.expiryOf(claims));
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
    let release: (() => void) | undefined;
    try {
      ({ payload } = await jwtVerify(
        token,
        async (header, jws) => {
          // The key first, outside the turns: a JWKS fetch must not hold one while other tokens wait.
          const key = await this.keyStore.getKey(header, jws);
          release = await this.signatureChecks.acquire();
          return key;
        },
        {
          algorithms: CROSSMINT_JWT_ALGORITHMS,
          audience: this.options.projectId,
          clockTolerance: this.options.clockToleranceSec,
          requiredClaims: ['exp', 'sub'],
        },
      ));
    } catch (error) {
      if (error instanceof CrossmintServiceUnavailableError) throw error;
      const reason = refusalReason(error);
      throw this.refuse(reason, describeRefusal(reason, error, token, this.options.projectId));
    } finally {
      release?.();
    }
    if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number')
      throw this.refuse(CrossmintAuthReason.MissingClaims);

    const claims = Object.freeze(payload) as CrossmintJwtPayload;
    // Keys that changed while this token was checked may have dropped its key: verify it again next time.
    if (this.keyStore.version === keysVersion) {
      // Its estimated bytes; one entry under the deprecated bound by count.
      const bytes = VERIFIED_TOKEN_ENTRY_BYTES + token.lastIndexOf('.') - token.indexOf('.');
      this.verified.set(digestOf(token), claims, this.options.verifiedTokenCacheSize === undefined ? bytes : 1);
      this.noteEvictions();
    }
    return claims;
  }

  /** The payload of a token verified before, still within `exp`, under the current keys; no I/O, no await. */
  cached(token: string): CrossmintJwtPayload | undefined {
    if (this.keysVersion !== this.keyStore.version) {
      this.verified.clear();
      this.hot = new Array<HotToken | undefined>(HOT_TOKEN_SLOTS);
      this.keysVersion = this.keyStore.version;
    }
    if (typeof token !== 'string' || token.length > MAX_JWT_LENGTH) return undefined;
    const fingerprint = fingerprintOf(token);
    const slot = fingerprint & (HOT_TOKEN_SLOTS - 1);
    const hot = this.hot[slot];
    // The fingerprint first: with many sessions, the slot mostly holds another token, not worth reading.
    if (this.hotFingerprints[slot] === fingerprint && hot?.token === token && hot.expiresAt > Date.now())
      return hot.claims;
    if (this.verified.size === 0) return undefined;
    const claims = this.verified.get(digestOf(token)) ?? this.mirrorHit(token);
    // Into a free slot at once, over another token every 32nd time: many sessions taking turns in one slot would
    // otherwise copy a token on every request.
    if (claims && (hot === undefined || (++this.promotions & 31) === 0)) {
      // A copy: the token is often a slice of the request's Cookie header, which must not be kept alive.
      this.hot[slot] = { token: Buffer.from(token).toString(), claims, expiresAt: this.expiryOf(claims) };
      this.hotFingerprints[slot] = fingerprint;
    }
    return claims;
  }

  /** The entry of the token's ES256 mirror: a token and its mirror share one entry. */
  private mirrorHit(token: string): CrossmintJwtPayload | undefined {
    const mirror = mirrorOf(token);
    return mirror ? this.verified.get(digestOf(mirror)) : undefined;
  }

  private expiryOf(claims: CrossmintJwtPayload): number {
    return (claims.exp + this.options.clockToleranceSec) * 1000;
  }

  /** Warns once when the cache evicts still-valid sessions faster than a tenth of what it holds per window. */
  private noteEvictions(): void {
    const { churn, verified } = this;
    const now = Date.now();
    if (churn.warned) return;
    if (now - churn.since >= VERIFIED_TOKEN_CACHE_CHURN_WINDOW_MS) {
      this.churn = { since: now, evicted: verified.evictedUnexpired, warned: false };
    } else if (verified.evictedUnexpired - churn.evicted > verified.size / 10) {
      churn.warned = true;
      this.logger.warn(
        `The verified-token cache is too small for the active sessions: it evicted ${verified.evictedUnexpired - churn.evicted} ` +
          `still-valid sessions within ${VERIFIED_TOKEN_CACHE_CHURN_WINDOW_MS / 1000} s, each verified again on its next request; ` +
          `raise verifiedTokenCacheMb (now holding ${verified.size} sessions).`,
      );
    }
  }

  /** Why a JWT is refused, at debug (never the token): enough to tell a wrong project id from an attack. */
  private refuse(reason: CrossmintAuthReason, detail = ''): CrossmintAuthenticationError {
    this.logger.debug(`JWT refused: ${reason}${detail}`);
    return new CrossmintAuthenticationError('Invalid or expired token', reason);
  }
}

/** A collision-resistant digest of the whole token, as a 32-character latin1 string (DigestTable's key). */
function digestOf(token: string): string {
  return hash('sha256', token, 'binary'); // latin1: one character a byte
}

/**
 * The token with its ES256 mirror signature, so that a token and its mirror share one entry; '' for anything
 * else. Only a canonical 86-character signature is mirrored: a non-canonical spelling must not reach the entry
 * of the canonical one.
 */
function mirrorOf(token: string): string {
  const at = token.lastIndexOf('.') + 1;
  const signature = token.slice(at);
  if (signature.length !== 86 || !BASE64URL_86.test(signature) || !isCanonicalBase64url(signature)) return '';
  return token.slice(0, at) + mirrorEs256Signature(signature);
}

/**
 * 8 characters of the signature (random per token), taken 86 characters from the end, folded into an integer; no
 * string is allocated or hashed. Its low bits pick the token's hot-table slot: two tokens may share one, and the
 * latest wins.
 */
function fingerprintOf(token: string): number {
  let key = 0;
  const start = Math.max(0, token.length - 86);
  for (let i = start; i < start + 8 && i < token.length; i++) key = (Math.imul(key, 31) + token.charCodeAt(i)) | 0;
  return key;
}
