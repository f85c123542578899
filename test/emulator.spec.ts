import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { CROSSMINT_API_PATHS } from '../lib/crossmint-auth.constants.js';
import { decodeBase58 } from '../lib/utils/base58.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';

describe('CrossmintAuthEmulator', () => {
  let emulator: CrossmintAuthEmulator;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  const url = (path: string) => `${emulator.baseUrl}${path}`;
  const verify = (jwt: string, jwks = emulator.jwks()) =>
    jwtVerify(jwt, createLocalJWKSet(jwks), { audience: emulator.projectId });

  function post(path: string, body: unknown, headers: Record<string, string> = {}) {
    return fetch(url(path), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': emulator.apiKey, ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  }
  const refresh = (secret: string) => post(CROSSMINT_API_PATHS.refresh, { refresh: secret });
  const getUser = (encodedId: string, headers: Record<string, string> = { 'x-api-key': emulator.apiKey }) =>
    fetch(url(CROSSMINT_API_PATHS.user(encodedId)), { headers });

  it('has an sk_development_ api key whose payload names the project', () => {
    expect(emulator.apiKey.startsWith('sk_development_')).toBe(true);
    const payload = decodeBase58(emulator.apiKey.slice('sk_development_'.length));
    expect(payload).toBeDefined();
    const text = new TextDecoder().decode(payload);
    expect(text.startsWith(`${emulator.projectId}.emulator:`)).toBe(true);
    expect(text.split(':')[1]).toMatch(/^[0-9a-f]+$/);
    expect(emulator.projectId).toMatch(/^emulator-project-[0-9a-f]+$/);
    expect(emulator.moduleOptions()).toEqual({ apiKey: emulator.apiKey, baseUrl: emulator.baseUrl });
    expect(emulator.baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  it('serves the JWKS without an api key, and minted JWTs verify against it', async () => {
    const res = await fetch(url(CROSSMINT_API_PATHS.jwks));
    expect(res.status).toBe(200);
    const body = (await res.json()) as ReturnType<CrossmintAuthEmulator['jwks']>;
    expect(body).toEqual(emulator.jwks());
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'EC', crv: 'P-256', alg: 'ES256', use: 'sig' });
    expect(body.keys[0].d).toBeUndefined();

    const session = await emulator.createSession({ email: 'ada@example.com' });
    const { payload, protectedHeader } = await verify(session.jwt, body);
    expect(protectedHeader).toEqual({ alg: 'ES256', kid: body.keys[0].kid, typ: 'JWT' });
    expect(payload).toMatchObject({ sub: session.userId, aud: emulator.projectId, iss: emulator.baseUrl });
    expect(payload.exp! - payload.iat!).toBe(60);
    expect(session.user).toMatchObject({ id: session.userId, email: 'ada@example.com' });
    expect(emulator.getUserRecord(session.userId)?.email).toBe('ada@example.com');
    expect(emulator.calls('jwks')).toBe(1);
  });

  it('mints JWTs with overrides', async () => {
    const jwt = await emulator.mintJwt({ sub: 'u1', ttlSec: 300, extraClaims: { scope: 'x' } });
    const { payload } = await verify(jwt);
    expect(payload).toMatchObject({ sub: 'u1', scope: 'x' });
    expect(payload.exp! - payload.iat!).toBe(300);

    const other = await emulator.mintJwt({ sub: 'u1', audience: 'someone-else' });
    await expect(verify(other)).rejects.toThrow();
    const noExp = await emulator.mintJwt({ extraClaims: { exp: undefined } });
    expect((await verify(noExp)).payload.exp).toBeUndefined();
  });

  it('reuses a user found by email and creates users with default ids', async () => {
    const user = emulator.createUser({ email: 'grace@example.com', twitter: { id: '1', username: 'g' } });
    expect(user.id).toMatch(/^user-[0-9a-f]+$/);
    const session = await emulator.createSession({ email: 'grace@example.com' });
    expect(session.userId).toBe(user.id);
    expect(session.user.twitter).toEqual({ id: '1', username: 'g' });
    const byId = await emulator.createSession({ userId: 'fixed-id' });
    expect(byId.userId).toBe('fixed-id');
    expect(emulator.getUserRecord('fixed-id')).toEqual({ id: 'fixed-id' });
  });

  it('rotates refresh tokens: each secret works exactly once', async () => {
    const session = await emulator.createSession({ user: { email: 'r@example.com', phoneNumber: '+1' } });
    const first = await refresh(session.refreshToken.secret);
    expect(first.status).toBe(200);
    const body = (await first.json()) as {
      jwt: string;
      refresh: { secret: string; expiresAt: string };
      user: Record<string, unknown>;
    };
    expect(body.user).toEqual({ id: session.userId, email: 'r@example.com', phoneNumber: '+1' });
    expect(body.refresh.secret).not.toBe(session.refreshToken.secret);
    expect(Date.parse(body.refresh.expiresAt)).toBeGreaterThan(Date.now() + 6 * 24 * 3600 * 1000);
    expect(body.jwt).not.toBe(session.jwt);
    expect((await verify(body.jwt)).payload.sub).toBe(session.userId);

    const reused = await refresh(session.refreshToken.secret);
    expect(reused.status).toBe(401);
    expect(await reused.json()).toEqual({ message: 'Invalid refresh token' });

    expect((await refresh(body.refresh.secret)).status).toBe(200);
    expect((await refresh('never-issued')).status).toBe(401);
    expect(emulator.calls('refresh')).toBe(4);
  });

  it('mints an already expired JWT with a valid refresh token', async () => {
    const session = await emulator.createSession({ expired: true });
    await expect(verify(session.jwt)).rejects.toMatchObject({ code: 'ERR_JWT_EXPIRED' });
    expect((await refresh(session.refreshToken.secret)).status).toBe(200);
  });

  it('refuses expired and revoked refresh tokens', async () => {
    const expired = await emulator.createSession({ refreshTtlSec: -1 });
    expect((await refresh(expired.refreshToken.secret)).status).toBe(401);
    const revoked = await emulator.createSession();
    emulator.revokeRefreshToken(revoked.refreshToken.secret);
    expect((await refresh(revoked.refreshToken.secret)).status).toBe(401);
  });

  it('requires the api key on refresh, logout and user', async () => {
    const session = await emulator.createSession();
    const missing = await fetch(url(CROSSMINT_API_PATHS.refresh), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ refresh: session.refreshToken.secret }),
    });
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as { message: string }).message).toEqual(expect.any(String));
    const wrong = await post(
      CROSSMINT_API_PATHS.refresh,
      { refresh: session.refreshToken.secret },
      { 'x-api-key': 'sk_development_nope' },
    );
    expect(wrong.status).toBe(401);
    expect((await post(CROSSMINT_API_PATHS.logout, { refresh: 'x' }, { 'x-api-key': 'nope' })).status).toBe(401);
    expect((await getUser(encodeURIComponent(session.userId), {})).status).toBe(401);
    expect(emulator.lastRequestHeaders('user')?.['x-api-key']).toBeUndefined();

    // the secret was not consumed by the refused calls
    expect((await refresh(session.refreshToken.secret)).status).toBe(200);
    expect(emulator.lastRequestHeaders('refresh')?.['x-api-key']).toBe(emulator.apiKey);
  });

  it('logout revokes the secret and answers 200 for unknown ones', async () => {
    const session = await emulator.createSession();
    const res = await post(CROSSMINT_API_PATHS.logout, { refresh: session.refreshToken.secret });
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({});
    expect((await refresh(session.refreshToken.secret)).status).toBe(401);
    expect((await post(CROSSMINT_API_PATHS.logout, { refresh: 'unknown' })).status).toBe(200);
    expect(emulator.calls('logout')).toBe(2);
  });

  it('answers malformed and oversized bodies with 4xx', async () => {
    expect((await post(CROSSMINT_API_PATHS.refresh, '{not json')).status).toBe(400);
    expect((await post(CROSSMINT_API_PATHS.refresh, {})).status).toBe(400);
    expect((await post(CROSSMINT_API_PATHS.refresh, { refresh: 42 })).status).toBe(400);
    expect((await post(CROSSMINT_API_PATHS.refresh, 'null')).status).toBe(400);
    expect((await post(CROSSMINT_API_PATHS.logout, '')).status).toBe(400);
    const big = await post(CROSSMINT_API_PATHS.refresh, { refresh: 'x'.repeat(100 * 1024) });
    expect(big.status).toBe(413);
    expect((await fetch(url('/nope'))).status).toBe(404);
    expect((await fetch(url(CROSSMINT_API_PATHS.refresh))).status).toBe(405);
    // still serving
    expect((await fetch(url(CROSSMINT_API_PATHS.jwks))).status).toBe(200);
  });

  it('serves users, decoding an encoded id exactly once', async () => {
    const plain = emulator.createUser({ email: 'p@example.com', farcaster: { fid: 7 } });
    const res = await getUser(encodeURIComponent(plain.id));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: plain.id, email: 'p@example.com', farcaster: { fid: 7 } });

    const odd = emulator.createUser({ id: 'a/b?c#d%e ..' });
    const oddRes = await getUser(encodeURIComponent(odd.id));
    expect(oddRes.status).toBe(200);
    expect(((await oddRes.json()) as { id: string }).id).toBe('a/b?c#d%e ..');

    emulator.createUser({ id: 'a%2Fb' });
    expect(((await (await getUser('a%252Fb')).json()) as { id: string }).id).toBe('a%2Fb');

    emulator.createUser({ id: 'x' });
    expect((await getUser('x/y')).status).toBe(404); // a raw slash is not part of an id
    const unknown = await getUser('nobody');
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toEqual({ message: 'User not found' });
    expect((await getUser('%E0%A4%A')).status).toBe(400);
    expect(emulator.calls('user')).toBe(6);
  });

  describe('faults', () => {
    it('answers with an injected status the given number of times, still counting calls', async () => {
      emulator.fault('refresh', { status: 503, times: 2 });
      const session = await emulator.createSession();
      const a = await refresh(session.refreshToken.secret);
      expect(a.status).toBe(503);
      expect(a.headers.get('content-type')).toBe('application/json');
      expect(await a.json()).toEqual({ message: 'injected fault' });
      expect((await refresh(session.refreshToken.secret)).status).toBe(503);
      expect((await refresh(session.refreshToken.secret)).status).toBe(200); // not consumed by the faults
      expect(emulator.calls('refresh')).toBe(3);
    });

    it('serves malformed bodies until cleared', async () => {
      emulator.fault('jwks', { body: '<html>oops', contentType: 'text/html' });
      for (let i = 0; i < 3; i++) {
        const res = await fetch(url(CROSSMINT_API_PATHS.jwks));
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html');
        expect(await res.text()).toBe('<html>oops');
      }
      emulator.clearFaults();
      expect(((await (await fetch(url(CROSSMINT_API_PATHS.jwks))).json()) as { keys: unknown[] }).keys).toHaveLength(1);
      expect(emulator.calls('jwks')).toBe(4);
    });

    it('reset() clears the faults and the call counts, and keeps sessions and keys', async () => {
      const session = await emulator.createSession();
      emulator.fault('refresh', { status: 503 });
      expect((await refresh(session.refreshToken.secret)).status).toBe(503);
      expect(emulator.calls('refresh')).toBe(1);
      emulator.reset();
      expect(emulator.calls('refresh')).toBe(0);
      expect(emulator.lastRequestHeaders('refresh')).toBeUndefined();
      expect((await refresh(session.refreshToken.secret)).status).toBe(200);
      expect(emulator.calls('refresh')).toBe(1);
    });

    it('delays, then handles normally when only delayMs is set', async () => {
      emulator.fault('user', { delayMs: 150, times: 1 });
      const user = emulator.createUser();
      const started = Date.now();
      const res = await getUser(user.id);
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(res.status).toBe(200);
      const again = Date.now();
      await getUser(user.id);
      expect(Date.now() - again).toBeLessThan(140);
    });

    it('delays and then answers with the injected status', async () => {
      emulator.fault('logout', { delayMs: 100, status: 500, body: 'boom', contentType: 'text/plain' });
      const started = Date.now();
      const res = await post(CROSSMINT_API_PATHS.logout, { refresh: 'x' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      expect(res.status).toBe(500);
      expect(await res.text()).toBe('boom');
    });

    it('lets a client time out on a long delay', async () => {
      emulator.fault('jwks', { delayMs: 10_000 });
      await expect(fetch(url(CROSSMINT_API_PATHS.jwks), { signal: AbortSignal.timeout(100) })).rejects.toThrow();
      expect(emulator.calls('jwks')).toBe(1);
    });
  });

  it('counts calls per route and resets them', async () => {
    await fetch(url(CROSSMINT_API_PATHS.jwks));
    await fetch(url(CROSSMINT_API_PATHS.jwks));
    await getUser('nobody');
    expect(emulator.calls('jwks')).toBe(2);
    expect(emulator.calls('user')).toBe(1);
    expect(emulator.calls('refresh')).toBe(0);
    emulator.resetCalls();
    expect(emulator.calls('jwks')).toBe(0);
    expect(emulator.lastRequestHeaders('jwks')).toBeUndefined();
  });

  it('signs adversarial tokens that do not verify', async () => {
    const claims = { sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 };
    expect((await verify(await emulator.signJwt(claims))).payload).toEqual(claims);

    const forged = await emulator.signJwt(claims, { key: 'foreign' });
    expect(decodeProtectedHeader(forged).kid).toBe(emulator.jwks().keys[0].kid);
    await expect(verify(forged)).rejects.toThrow();

    const unsigned = await emulator.signJwt(claims, { alg: 'none' });
    expect(unsigned.endsWith('.')).toBe(true);
    await expect(verify(unsigned)).rejects.toThrow();
    await expect(verify(await emulator.signJwt(claims, { alg: 'HS256' }))).rejects.toThrow();
    await expect(verify(await emulator.signJwt(claims, { kid: 'unknown' }))).rejects.toThrow();
    const header = decodeProtectedHeader(await emulator.signJwt(claims, { header: { kid: undefined, x: 1 } }));
    expect(header).toEqual({ alg: 'ES256', typ: 'JWT', x: 1 });
  });

  it('rotates keys, keeping old public keys published unless told otherwise', async () => {
    const other = await CrossmintAuthEmulator.start({ projectId: 'rot' });
    try {
      const before = await other.mintJwt();
      const [oldKey] = other.jwks().keys;
      await other.rotateKeys();
      const keys = other.jwks().keys;
      expect(keys.map((k) => k.kid)).toEqual([oldKey.kid, expect.any(String)]);
      const after = await other.mintJwt();
      expect(decodeProtectedHeader(after).kid).toBe(keys[1].kid);
      const set = createLocalJWKSet(other.jwks());
      await jwtVerify(before, set, { audience: 'rot' });
      await jwtVerify(after, set, { audience: 'rot' });

      await other.rotateKeys({ keepOld: false, algorithm: 'RS256' });
      const served = (await (await fetch(`${other.baseUrl}${CROSSMINT_API_PATHS.jwks}`)).json()) as ReturnType<
        CrossmintAuthEmulator['jwks']
      >;
      expect(served.keys).toHaveLength(1);
      expect(served.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256' });
      await expect(jwtVerify(after, createLocalJWKSet(served), { audience: 'rot' })).rejects.toThrow();
      const rs = await other.mintJwt();
      expect((await jwtVerify(rs, createLocalJWKSet(served), { audience: 'rot' })).protectedHeader.alg).toBe('RS256');
    } finally {
      await other.stop();
    }
  });

  it('supports RS256 and other environments', async () => {
    const other = await CrossmintAuthEmulator.start({ algorithm: 'RS256', environment: 'staging', jwtTtlSec: 5 });
    try {
      expect(other.apiKey.startsWith('sk_staging_')).toBe(true);
      const [key] = other.jwks().keys;
      expect(key).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', e: 'AQAB' });
      expect(key.d).toBeUndefined();
      const session = await other.createSession();
      const { payload, protectedHeader } = await jwtVerify(session.jwt, createLocalJWKSet(other.jwks()), {
        audience: other.projectId,
        algorithms: ['RS256'],
      });
      expect(protectedHeader.alg).toBe('RS256');
      expect(payload.exp! - payload.iat!).toBe(5);
    } finally {
      await other.stop();
    }
  });

  it('stops promptly with a delayed request pending, and twice', async () => {
    const other = await CrossmintAuthEmulator.start();
    other.fault('jwks', { delayMs: 60_000 });
    const pending = fetch(`${other.baseUrl}${CROSSMINT_API_PATHS.jwks}`).then(
      () => 'answered',
      () => 'failed',
    );
    while (other.calls('jwks') === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const started = Date.now();
    await other.stop();
    await other.stop();
    expect(await pending).toBe('failed');
    expect(Date.now() - started).toBeLessThan(1000);
  });
});
