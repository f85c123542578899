import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { request } from './support/http.js';
import { JWT_COOKIE, REFRESH_COOKIE, createWatchedApp, nowSec, type WatchedApp } from './support/security.js';

/**
 * Forged and malformed JWTs (SECURITY.md: token forgery, algorithm confusion, audience confusion).
 * Each one goes through every door — the guard by cookie and by Bearer, `getSession`, the interceptor — and
 * must be treated as no valid JWT: 401 on its own, a refresh when a refresh token came along, never a 500.
 */
describe('security: forged and malformed JWTs', () => {
  let emulator: CrossmintAuthEmulator;
  /** Another "Crossmint" the attacker controls: its keys are real keys, just not ours. */
  let attacker: CrossmintAuthEmulator;
  let app: WatchedApp;

  beforeAll(async () => {
    [emulator, attacker] = await Promise.all([CrossmintAuthEmulator.start(), CrossmintAuthEmulator.start()]);
    app = await createWatchedApp({ moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } });
    // Warm the key cache so that each case starts from a serving app.
    const warm = await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: (await emulator.createSession()).jwt } });
    expect(warm.status).toBe(200);
  });
  afterAll(async () => {
    await app.close();
    await Promise.all([emulator.stop(), attacker.stop()]);
  });
  beforeEach(() => emulator.reset());
  afterEach(() => expect(app.logs.errors()).toEqual([]));

  const claims = (extra: Record<string, unknown> = {}) => ({ sub: 'user-forged', aud: emulator.projectId, iat: nowSec(), exp: nowSec() + 300, ...extra });
  const realKid = () => emulator.jwks().keys[0].kid as string;
  const segments = (token: string) => token.split('.');
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  const forged: Array<[string, () => Promise<string>]> = [
    ['alg none and the real kid', () => emulator.signJwt(claims(), { alg: 'none' })],
    ['alg NONE (upper case)', () => emulator.signJwt(claims(), { alg: 'NONE' })],
    ['HS256 signed with the public key as the HMAC secret', () => emulator.signJwt(claims(), { alg: 'HS256' })],
    ['HS512 signed with the public key as the HMAC secret', () => emulator.signJwt(claims(), { alg: 'HS512' })],
    ['a foreign key reusing a real kid', () => emulator.signJwt(claims(), { key: 'foreign', kid: realKid() })],
    ['a foreign key and an unknown kid', () => emulator.signJwt(claims(), { key: 'foreign', kid: 'kid-nobody-published' })],
    ['a foreign key and no kid', () => emulator.signJwt(claims(), { key: 'foreign', header: { kid: undefined } })],
    ['an RS256 header on an ES256 signature by the real key', () => emulator.signJwt(claims(), { alg: 'RS256' })],
    ['the attacker key embedded as a jwk header', () => attacker.signJwt(claims(), { header: { jwk: attacker.jwks().keys[0] } })],
    ['a jku header pointing at the attacker key set', () => attacker.signJwt(claims(), { header: { jku: `${attacker.baseUrl}/.well-known/jwks.json` } })],
    ['a crit header naming an unknown extension', () => emulator.signJwt(claims(), { header: { crit: ['exp-policy'], 'exp-policy': 'never' } })],
    // The genuine token is accepted first, so the forged one, ending in the same signature, meets its cache entry.
    ['a valid signature over another payload (tampered sub), the genuine token accepted just before', async () => {
      const genuine = await emulator.mintJwt({ sub: 'user-victim' });
      expect((await request(`${app.url}/protected`, { headers: { authorization: `Bearer ${genuine}` } })).status).toBe(200);
      const [header, , signature] = segments(genuine);
      return `${header}.${b64(claims({ sub: 'user-admin' }))}.${signature}`;
    }],
    // Node's base64url decoding skips characters outside the alphabet: each of these still carries a valid signature.
    ['a stray character inside the valid signature', async () => {
      const [header, payload, signature] = segments(await emulator.mintJwt());
      return `${header}.${payload}.${signature.slice(0, 10)}!${signature.slice(10)}`;
    }],
    ['base64 padding after the valid signature', async () => `${await emulator.mintJwt()}==`],
    ['the signature stripped', async () => `${segments(await emulator.mintJwt()).slice(0, 2).join('.')}.`],
    ['an extra trailing dot', async () => `${await emulator.mintJwt()}.`],
    ['four segments', async () => `${await emulator.mintJwt()}.AAAA`],
    ['five segments (JWE-shaped)', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
    ['a header that is not JSON', async () => `${Buffer.from('{not json').toString('base64url')}.${b64(claims())}.sig`],
    ['a header that is not base64url', async () => `@@@.${b64(claims())}.sig`],
    ['another project as aud', () => emulator.mintJwt({ audience: 'another-project' })],
    ['an aud array without the project', () => emulator.signJwt(claims({ aud: ['another-project', 'third-project'] }))],
    ['no aud', () => emulator.signJwt(claims({ aud: undefined }))],
    ['exp 7 s ago, just past the 5 s clock tolerance', () => emulator.mintJwt({ iat: nowSec() - 67, ttlSec: 60 })],
    ['exp long past', () => emulator.mintJwt({ iat: nowSec() - 7200, ttlSec: 60 })],
    ['a future nbf', () => emulator.mintJwt({ extraClaims: { nbf: nowSec() + 3600 } })],
    ['nbf 8 s ahead, just past the 5 s clock tolerance', () => emulator.mintJwt({ extraClaims: { nbf: nowSec() + 8 } })],
    ['a string nbf', () => emulator.signJwt(claims({ nbf: String(nowSec() - 10) }))],
    ['no sub', () => emulator.signJwt(claims({ sub: undefined }))],
    ['an empty sub', () => emulator.signJwt(claims({ sub: '' }))],
    ['a numeric sub', () => emulator.signJwt(claims({ sub: 12345 }))],
    ['no exp', () => emulator.signJwt(claims({ exp: undefined }))],
    ['a string exp', () => emulator.signJwt(claims({ exp: String(nowSec() + 300) }))],
    ['a payload that is a JSON array', async () => `${segments(await emulator.mintJwt())[0]}.${b64([1, 2])}.sig`],
    ['9 KB of padding in a claim (oversized)', () => emulator.signJwt(claims({ pad: 'x'.repeat(9 * 1024) }))],
  ];

  it.each(forged)('refuses a JWT with %s through every door', async (_, makeToken) => {
    const token = await makeToken();

    const guard = await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
    expect(guard.status).toBe(401);
    expect(guard.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
    expect(Object.values(guard.cookies).every((cookie) => cookie.value === '')).toBe(true);

    const bearer = await request(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.setCookies).toEqual([]);

    const service = await request(`${app.url}/session`, { cookies: { [JWT_COOKIE]: token } });
    expect(service.status).toBe(401);

    const optional = await request(`${app.url}/optional`, { cookies: { [JWT_COOKIE]: token } });
    expect(optional.status).toBe(200);
    expect(optional.body).toEqual({ userId: null });
    expect(emulator.calls('refresh')).toBe(0);

    const session = await emulator.createSession();
    const rescued = await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: token, [REFRESH_COOKIE]: session.refreshToken.secret } });
    expect(rescued.status).toBe(200);
    expect(rescued.body.userId).toBe(session.userId);
    expect(rescued.cookies[JWT_COOKIE].value).not.toBe(token);
    expect(emulator.calls('refresh')).toBe(1);
  });

  it('never fetches a key set named by a jku header, nor trusts an embedded jwk', async () => {
    attacker.resetCalls();
    const token = await attacker.signJwt(claims(), {
      kid: realKid(),
      header: { jku: `${attacker.baseUrl}/.well-known/jwks.json`, jwk: attacker.jwks().keys[0] },
    });
    const res = await request(`${app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(attacker.calls('jwks')).toBe(0);
  });

  it.each<[string, () => Promise<string>]>([
    ['exp 2 s ago, inside the 5 s clock tolerance', () => emulator.mintJwt({ iat: nowSec() - 62, ttlSec: 60 })],
    ['nbf 2 s ahead, inside the 5 s clock tolerance', () => emulator.mintJwt({ extraClaims: { nbf: nowSec() + 2 } })],
    ['an aud array that includes the project', () => emulator.mintJwt({ audience: emulator.projectId, extraClaims: { aud: ['other', emulator.projectId] } })],
  ])('accepts a JWT with %s', async (_, makeToken) => {
    const token = await makeToken();
    const res = await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
    expect(res.status).toBe(200);
    expect(res.setCookies).toEqual([]);
    expect(emulator.calls('refresh')).toBe(0);
  });
});
