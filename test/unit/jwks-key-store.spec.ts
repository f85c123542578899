import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeProtectedHeader, errors, jwtVerify, type JWTHeaderParameters } from 'jose';
import { CrossmintApi } from '../../lib/api/crossmint-api.js';
import { FetchCrossmintHttpClient } from '../../lib/api/fetch-http-client.js';
import { CrossmintServiceUnavailableError, type CrossmintAuthModuleOptions } from '../../lib/index.js';
import { JwksKeyStore } from '../../lib/jwt/jwks-key-store.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import { CrossmintAuthEmulator } from '../../lib/testing/index.js';

/**
 * JwksKeyStore: Crossmint's signing keys, fetched from the emulator's JWKS endpoint over real HTTP, cached,
 * re-fetched for an unknown kid (rate-limited) or when old, and served stale while the endpoint fails.
 */
describe('JwksKeyStore', () => {
  let emulator: CrossmintAuthEmulator;

  /** A new key store, wired as the module wires it. */
  const createStore = (options: Partial<CrossmintAuthModuleOptions> = {}) => {
    const resolved = resolveCrossmintAuthOptions({ ...emulator.moduleOptions(), timeoutMs: 1000, ...options });
    return new JwksKeyStore(resolved, new CrossmintApi(resolved, new FetchCrossmintHttpClient()));
  };

  /** The key the store gives for a token's header, as `jwtVerify` asks for it. */
  const keyFor = (store: JwksKeyStore, token: string) => {
    const [, payload, signature] = token.split('.');
    return store.getKey(decodeProtectedHeader(token) as JWTHeaderParameters, { payload, signature });
  };

  /** A token signed by a key the emulator does not publish, naming `kid`. */
  const unknownKidToken = (kid = 'no-such-kid') =>
    emulator.signJwt(
      { sub: 'u', aud: emulator.projectId, exp: Math.floor(Date.now() / 1000) + 60 },
      { key: 'foreign', kid },
    );

  beforeAll(async () => {
    Logger.overrideLogger(false);
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  describe('fetching', () => {
    it('fetches the keys once, on first use, however many lookups come (concurrent or later)', async () => {
      const store = createStore();
      const token = await emulator.mintJwt();
      expect(emulator.calls('jwks')).toBe(0);

      await Promise.all(Array.from({ length: 10 }, () => keyFor(store, token)));
      for (let i = 0; i < 5; i++) await keyFor(store, token);
      expect(emulator.calls('jwks')).toBe(1);
    });

    it("gives the key that verifies the emulator's tokens", async () => {
      const store = createStore();
      const token = await emulator.mintJwt({ sub: 'user-1' });
      const { payload } = await jwtVerify(token, store.getKey, { audience: emulator.projectId });
      expect(payload.sub).toBe('user-1');
    });

    it('answers a cold start with the endpoint down with CrossmintServiceUnavailableError, and tries again no sooner than 1 s', async () => {
      const store = createStore();
      const token = await emulator.mintJwt();
      emulator.fault('jwks', { status: 503 });
      await expect(keyFor(store, token)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      await expect(keyFor(store, token)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(emulator.calls('jwks')).toBe(1);

      emulator.clearFaults();
      await sleep(1_050);
      await expect(keyFor(store, token)).resolves.toBeDefined();
      expect(emulator.calls('jwks')).toBe(2);
    });
  });

  describe('an unknown kid', () => {
    it('re-fetches the keys and finds a key Crossmint rotated in', async () => {
      const store = createStore({ jwksCooldownMs: 0 });
      await keyFor(store, await emulator.mintJwt());
      await emulator.rotateKeys();
      const rotated = await emulator.mintJwt();

      await expect(keyFor(store, rotated)).resolves.toBeDefined();
      expect(emulator.calls('jwks')).toBe(2);
    });

    it('re-fetches at most once per jwksCooldownMs, however many unknown kids come', async () => {
      const store = createStore({ jwksCooldownMs: 300 });
      await keyFor(store, await emulator.mintJwt());
      await sleep(350);

      const unknown = await unknownKidToken();
      const lookups = await Promise.allSettled(Array.from({ length: 5 }, () => keyFor(store, unknown)));
      expect(
        lookups.every((lookup) => lookup.status === 'rejected' && lookup.reason instanceof errors.JWKSNoMatchingKey),
      ).toBe(true);
      await expect(keyFor(store, unknown)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(emulator.calls('jwks')).toBe(2);

      await sleep(350);
      await expect(keyFor(store, unknown)).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(emulator.calls('jwks')).toBe(3);
    });

    it('within the cooldown, does not find a key rotated in just after the last fetch', async () => {
      const store = createStore({ jwksCooldownMs: 60_000 });
      await keyFor(store, await emulator.mintJwt());
      await emulator.rotateKeys();

      await expect(keyFor(store, await emulator.mintJwt())).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(emulator.calls('jwks')).toBe(1);
    });

    it('keeps the keys it has when the re-fetch fails', async () => {
      const store = createStore({ jwksCooldownMs: 0 });
      const known = await emulator.mintJwt();
      await keyFor(store, known);
      emulator.fault('jwks', { status: 500 });

      await expect(keyFor(store, await unknownKidToken())).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      expect(emulator.calls('jwks')).toBe(2);
      await expect(keyFor(store, known)).resolves.toBeDefined();
    });
  });

  describe('stale keys', () => {
    it('serves the keys past jwksMaxAgeMs while the endpoint fails, up to jwksMaxStaleMs more, then 503', async () => {
      const store = createStore({ jwksMaxAgeMs: 200, jwksMaxStaleMs: 500, jwksCooldownMs: 0 });
      const token = await emulator.mintJwt();
      await keyFor(store, token);
      const fetchedAt = Date.now();
      emulator.fault('jwks', { status: 503 });

      await sleep(300);
      await expect(keyFor(store, token)).resolves.toBeDefined();
      // A background re-fetch was tried (and failed) while the stale keys answered.
      await sleep(50);
      expect(emulator.calls('jwks')).toBeGreaterThanOrEqual(2);

      await sleep(fetchedAt + 200 + 500 + 100 - Date.now());
      await expect(keyFor(store, token)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });

    it('answers from the old keys past jwksMaxAgeMs while it re-fetches them in the background', async () => {
      const store = createStore({ jwksMaxAgeMs: 100, jwksCooldownMs: 0 });
      const oldToken = await emulator.mintJwt();
      await keyFor(store, oldToken);
      await emulator.rotateKeys({ keepOld: false });
      await sleep(150);

      // Its key is no longer published, but the old set still answers, without waiting for the re-fetch.
      await expect(keyFor(store, oldToken)).resolves.toBeDefined();
      await sleep(50);
      expect(emulator.calls('jwks')).toBe(2);
      // The re-fetched set is in place: a token of the new key needs no further call.
      await expect(keyFor(store, await emulator.mintJwt())).resolves.toBeDefined();
      expect(emulator.calls('jwks')).toBe(2);
    });
  });

  describe('a static `jwks` option', () => {
    it('serves those keys and never calls the network, even for an unknown kid', async () => {
      const store = createStore({ jwks: emulator.jwks(), jwksMaxAgeMs: 0, jwksMaxStaleMs: 0, jwksCooldownMs: 0 });
      await expect(keyFor(store, await emulator.mintJwt())).resolves.toBeDefined();
      await expect(keyFor(store, await unknownKidToken())).rejects.toBeInstanceOf(errors.JWKSNoMatchingKey);
      await sleep(20);
      await expect(keyFor(store, await emulator.mintJwt())).resolves.toBeDefined();
      expect(emulator.calls('jwks')).toBe(0);
      expect(store.version).toBe(0);
    });
  });

  describe('version', () => {
    it('bumps when keys are first fetched and when they change, not when a re-fetch finds the same keys', async () => {
      const store = createStore({ jwksCooldownMs: 0 });
      expect(store.version).toBe(0);
      await keyFor(store, await emulator.mintJwt());
      expect(store.version).toBe(1);

      // An unknown kid re-fetches: the same keys come back.
      await keyFor(store, await unknownKidToken()).catch(() => undefined);
      expect(emulator.calls('jwks')).toBe(2);
      expect(store.version).toBe(1);

      await emulator.rotateKeys();
      await keyFor(store, await emulator.mintJwt());
      expect(emulator.calls('jwks')).toBe(3);
      expect(store.version).toBe(2);
    });
  });
});
