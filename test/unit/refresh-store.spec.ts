import { describe, expect, it } from '@jest/globals';
import { InMemoryRefreshStore, RedisRefreshStore, type CrossmintRefreshResult, type RedisRefreshStoreClient } from '../../lib/index.js';
import { resolveCrossmintAuthOptions } from '../../lib/crossmint-auth.options.js';
import { openRefreshOutcome, sealRefreshOutcome, type RefreshOutcome } from '../../lib/refresh-store/refresh-outcome-cipher.js';
import { hashRefreshSecret } from '../../lib/refresh-store/refresh-secret-hash.js';
import { encodeBase58 } from '../../lib/utils/base58.js';

const result: CrossmintRefreshResult = {
  jwt: 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ1c2VyLTEifQ.c2lnbmF0dXJl',
  refreshToken: { secret: 'new-refresh-secret', expiresAt: '2030-01-01T00:00:00.000Z' },
  user: { id: 'user-1', email: 'someone@example.com' },
};

describe('refresh outcome cipher', () => {
  const secret = 'old-refresh-secret';
  const keyHash = hashRefreshSecret(secret);

  it('round-trips results and failures, and the sealed text holds none of the material', () => {
    const sealed = sealRefreshOutcome(secret, keyHash, { ok: true, result });
    expect(openRefreshOutcome(secret, keyHash, sealed)).toEqual({ ok: true, result });
    expect(openRefreshOutcome(secret, keyHash, sealRefreshOutcome(secret, keyHash, { ok: false, error: 'unauthorized' }))).toEqual({ ok: false, error: 'unauthorized' });
    for (const outage of [{ ok: false, error: 'unavailable' }, { ok: false, error: 'unavailable', retryAfterSec: 42 }] as const) {
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
    expect(() => openRefreshOutcome(secret, hashRefreshSecret('another-secret'), sealed)).toThrow();
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
  it('hands the result to late callers with the consumed secret; failures are not kept', async () => {
    const store = new InMemoryRefreshStore();
    let calls = 0;
    const refresh = async () => {
      calls++;
      return result;
    };
    expect(await store.run('s', refresh)).toBe(result);
    expect(await store.run('s', refresh)).toBe(result);
    expect(calls).toBe(1);

    const failing = async (): Promise<CrossmintRefreshResult> => {
      calls++;
      throw new Error('upstream');
    };
    await expect(store.run('f', failing)).rejects.toThrow('upstream');
    await expect(store.run('f', failing)).rejects.toThrow('upstream');
    expect(calls).toBe(3);
  });

  it('keeps nothing with resultTtlMs 0', async () => {
    const store = new InMemoryRefreshStore({ resultTtlMs: 0 });
    let calls = 0;
    const refresh = async () => {
      calls++;
      return result;
    };
    await store.run('s', refresh);
    await store.run('s', refresh);
    expect(calls).toBe(2);
  });
});

describe('refresh store options', () => {
  const client: RedisRefreshStoreClient = { get: async () => null, set: async () => 'OK' };
  const apiKey = `sk_production_${encodeBase58(new TextEncoder().encode('proj-1.x:sig'))}`;

  it('refuses a refreshStore without run(), naming the option', () => {
    expect(() => resolveCrossmintAuthOptions({ apiKey, refreshStore: {} as never })).toThrow(/`refreshStore`/);
    expect(resolveCrossmintAuthOptions({ apiKey, refreshStore: new RedisRefreshStore(client) }).refreshStore).toBeInstanceOf(RedisRefreshStore);
  });

  it('refuses a missing client and bad RedisRefreshStore options, naming them', () => {
    expect(() => new RedisRefreshStore(undefined as never)).toThrow(/Redis client/);
    expect(() => new RedisRefreshStore({} as never)).toThrow(/Redis client/);
    expect(() => new RedisRefreshStore(client, { lockTtlMs: 0 })).toThrow(/`lockTtlMs`/);
    expect(() => new RedisRefreshStore(client, { pollIntervalMs: Number.NaN })).toThrow(/`pollIntervalMs`/);
    expect(() => new RedisRefreshStore(client, { keyPrefix: 1 as never })).toThrow(/`keyPrefix`/);
    expect(() => new RedisRefreshStore(client, { localCacheSize: -1 })).toThrow(/`localCacheSize`/);
  });
});
