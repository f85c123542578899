import { describe, expect, it } from '@jest/globals';
import { get } from 'node:http';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { cookieHeader, isCleared, parseSetCookies, request } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

describe.each(PLATFORM_VARIANTS)('CrossmintAuthGuard (the behaviour table) on $name', ({ platform, cookiePlugin }) => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 }, platform, cookiePlugin },
    }),
  });

  it('passes a valid cookie JWT and sets request.user, with no call to Crossmint once keys are cached', async () => {
    const session = await suite.emulator.createSession();
    const first = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } });
    expect(first.status).toBe(200);
    expect(first.body).toEqual({ userId: session.userId, sameUser: true, sub: session.userId, hasJwt: true });
    expect(first.setCookies).toEqual([]);

    suite.emulator.resetCalls();
    const other = await suite.emulator.createSession();
    const second = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: other.jwt, [REFRESH_COOKIE]: other.refreshToken.secret },
    });
    expect(second.status).toBe(200);
    expect(second.body.userId).toBe(other.userId);
    expect(suite.emulator.calls('jwks') + suite.emulator.calls('refresh')).toBe(0);
  });

  it('passes a valid Bearer token', async () => {
    const session = await suite.emulator.createSession();
    const res = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${session.jwt}` } });
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(session.userId);
  });

  it('refreshes an expired JWT once and rotates both cookies', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.body.userId).toBe(session.userId);
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(res.cookies[JWT_COOKIE].value).not.toBe(session.jwt);
    expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
    expect(res.cookies[JWT_COOKIE].attributes.path).toBe('/');
    expect(res.cookies[JWT_COOKIE].attributes.samesite).toBe('Lax');
    expect(res.cookies[JWT_COOKIE].attributes.httponly).toBeUndefined();
    expect(res.headers.get('cache-control')).toBe('private, no-store');
    expect(res.setCookies).toHaveLength(2);
  });

  it('refreshes when the JWT cookie is missing but a refresh token is present', async () => {
    const session = await suite.emulator.createSession();
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(res.cookies[JWT_COOKIE].value).toMatch(/^ey/);
  });

  it('shares one upstream refresh among concurrent requests with the same expired session', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { delayMs: 100 });
    const results = await Promise.all(
      Array.from({ length: 20 }, () =>
        request(`${suite.app.url}/protected`, {
          cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(new Set(results.map((r) => r.cookies[JWT_COOKIE].value)).size).toBe(1);
    expect(new Set(results.map((r) => r.cookies[REFRESH_COOKIE].value)).size).toBe(1);
  });

  it('answers 401 and clears both cookies when Crossmint rejects the refresh token', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(401);
    expect(res.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
    expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
    expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    expect(res.text).not.toContain(session.refreshToken.secret);
  });

  it('answers 401 without calling Crossmint when there are no credentials', async () => {
    const res = await request(`${suite.app.url}/protected`);
    expect(res.status).toBe(401);
    expect(suite.emulator.calls('refresh') + suite.emulator.calls('jwks')).toBe(0);
    expect(res.setCookies).toEqual([]);
  });

  it.each([
    [
      'a foreign key reusing a real kid',
      async () =>
        suite.emulator.signJwt(
          { sub: 'u', aud: suite.emulator.projectId, exp: nowSec() + 60 },
          { key: 'foreign', kid: suite.emulator.jwks().keys[0].kid },
        ),
    ],
    [
      'alg none',
      async () =>
        suite.emulator.signJwt({ sub: 'u', aud: suite.emulator.projectId, exp: nowSec() + 60 }, { alg: 'none' }),
    ],
    ['the wrong aud', async () => suite.emulator.mintJwt({ audience: 'another-project' })],
    ['a future nbf', async () => suite.emulator.mintJwt({ extraClaims: { nbf: nowSec() + 3600 } })],
    ['no exp', async () => suite.emulator.signJwt({ sub: 'u', aud: suite.emulator.projectId })],
    ['no sub', async () => suite.emulator.signJwt({ aud: suite.emulator.projectId, exp: nowSec() + 60 })],
    [
      'a string exp',
      async () => suite.emulator.signJwt({ sub: 'u', aud: suite.emulator.projectId, exp: String(nowSec() + 60) }),
    ],
    [
      'an unknown kid',
      async () =>
        suite.emulator.signJwt(
          { sub: 'u', aud: suite.emulator.projectId, exp: nowSec() + 60 },
          { key: 'foreign', kid: 'unknown-kid' },
        ),
    ],
    ['garbage', async () => 'not.a.jwt'],
    ['an oversized value', async () => 'e'.repeat(9000)],
  ])('treats a JWT with %s as no valid JWT: 401 without refresh token, refresh with one', async (_, makeToken) => {
    const token = await makeToken();
    const alone = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
    expect(alone.status).toBe(401);

    const session = await suite.emulator.createSession();
    const rescued = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: token, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(rescued.status).toBe(200);
    expect(rescued.body.userId).toBe(session.userId);
    expect(rescued.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
  });

  it.each([
    ['5xx', { status: 502 }],
    ['429', { status: 429 }],
    ['malformed JSON', { status: 200, body: '<html>oops</html>', contentType: 'text/html' }],
    ['a timeout', { delayMs: 1500 }],
  ])('answers 503 with Retry-After and keeps cookies when refresh fails with %s', async (_, fault) => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', fault);
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.setCookies).toEqual([]);
    expect(res.body).toEqual({ statusCode: 503, message: expect.any(String), error: 'Service Unavailable' });
  });

  it.each([
    ['a delay in seconds', '42', /^42$/],
    ['an hour, capped at 300 s', '3600', /^300$/],
    ['an HTTP date 60 s ahead', () => new Date(Date.now() + 60_500).toUTCString(), /^(59|60|61)$/],
    ['something unreadable (the default 5 s)', 'soon', /^5$/],
  ])("passes Crossmint's Retry-After through on a 429 with %s", async (_, retryAfter, expected) => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', {
      status: 429,
      headers: { 'retry-after': typeof retryAfter === 'function' ? retryAfter() : retryAfter },
    });
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(expected);
  });

  it('answers 503 and writes no cookie when the refreshed JWT does not verify', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const bad = await suite.emulator.mintJwt({ sub: session.userId, audience: 'another-project' });
    suite.emulator.answerNextRefresh({ jwt: bad, userId: session.userId });
    const res = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(503);
    expect(res.setCookies).toEqual([]);
  });

  it('keeps Set-Cookie headers written by the handler and writes one per auth cookie', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/protected/with-cookie`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.cookies.theme.value).toBe('dark');
    expect(res.cookies.other.value).toBe('1');
    expect(res.setCookies.filter((c) => c.startsWith(`${JWT_COOKIE}=`))).toHaveLength(1);
    expect(res.setCookies.filter((c) => c.startsWith(`${REFRESH_COOKIE}=`))).toHaveLength(1);
    expect(res.setCookies).toHaveLength(4);
  });

  it('keeps Set-Cookie headers the handler wrote before the session was refreshed', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/session/with-cookie`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ userId: session.userId, refreshed: true });
    expect(res.cookies.theme.value).toBe('dark');
    expect(res.cookies.other.value).toBe('1');
    expect(res.setCookies.filter((c) => c.startsWith(`${JWT_COOKIE}=`))).toHaveLength(1);
    expect(res.setCookies.filter((c) => c.startsWith(`${REFRESH_COOKIE}=`))).toHaveLength(1);
    expect(res.setCookies).toHaveLength(4);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  });

  it('replaces auth cookies the handler set through the platform before the module wrote them', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/session/after-clear`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.setCookies.filter((c) => c.startsWith(`${JWT_COOKIE}=`))).toHaveLength(1);
    expect(res.setCookies.filter((c) => c.startsWith(`${REFRESH_COOKIE}=`))).toHaveLength(1);
    expect(res.cookies[JWT_COOKIE].value).toMatch(/^ey/);
    expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
  });

  it("marks the cookies Secure unless the request is plain http to localhost (secure: 'auto')", async () => {
    const local = await suite.emulator.createSession({ expired: true });
    const loopback = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: local.jwt, [REFRESH_COOKIE]: local.refreshToken.secret },
    });
    expect(loopback.cookies[JWT_COOKIE].attributes.secure).toBeUndefined();
    expect(loopback.cookies[REFRESH_COOKIE].attributes.secure).toBeUndefined();

    const remote = await suite.emulator.createSession({ expired: true });
    const setCookies = await setCookiesFor(`${suite.app.url}/protected`, {
      host: 'app.example.com',
      cookie: cookieHeader({ [JWT_COOKIE]: remote.jwt, [REFRESH_COOKIE]: remote.refreshToken.secret }),
    });
    const cookies = parseSetCookies(setCookies);
    expect(cookies[JWT_COOKIE].attributes.secure).toBe(true);
    expect(cookies[REFRESH_COOKIE].attributes.secure).toBe(true);
  });

  it('runs on the platform it says', () => {
    expect(suite.app.app.getHttpAdapter().getType()).toBe(platform);
  });
});

