import { describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  InMemoryRefreshStore,
  RedisRefreshStore,
  type CrossmintRefreshResult,
  type RedisRefreshStoreClient,
} from '../../lib/index.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import {
  openRefreshOutcome,
  sealRefreshOutcome,
  type RefreshOutcome,
} from '../../lib/refresh-store/refresh-outcome-cipher.js';
import { deriveRefreshSecretHashKey, hashRefreshSecret } from '../../lib/refresh-store/refresh-secret-hash.js';
import { encodeBase58 } from '../../lib/utils/base58.js';

const result: CrossmintRefreshResult = {
  jwt: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl',
  refreshToken: { secret: 'new-refresh-secret', expiresAt: '2030-01-01T00:00:00.000Z' },
  user: { id: 'user-1', email: 'someone@example.com' },
};

const apiKey = `sk_production_${encodeBase58(new TextEncoder().encode('proj-1.x:sig'))}`;
const hashKey = deriveRefreshSecretHashKey(apiKey);

describe('refresh secret hash', () => {
  it('is an HMAC under a key derived from the API key: the same on every instance, not a bare SHA-256', () => {
    const secret = 'a-refresh-secret';
    expect(hashRefreshSecret(secret, deriveRefreshSecretHashKey(apiKey))).toBe(hashRefreshSecret(secret, hashKey));
    const otherKey = deriveRefreshSecretHashKey(`${apiKey}x`);
    expect(hashRefreshSecret(secret, otherKey)).not.toBe(hashRefreshSecret(secret, hashKey));
    for (const encoding of ['hex', 'base64', 'base64url'] as const) {
      expect(hashRefreshSecret(secret, hashKey)).not.toBe(createHash('sha256').update(secret).digest(encoding));
    }
    // The derived key is not the API key in any encoding.
    expect(hashKey.length).toBe(32);
    for (const encoding of ['utf8', 'hex', 'base64', 'base64url'] as const)
      expect(apiKey.includes(hashKey.toString(encoding))).toBe(false);
    expect(hashKey.toString('latin1').includes(apiKey)).toBe(false);
  });
});

describe('refresh outcome cipher', () => {
  const secret = 'old-refresh-secret';
  const keyHash = hashRefreshSecret(secret, hashKey);

  it('round-trips results and failures, and the sealed text holds none of the material', () => {
    const sealed = sealRefreshOutcome(secret, keyHash, { ok: true, result });
    expect(openRefreshOutcome(secret, keyHash, sealed)).toEqual({ ok: true, result });
    expect(
      openRefreshOutcome(secret, keyHash, sealRefreshOutcome(secret, keyHash, { ok: false, error: 'unauthorized' })),
    ).toEqual({ ok: false, error: 'unauthorized' });
    for (const outage of [
      { ok: false, error: 'unavailable' },
      { ok: false, error: 'unavailable', retryAfterSec: 42 },
    ] as const) {
      expect(openRefreshOutcome(secret, keyHash, sealRefreshOutcome(secret, keyHash, outage))).toEqual(outage);
    }
    for (const plaintext of [result.jwt, result.refreshToken.secret, secret, 'user-1', 'someone@example.com']) {
      expect(sealed.includes(plaintext)).toBe(false);
      expect(Buffer.from(sealed.slice(3), 'base64url').toString('latin1').includes(plaintext)).toBe(false);
    }
    // A fresh IV each time: the same outcome never seals to the same text.
    expect(sealRefreshOutcome(secret, keyHash, { ok: true, result })).not.toBe(sealed);
  });

  it('refuses another secret, another key, a flipped byte and unsealed values', () => {
    const sealed = sealRefreshOutcome(secret, keyHash, { ok: true, result });
    const bytes = Buffer.from(sealed.slice(3), 'base64url');
    bytes[bytes.length - 1] ^= 1;
    expect(() => openRefreshOutcome('another-secret', keyHash, sealed)).toThrow();
    expect(() => openRefreshOutcome(secret, hashRefreshSecret('another-secret', hashKey), sealed)).toThrow();
    expect(() => openRefreshOutcome(secret, keyHash, 'v1:' + bytes.toString('base64url'))).toThrow();
    expect(() => openRefreshOutcome(secret, keyHash, JSON.stringify({ ok: true, result }))).toThrow();
    expect(() => openRefreshOutcome(secret, keyHash, 'v1:')).toThrow();
    // A Retry-After outside what parseRetryAfter answers (1..300 s) is not passed on.
    for (const retryAfterSec of [0, 301, 1.5, '42']) {
      const outage = { ok: false, error: 'unavailable', retryAfterSec } as unknown as RefreshOutcome;
      expect(() => openRefreshOutcome(secret, keyHash, sealRefreshOutcome(secret, keyHash, outage))).toThrow();
    }
  });
});

