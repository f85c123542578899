import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { createPublicKey, randomBytes, verify as cryptoVerify } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { CrossmintApi } from '../../lib/api/crossmint-api.js';
import { FetchCrossmintHttpClient } from '../../lib/api/fetch-http-client.js';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  type CrossmintAuthModuleOptions,
} from '../../lib/index.js';
import { CrossmintJwtVerifier } from '../../lib/jwt/crossmint-jwt-verifier.js';
import { isCanonicalBase64url, mirrorEs256Signature } from '../../lib/jwt/jws-encoding.js';
import { JwksKeyStore } from '../../lib/jwt/jwks-key-store.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import { CrossmintAuthEmulator } from '../../lib/testing/index.js';

const nowSec = () => Math.floor(Date.now() / 1000);

/** The token with its signature segment replaced. */
const withSignature = (token: string, signature: string) => `${token.slice(0, token.lastIndexOf('.') + 1)}${signature}`;
const signatureOf = (token: string) => token.slice(token.lastIndexOf('.') + 1);

/**
 * CrossmintJwtVerifier: Crossmint JWTs checked against the emulator's keys (fetched over real HTTP), with a cache
 * of verified tokens that answers without I/O. Then the pure helpers of lib/jwt/jws-encoding.ts it relies on.
 */
