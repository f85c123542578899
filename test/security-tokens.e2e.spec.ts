import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request } from './support/http.js';

/**
 * Forged and malformed JWTs (SECURITY.md: token forgery, algorithm confusion, audience confusion).
 * Each one goes through every door — the guard by cookie and by Bearer, `getSession`, the interceptor — and
 * must be treated as no valid JWT: 401 on its own, a refresh when a refresh token came along, never a 500.
 */
describe('security: forged and malformed JWTs', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({ app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } } }),
    logs: 'no-errors',
  });
  /** Another "Crossmint" the attacker controls: its keys are real keys, just not ours. */
  let attacker: CrossmintAuthEmulator;

  beforeAll(async () => {
    attacker = await CrossmintAuthEmulator.start();
    // Warm the key cache so that each case starts from a serving app.
    const warm = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: (await suite.emulator.createSession()).jwt },
    });
    expect(warm.status).toBe(200);
  });
  afterAll(() => attacker.stop());

  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'user-forged',
    aud: suite.emulator.projectId,
    iat: nowSec(),
    exp: nowSec() + 300,
    ...extra,
  });
  const realKid = () => suite.emulator.jwks().keys[0].kid as string;
  const segments = (token: string) => token.split('.');
  const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  const forged: Array<[string, () => Promise<string>]> = [
    ['alg none and the real kid', () => suite.emulator.signJwt(claims(), { alg: 'none' })],
    ['alg NONE (upper case)', () => suite.emulator.signJwt(claims(), { alg: 'NONE' })],
    ['HS256 signed with the public key as the HMAC secret', () => suite.emulator.signJwt(claims(), { alg: 'HS256' })],
    ['HS512 signed with the public key as the HMAC secret', () => suite.emulator.signJwt(claims(), { alg: 'HS512' })],
    ['a foreign key reusing a real kid', () => suite.emulator.signJwt(claims(), { key: 'foreign', kid: realKid() })],
    [
      'a foreign key and an unknown kid',
      () => suite.emulator.signJwt(claims(), { key: 'foreign', kid: 'kid-nobody-published' }),
    ],
    [
      'a foreign key and no kid',
      () => suite.emulator.signJwt(claims(), { key: 'foreign', header: { kid: undefined } }),
    ],
    ['an RS256 header on an ES256 signature by the real key', () => suite.emulator.signJwt(claims(), { alg: 'RS256' })],
    [
      'the attacker key embedded as a jwk header',
      () => attacker.signJwt(claims(), { header: { jwk: attacker.jwks().keys[0] } }),
    ],
    [
      'a jku header pointing at the attacker key set',
      () => attacker.signJwt(claims(), { header: { jku: `${attacker.baseUrl}/.well-known/jwks.json` } }),
    ],
    [
      'a crit header naming an unknown extension',
      () => suite.emulator.signJwt(claims(), { header: { crit: ['exp-policy'], 'exp-policy': 'never' } }),
    ],
    // The genuine token is accepted first, so the forged one, ending in the same signature, meets its cache entry.
    [
      'a valid signature over another payload (tampered sub), the genuine token accepted just before',
      async () => {
        const genuine = await suite.emulator.mintJwt({ sub: 'user-victim' });
        expect(
          (await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${genuine}` } })).status,
        ).toBe(200);
        const [header, , signature] = segments(genuine);
        return `${header}.${b64(claims({ sub: 'user-admin' }))}.${signature}`;
      },
    ],
    // Node's base64url decoding skips characters outside the alphabet: each of these still carries a valid signature.
    [
      'a stray character inside the valid signature',
      async () => {
        const [header, payload, signature] = segments(await suite.emulator.mintJwt());
        return `${header}.${payload}.${signature.slice(0, 10)}!${signature.slice(10)}`;
      },
    ],
    ['base64 padding after the valid signature', async () => `${await suite.emulator.mintJwt()}==`],
    [
      'the signature stripped',
      async () =>
        `${segments(await suite.emulator.mintJwt())
          .slice(0, 2)
          .join('.')}.`,
    ],
    ['an extra trailing dot', async () => `${await suite.emulator.mintJwt()}.`],
    ['four segments', async () => `${await suite.emulator.mintJwt()}.AAAA`],
    ['five segments (JWE-shaped)', async () => 'eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d'],
    ['a header that is not JSON', async () => `${Buffer.from('{not json').toString('base64url')}.${b64(claims())}.sig`],
    ['a header that is not base64url', async () => `@@@.${b64(claims())}.sig`],
    ['another project as aud', () => suite.emulator.mintJwt({ audience: 'another-project' })],
    [
      'an aud array without the project',
      () => suite.emulator.signJwt(claims({ aud: ['another-project', 'third-project'] })),
    ],
    ['no aud', () => suite.emulator.signJwt(claims({ aud: undefined }))],
    [
      'exp 7 s ago, just past the 5 s clock tolerance',
      () => suite.emulator.mintJwt({ iat: nowSec() - 67, ttlSec: 60 }),
    ],
    ['exp long past', () => suite.emulator.mintJwt({ iat: nowSec() - 7200, ttlSec: 60 })],
    ['a future nbf', () => suite.emulator.mintJwt({ extraClaims: { nbf: nowSec() + 3600 } })],
    [
      'nbf 8 s ahead, just past the 5 s clock tolerance',
      () => suite.emulator.mintJwt({ extraClaims: { nbf: nowSec() + 8 } }),
    ],
    ['a string nbf', () => suite.emulator.signJwt(claims({ nbf: String(nowSec() - 10) }))],
    ['no sub', () => suite.emulator.signJwt(claims({ sub: undefined }))],
    ['an empty sub', () => suite.emulator.signJwt(claims({ sub: '' }))],
    ['a numeric sub', () => suite.emulator.signJwt(claims({ sub: 12345 }))],
    ['no exp', () => suite.emulator.signJwt(claims({ exp: undefined }))],
    ['a string exp', () => suite.emulator.signJwt(claims({ exp: String(nowSec() + 300) }))],
    ['a payload that is a JSON array', async () => `${segments(await suite.emulator.mintJwt())[0]}.${b64([1, 2])}.sig`],
    ['9 KB of padding in a claim (oversized)', () => suite.emulator.signJwt(claims({ pad: 'x'.repeat(9 * 1024) }))],
  ];

  it.each(forged)('refuses a JWT with %s through every door', async (_, makeToken) => {
    const token = await makeToken();

    const guard = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
    expect(guard.status).toBe(401);
    expect(guard.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
    expect(Object.values(guard.cookies).every((cookie) => cookie.value === '')).toBe(true);

    const bearer = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(bearer.status).toBe(401);
    expect(bearer.setCookies).toEqual([]);

    const service = await request(`${suite.app.url}/session`, { cookies: { [JWT_COOKIE]: token } });
    expect(service.status).toBe(401);

    const optional = await request(`${suite.app.url}/optional`, { cookies: { [JWT_COOKIE]: token } });
    expect(optional.status).toBe(200);
    expect(optional.body).toEqual({ userId: null });
    expect(suite.emulator.calls('refresh')).toBe(0);

    const session = await suite.emulator.createSession();
    const rescued = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: token, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(rescued.status).toBe(200);
    expect(rescued.body.userId).toBe(session.userId);
    expect(rescued.cookies[JWT_COOKIE].value).not.toBe(token);
    expect(suite.emulator.calls('refresh')).toBe(1);
  });

  it('never fetches a key set named by a jku header, nor trusts an embedded jwk', async () => {
    attacker.resetCalls();
    const token = await attacker.signJwt(claims(), {
      kid: realKid(),
      header: { jku: `${attacker.baseUrl}/.well-known/jwks.json`, jwk: attacker.jwks().keys[0] },
    });
    const res = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(attacker.calls('jwks')).toBe(0);
  });

  it.each<[string, () => Promise<string>]>([
    ['exp 2 s ago, inside the 5 s clock tolerance', () => suite.emulator.mintJwt({ iat: nowSec() - 62, ttlSec: 60 })],
    [
      'nbf 2 s ahead, inside the 5 s clock tolerance',
      () => suite.emulator.mintJwt({ extraClaims: { nbf: nowSec() + 2 } }),
    ],
    [
      'an aud array that includes the project',
      () =>
        suite.emulator.mintJwt({
          audience: suite.emulator.projectId,
          extraClaims: { aud: ['other', suite.emulator.projectId] },
        }),
    ],
  ])('accepts a JWT with %s', async (_, makeToken) => {
    const token = await makeToken();
    const res = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
    expect(res.status).toBe(200);
    expect(res.setCookies).toEqual([]);
    expect(suite.emulator.calls('refresh')).toBe(0);
  });
});