describe('InMemoryRefreshStore', () => {
  /** A refresh function that counts its calls. */
  const counted = (answer: () => Promise<CrossmintRefreshResult>) => {
    const refresh = Object.assign(
      () => {
        refresh.calls++;
        return answer();
      },
      { calls: 0 },
    );
    return refresh;
  };
  const refused = () => Promise.reject(new CrossmintAuthenticationError('Session expired or revoked'));

  it('hands the result to late callers with the consumed secret; outages are not kept', async () => {
    const store = new InMemoryRefreshStore();
    const refresh = counted(async () => result);
    expect(await store.run('s', refresh)).toBe(result);
    expect(await store.run('s', refresh)).toBe(result);
    expect(refresh.calls).toBe(1);

    for (const error of [new Error('upstream'), new CrossmintServiceUnavailableError()]) {
      const failing = counted(() => Promise.reject(error));
      await expect(store.run('f', failing)).rejects.toBe(error);
      await expect(store.run('f', failing)).rejects.toBe(error);
      expect(failing.calls).toBe(2);
    }
  });

  it('remembers a refusal for resultTtlMs: the same secret again is refused without calling refresh', async () => {
    const store = new InMemoryRefreshStore({ resultTtlMs: 200 });
    const refresh = counted(refused);
    for (let i = 0; i < 5; i++)
      await expect(store.run('bogus', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(refresh.calls).toBe(1);
    await sleep(250);
    await expect(store.run('bogus', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(refresh.calls).toBe(2);
  });

  it('revoke drops the grace result of a secret, refuses it, and returns the refresh secret that result held', async () => {
    const store = new InMemoryRefreshStore();
    const refresh = counted(async () => result);
    await store.run('s0', refresh);
    expect(await store.revoke('s0')).toBe(result.refreshToken.secret);
    await expect(store.run('s0', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(await store.revoke('s0')).toBeUndefined();
    expect(await store.revoke('never-seen')).toBeUndefined();
    await expect(store.run('never-seen', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(refresh.calls).toBe(1);
  });

  it('refuses a grace result whose new refresh secret was revoked since', async () => {
    const store = new InMemoryRefreshStore();
    const refresh = counted(async () => result);
    await store.run('s0', refresh);
    expect(await store.revoke(result.refreshToken.secret)).toBeUndefined();
    await expect(store.run('s0', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(refresh.calls).toBe(1);
  });

  it('keeps a revocation that lands while the refresh is in flight', async () => {
    const store = new InMemoryRefreshStore();
    let settle!: (value: CrossmintRefreshResult) => void;
    const refresh = counted(() => new Promise((resolve) => (settle = resolve)));
    const inFlight = store.run('s0', refresh);
    await store.revoke('s0');
    settle(result);
    expect(await inFlight).toBe(result);
    await expect(store.run('s0', refresh)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
  });

  it('keeps nothing with resultTtlMs 0', async () => {
    const store = new InMemoryRefreshStore({ resultTtlMs: 0 });
    const refresh = counted(async () => result);
    await store.run('s', refresh);
    await store.run('s', refresh);
    expect(refresh.calls).toBe(2);
    const refusing = counted(refused);
    await expect(store.run('r', refusing)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    await expect(store.run('r', refusing)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    expect(refusing.calls).toBe(2);
    expect(await store.revoke('s')).toBeUndefined();
  });
});

describe('refresh store options', () => {
  const client: RedisRefreshStoreClient = { get: async () => null, set: async () => 'OK' };

  it('refuses a refreshStore without run(), naming the option', () => {
    expect(() => resolveCrossmintAuthOptions({ apiKey, refreshStore: {} as never })).toThrow(/`refreshStore`/);
    expect(
      resolveCrossmintAuthOptions({ apiKey, refreshStore: new RedisRefreshStore(client) }).refreshStore,
    ).toBeInstanceOf(RedisRefreshStore);
  });

  it('refuses a missing client and bad RedisRefreshStore options, naming them', () => {
    expect(() => new RedisRefreshStore(undefined as never)).toThrow(/Redis client/);
    expect(() => new RedisRefreshStore({} as never)).toThrow(/Redis client/);
    expect(() => new RedisRefreshStore(client, { lockTtlMs: 0 })).toThrow(/`lockTtlMs`/);
    expect(() => new RedisRefreshStore(client, { pollIntervalMs: Number.NaN })).toThrow(/`pollIntervalMs`/);
    expect(() => new RedisRefreshStore(client, { keyPrefix: 1 as never })).toThrow(/`keyPrefix`/);
    expect(() => new RedisRefreshStore(client, { localCacheSize: -1 })).toThrow(/`localCacheSize`/);
  });

  it('RedisRefreshStore takes its hash key from the module, once: another key is refused, and no key fails run', async () => {
    const store = new RedisRefreshStore(client);
    await expect(store.run('s', async () => result)).rejects.toThrow(/CrossmintAuthModule/);
    store.setSecretHashKey(hashKey);
    store.setSecretHashKey(deriveRefreshSecretHashKey(apiKey));
    expect(() => store.setSecretHashKey(deriveRefreshSecretHashKey(`${apiKey}x`))).toThrow(/different API keys/);
  });
});