describe('CrossmintJwtVerifier', () => {
  let emulator: CrossmintAuthEmulator;

  /** A new verifier and its key store, wired as the module wires them. */
  const createVerifier = (options: Partial<CrossmintAuthModuleOptions> = {}) => {
    const resolved = resolveCrossmintAuthOptions({ ...emulator.moduleOptions(), timeoutMs: 1000, ...options });
    const keyStore = new JwksKeyStore(resolved, new CrossmintApi(resolved, new FetchCrossmintHttpClient()));
    return new CrossmintJwtVerifier(resolved, keyStore);
  };

  /** A verifier whose key store has fetched the keys already (see 'is not filled while the keys are first fetched'). */
  const createWarmVerifier = async (options: Partial<CrossmintAuthModuleOptions> = {}) => {
    const verifier = createVerifier(options);
    await verifier.verify(await emulator.mintJwt());
    return verifier;
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  describe('verify', () => {
    it("returns the frozen claims of a Crossmint JWT for this project's audience", async () => {
      const token = await emulator.mintJwt({ sub: 'user-1' });
      const claims = await createVerifier().verify(token);
      expect(claims).toMatchObject({ sub: 'user-1', aud: emulator.projectId, exp: expect.any(Number) });
      expect(Object.isFrozen(claims)).toBe(true);
    });

    it('verifies RS256 tokens too', async () => {
      const rsa = await CrossmintAuthEmulator.start({ algorithm: 'RS256' });
      try {
        const resolved = resolveCrossmintAuthOptions(rsa.moduleOptions());
        const verifier = new CrossmintJwtVerifier(
          resolved,
          new JwksKeyStore(resolved, new CrossmintApi(resolved, new FetchCrossmintHttpClient())),
        );
        await expect(verifier.verify(await rsa.mintJwt({ sub: 'rsa-user' }))).resolves.toMatchObject({
          sub: 'rsa-user',
        });
      } finally {
        await rsa.stop();
      }
    });

    it.each([
      [
        'a foreign key',
        () => emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 }, { key: 'foreign' }),
      ],
      ['alg none', () => emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 }, { alg: 'none' })],
      [
        'alg HS256 keyed with the public key',
        () => emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 }, { alg: 'HS256' }),
      ],
      [
        'a tampered payload',
        async () => {
          const [header, , signature] = (await emulator.mintJwt({ sub: 'victim' })).split('.');
          return `${header}.${Buffer.from(JSON.stringify({ sub: 'attacker', aud: emulator.projectId, exp: nowSec() + 60 })).toString('base64url')}.${signature}`;
        },
      ],
      ['stray characters', async () => `${await emulator.mintJwt()}=`],
      ['over 8 KB', () => emulator.mintJwt({ extraClaims: { pad: 'x'.repeat(9000) } })],
    ])('refuses a token with %s: CrossmintAuthenticationError', async (_, makeToken) => {
      await expect(createVerifier().verify(await makeToken())).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('refuses another spelling of a valid signature, which Node decodes to the same bytes (and jose alone accepts)', async () => {
      const token = await emulator.mintJwt();
      const signature = signatureOf(token);
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const respelled = withSignature(
        token,
        signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) + 1],
      );
      await expect(jwtVerify(respelled, createLocalJWKSet(emulator.jwks()))).resolves.toBeDefined();
      await expect(createVerifier().verify(respelled)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('checks a burst of new tokens, valid and forged, each to its own verdict and claims (the checks queue)', async () => {
      const verifier = await createWarmVerifier();
      const tokens = await Promise.all(
        Array.from({ length: 40 }, async (_, i) => {
          const token = await emulator.mintJwt({ sub: `burst-${i}` });
          return i % 4 === 3 ? withSignature(token, signatureOf(await emulator.mintJwt())) : token;
        }),
      );
      const verdicts = await Promise.allSettled(tokens.map((token) => verifier.verify(token)));
      verdicts.forEach((verdict, i) => {
        if (i % 4 === 3)
          expect(verdict).toMatchObject({ status: 'rejected', reason: expect.any(CrossmintAuthenticationError) });
        else expect(verdict).toMatchObject({ status: 'fulfilled', value: { sub: `burst-${i}` } });
      });
    });

    it('checks a known key while tokens with unknown kids wait for a slow JWKS fetch (a fetch holds no turn)', async () => {
      // No cooldown: the three wait on one fetch, held past the 1 s timeout. Were a fetch to hold a turn, the
      // known token would wait for it, and unknown-kid checks would have settled first.
      const verifier = await createWarmVerifier({ jwksCooldownMs: 0 });
      emulator.fault('jwks', { delayMs: 2000 });
      const unknownKids = await Promise.all(
        ['kid-a', 'kid-b', 'kid-c'].map((kid) =>
          emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 }, { key: 'foreign', kid }),
        ),
      );
      let waiting = unknownKids.length;
      const waiters = unknownKids.map((token) => verifier.verify(token).finally(() => waiting--));
      await sleep(50);
      await expect(verifier.verify(await emulator.mintJwt({ sub: 'known' }))).resolves.toMatchObject({ sub: 'known' });
      expect(waiting).toBe(unknownKids.length);
      await Promise.allSettled(waiters);
    });

    it('lets a JWKS outage through as CrossmintServiceUnavailableError, not as an invalid token', async () => {
      emulator.fault('jwks', { status: 503 });
      await expect(createVerifier().verify(await emulator.mintJwt())).rejects.toBeInstanceOf(
        CrossmintServiceUnavailableError,
      );
    });
  });

  describe('required claims', () => {
    it.each([
      ['no sub', { exp: 60 }],
      ['an empty sub', { sub: '', exp: 60 }],
      ['a numeric sub', { sub: 42, exp: 60 }],
      ['no exp', { sub: 'u' }],
      ['a string exp', { sub: 'u', exp: 'later' }],
    ])('refuses a signed token with %s', async (_, claims: Record<string, unknown>) => {
      const exp = typeof claims.exp === 'number' ? nowSec() + claims.exp : claims.exp;
      const token = await emulator.signJwt({
        aud: emulator.projectId,
        ...claims,
        ...(exp === undefined ? {} : { exp }),
      });
      await expect(createVerifier().verify(token)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('accepts the same token shape once sub and exp are there (the control)', async () => {
      const token = await emulator.signJwt({ aud: emulator.projectId, sub: 'u', exp: nowSec() + 60 });
      await expect(createVerifier().verify(token)).resolves.toMatchObject({ sub: 'u' });
    });
  });

  describe('audience', () => {
    it('refuses a token for another project, and one without aud', async () => {
      const verifier = createVerifier();
      await expect(verifier.verify(await emulator.mintJwt({ audience: 'another-project' }))).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
      await expect(verifier.verify(await emulator.signJwt({ sub: 'u', exp: nowSec() + 60 }))).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
    });

    it('checks against the projectId option when one is given', async () => {
      const token = await emulator.mintJwt({ audience: 'configured-project' });
      await expect(createVerifier({ projectId: 'configured-project' }).verify(token)).resolves.toMatchObject({
        aud: 'configured-project',
      });
      await expect(createVerifier().verify(token)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });
  });

  describe('clock tolerance', () => {
    const expiredBy = (seconds: number) =>
      emulator.signJwt({ sub: 'u', aud: emulator.projectId, iat: nowSec() - 120, exp: nowSec() - seconds });
    const notBeforeIn = (seconds: number) =>
      emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp: nowSec() + 600, nbf: nowSec() + seconds });

    it('accepts a token expired less than clockToleranceSec ago, refuses one expired longer', async () => {
      const verifier = createVerifier({ clockToleranceSec: 30 });
      await expect(verifier.verify(await expiredBy(10))).resolves.toMatchObject({ sub: 'u' });
      await expect(verifier.verify(await expiredBy(60))).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      await expect(createVerifier({ clockToleranceSec: 0 }).verify(await expiredBy(10))).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
    });

    it('applies it to nbf as well', async () => {
      await expect(createVerifier({ clockToleranceSec: 30 }).verify(await notBeforeIn(10))).resolves.toMatchObject({
        sub: 'u',
      });
      await expect(createVerifier({ clockToleranceSec: 0 }).verify(await notBeforeIn(10))).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
    });
  });

  describe('the cache of verified tokens', () => {
    it('cached() knows nothing of a token before it is verified, then returns its claims synchronously', async () => {
      const verifier = await createWarmVerifier();
      const token = await emulator.mintJwt();
      expect(verifier.cached(token)).toBeUndefined();
      const claims = await verifier.verify(token);
      const hit = verifier.cached(token);
      expect(hit).not.toBeInstanceOf(Promise);
      expect(hit).toBe(claims);
    });

    it('is not filled while the keys are first fetched: that counts as a key change, so the token is checked again', async () => {
      const verifier = createVerifier();
      const token = await emulator.mintJwt();
      await verifier.verify(token);
      expect(verifier.cached(token)).toBeUndefined();
      await verifier.verify(token);
      expect(verifier.cached(token)).toBeDefined();
      expect(emulator.calls('jwks')).toBe(1);
    });

    it('answers a verified token without I/O: verify() resolves while no key can be had, verifyUncached() does not', async () => {
      // Keys usable for 200 ms and not a moment more: past that, a check needing a key goes back to the JWKS endpoint.
      const verifier = await createWarmVerifier({ jwksMaxAgeMs: 200, jwksMaxStaleMs: 0 });
      const token = await emulator.mintJwt();
      const claims = await verifier.verify(token);
      emulator.resetCalls();
      emulator.fault('jwks', { status: 503 });
      await sleep(250);

      await expect(verifier.verify(token)).resolves.toBe(claims);
      expect(emulator.calls('jwks')).toBe(0);
      await expect(verifier.verifyUncached(token)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      await expect(verifier.verify(await emulator.mintJwt())).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });

    it('matches the whole token: another signature with the same cache slot is checked afresh and refused', async () => {
      const verifier = await createWarmVerifier();
      const token = await emulator.mintJwt();
      await verifier.verify(token);
      expect(verifier.cached(token)).toBeDefined();
      // The last character of an ES256 signature is one of A, Q, g, w (canonical); keep its slot, change the bytes.
      const signature = signatureOf(token);
      const forged = withSignature(token, signature.slice(0, -1) + 'AQgw'.replace(signature.at(-1)!, '')[0]);
      expect(verifier.cached(forged)).toBeUndefined();
      await expect(verifier.verify(forged)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('shares one entry between an ES256 token and its mirror signature, both of which verify', async () => {
      const token = await emulator.mintJwt();
      const mirror = withSignature(token, mirrorEs256Signature(signatureOf(token)));
      const verifier = await createWarmVerifier();
      const claims = await verifier.verify(token);
      expect(verifier.cached(mirror)).toBe(claims);
      await expect(createVerifier().verify(mirror)).resolves.toMatchObject({ sub: claims.sub });
    });

    it.each([
      ['header', 0],
      ['payload', 1],
      ['signature', 2],
    ])(
      'is keyed by the whole token: a verified token with its %s taken from another genuine token misses, and is refused',
      async (_, index) => {
        const verifier = await createWarmVerifier();
        // Two tokens of one user minted in the same second: the header, or even the payload, may be the same.
        const genuine = await emulator.signJwt(
          { sub: 'u', aud: emulator.projectId, exp: nowSec() + 60, jti: 'a' },
          { header: { pad: 'a' } },
        );
        const other = await emulator.signJwt(
          { sub: 'u', aud: emulator.projectId, exp: nowSec() + 60, jti: 'b' },
          { header: { pad: 'b' } },
        );
        await verifier.verify(genuine);
        await verifier.verify(other);
        expect(verifier.cached(genuine)).toBeDefined();
        const segments = genuine.split('.');
        segments[index] = other.split('.')[index];
        const spliced = segments.join('.');
        expect(spliced).not.toBe(genuine);
        expect(verifier.cached(spliced)).toBeUndefined();
        await expect(verifier.verify(spliced)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      },
    );

    it('holds sessions within verifiedTokenCacheMb: older ones are evicted once the budget is spent', async () => {
      // About 300 bytes an entry for these tokens: 0.003 MB holds about 10.
      const verifier = await createWarmVerifier({ verifiedTokenCacheMb: 0.003 });
      const tokens = await Promise.all(Array.from({ length: 30 }, () => emulator.mintJwt()));
      for (const token of tokens) await verifier.verify(token);
      const held = tokens.filter((token) => verifier.cached(token) !== undefined);
      expect(held.length).toBeGreaterThanOrEqual(5);
      expect(held.length).toBeLessThanOrEqual(12);
      expect(held).toContain(tokens[29]);
    });

    it('still bounds the cache by count with the deprecated verifiedTokenCacheSize, and 0 disables it', async () => {
      const verifier = await createWarmVerifier({ verifiedTokenCacheSize: 3 });
      const tokens = await Promise.all(Array.from({ length: 6 }, () => emulator.mintJwt()));
      for (const token of tokens) await verifier.verify(token);
      const held = tokens.filter((token) => verifier.cached(token) !== undefined);
      expect(held).toHaveLength(3);
      expect(held).toContain(tokens[5]);
      const none = await createWarmVerifier({ verifiedTokenCacheSize: 0 });
      await none.verify(tokens[0]);
      expect(none.cached(tokens[0])).toBeUndefined();
      const noBudget = await createWarmVerifier({ verifiedTokenCacheMb: 0 });
      await noBudget.verify(tokens[0]);
      expect(noBudget.cached(tokens[0])).toBeUndefined();
    });

    it('warns once, naming no token, when it evicts still-valid sessions faster than it can hold them', async () => {
      const warnings: string[] = [];
      Logger.overrideLogger({ log() {}, error() {}, warn: (message: string) => warnings.push(message) });
      try {
        const verifier = await createWarmVerifier({ verifiedTokenCacheSize: 10 });
        const tokens = await Promise.all(Array.from({ length: 10 }, () => emulator.mintJwt()));
        for (const token of tokens) await verifier.verify(token);
        expect(warnings).toEqual([]);
        const more = await Promise.all(Array.from({ length: 40 }, () => emulator.mintJwt()));
        for (const token of more) await verifier.verify(token);
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatch(/verifiedTokenCacheMb/);
        for (const token of [...tokens, ...more]) {
          expect(warnings[0]).not.toContain(token.split('.')[2]);
        }
      } finally {
        Logger.overrideLogger(false);
      }
    });

    it('forgets a token once its exp (plus the clock tolerance) has passed', async () => {
      const verifier = await createWarmVerifier({ clockToleranceSec: 0 });
      // At the start of a second, so that the token has most of one second to live.
      await sleep(1000 - (Date.now() % 1000) + 10);
      const exp = nowSec() + 1;
      const token = await emulator.signJwt({ sub: 'u', aud: emulator.projectId, exp });
      await verifier.verify(token);
      expect(verifier.cached(token)).toBeDefined();
      await sleep(exp * 1000 - Date.now() + 50);
      expect(verifier.cached(token)).toBeUndefined();
    });

    it('is forgotten when the keys change: a token of a key Crossmint dropped is no longer accepted', async () => {
      const verifier = await createWarmVerifier({ jwksCooldownMs: 0 });
      const old = await emulator.mintJwt();
      await verifier.verify(old);
      expect(verifier.cached(old)).toBeDefined();
      await emulator.rotateKeys({ keepOld: false });
      // A token of the new key makes the store re-fetch the keys: the old key is gone.
      await verifier.verify(await emulator.mintJwt());

      expect(verifier.cached(old)).toBeUndefined();
      await expect(verifier.verify(old)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('is kept when a re-fetch brings the same keys', async () => {
      const verifier = await createWarmVerifier({ jwksCooldownMs: 0 });
      const token = await emulator.mintJwt();
      const claims = await verifier.verify(token);
      const unknownKid = await emulator.signJwt(
        { sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 },
        { key: 'foreign', kid: 'unknown' },
      );
      await expect(verifier.verify(unknownKid)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      expect(emulator.calls('jwks')).toBe(2);
      expect(verifier.cached(token)).toBe(claims);
    });
  });
});

describe('jws-encoding', () => {
  describe('isCanonicalBase64url', () => {
    it('accepts what Buffer encodes, for every length', () => {
      for (let length = 0; length <= 70; length++) {
        const segment = randomBytes(length).toString('base64url');
        expect([segment, isCanonicalBase64url(segment)]).toEqual([segment, true]);
      }
    });

    it('refuses another spelling of the same bytes (unused low bits set), which Buffer decodes alike', () => {
      for (const [canonical, other] of [
        ['AA', 'AB'],
        ['AQ', 'AR'],
        ['AAA', 'AAB'],
        ['AAE', 'AAF'],
        ['AAw', 'AAz'],
      ]) {
        expect(Buffer.from(other, 'base64url')).toEqual(Buffer.from(canonical, 'base64url'));
        expect(isCanonicalBase64url(canonical)).toBe(true);
        expect(isCanonicalBase64url(other)).toBe(false);
      }
    });

    it('refuses a length of 1 mod 4, which no byte string encodes to', () => {
      expect(isCanonicalBase64url('A')).toBe(false);
      expect(isCanonicalBase64url('AAAAA')).toBe(false);
    });

    it('keeps a valid ES256 token from passing for another token with a re-spelled signature', async () => {
      const emulator = await CrossmintAuthEmulator.start();
      try {
        const token = await emulator.mintJwt();
        const signature = signatureOf(token);
        expect(isCanonicalBase64url(signature)).toBe(true);
        // 86 characters: the last one carries 2 bits, 4 are unused.
        const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const respelled = signature.slice(0, -1) + alphabet[alphabet.indexOf(signature.at(-1)!) + 1];
        expect(Buffer.from(respelled, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
        expect(isCanonicalBase64url(respelled)).toBe(false);
      } finally {
        await emulator.stop();
      }
    });
  });

  describe('mirrorEs256Signature', () => {
    let emulator: CrossmintAuthEmulator;
    beforeAll(async () => {
      emulator = await CrossmintAuthEmulator.start();
    });
    afterAll(() => emulator.stop());

    const verifyWithNodeCrypto = (token: string, signature: string) => {
      const publicKey = createPublicKey({ key: emulator.jwks().keys[0] as never, format: 'jwk' });
      const input = Buffer.from(token.slice(0, token.lastIndexOf('.')));
      return cryptoVerify(
        'sha256',
        input,
        { key: publicKey, dsaEncoding: 'ieee-p1363' },
        Buffer.from(signature, 'base64url'),
      );
    };

    it.each(['low', 'high'] as const)(
      'the mirror of a %s-S signature differs, keeps r, and its own mirror is the original',
      async (ecdsaS) => {
        const signature = signatureOf(await emulator.mintJwt({ ecdsaS }));
        const mirror = mirrorEs256Signature(signature);
        expect(mirror).not.toBe(signature);
        expect(mirror).toHaveLength(86);
        expect(isCanonicalBase64url(mirror)).toBe(true);
        expect(Buffer.from(mirror, 'base64url').subarray(0, 32)).toEqual(
          Buffer.from(signature, 'base64url').subarray(0, 32),
        );
        expect(mirrorEs256Signature(mirror)).toBe(signature);
      },
    );

    it('the mirror verifies with node:crypto, as the original does; a near miss does not', async () => {
      const token = await emulator.mintJwt();
      const signature = signatureOf(token);
      const mirror = mirrorEs256Signature(signature);
      expect(verifyWithNodeCrypto(token, signature)).toBe(true);
      expect(verifyWithNodeCrypto(token, mirror)).toBe(true);

      const nearMiss = Buffer.from(mirror, 'base64url');
      nearMiss[63] ^= 1;
      expect(verifyWithNodeCrypto(token, nearMiss.toString('base64url'))).toBe(false);
    });
  });
});