describe('CrossmintAuthGuard with @fastify/cookie parseOptions', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: {
        moduleOptions: emulator.moduleOptions(),
        platform: 'fastify',
        cookiePlugin: true,
        fastifyCookieOptions: {
          secret: 'a-cookie-signing-secret',
          parseOptions: {
            signed: true,
            httpOnly: true,
            secure: true,
            domain: 'example.com',
            path: '/app',
            sameSite: 'strict',
            partitioned: true,
            priority: 'high',
          },
        },
      },
    }),
  });

  it("writes the auth cookies with the module's attributes, not the plugin's defaults", async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/protected/with-cookie`, {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    // The handler's cookie does get the plugin's defaults...
    expect(res.cookies.theme.attributes).toMatchObject({
      domain: 'example.com',
      httponly: true,
      secure: true,
      samesite: 'Strict',
    });
    // ...the auth cookies do not: unsigned, host-only, Path=/, SameSite=Lax, no Secure on plain http to localhost.
    expect(res.cookies[JWT_COOKIE].value.split('.')).toHaveLength(3);
    expect(res.cookies[REFRESH_COOKIE].value).not.toContain('.');
    expect(res.cookies[JWT_COOKIE].attributes).toEqual({ path: '/', 'max-age': expect.any(String), samesite: 'Lax' });
    expect(res.cookies[REFRESH_COOKIE].attributes).toEqual({ path: '/', expires: expect.any(String), samesite: 'Lax' });
    const verified = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: res.cookies[JWT_COOKIE].value },
    });
    expect(verified.status).toBe(200);
  });
});

/** A GET with a Host header of our choosing (fetch always sends the URL's). */
function setCookiesFor(url: string, headers: Record<string, string>): Promise<string[]> {
  return new Promise((resolve, reject) => {
    get(url, { headers }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.headers['set-cookie'] ?? []));
    }).on('error', reject);
  });
}
