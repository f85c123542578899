import { describe, expect, it } from '@jest/globals';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { cookieHeader, isCleared, request } from './support/http.js';
import { rawRequest } from './support/raw-http.js';

/**
 * Hostile request input (SECURITY.md: oversized input, cookie tricks, Bearer/cookie confusion): huge and
 * duplicated cookies, encoded and forbidden characters, raw bytes fetch would refuse to send, and a Bearer
 * header that disagrees with the cookies. Never a 500; nothing hostile is forwarded to Crossmint.
 */
describe('security: hostile request input', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } },
      noBearerApp: { moduleOptions: { ...emulator.moduleOptions(), acceptBearerToken: false } },
    }),
    logs: 'no-errors',
  });

  describe('size', () => {
    it('serves a valid JWT inside a 10 KB cookie header of unrelated cookies', async () => {
      const session = await suite.emulator.createSession();
      const junk = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`junk${i}`, 'x'.repeat(95)]));
      const header = cookieHeader({ ...junk, [JWT_COOKIE]: session.jwt });
      expect(header.length).toBeGreaterThan(10 * 1024);
      const res = await request(`${suite.app.url}/protected`, { headers: { cookie: header } });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
    });

    it('treats a 10 KB JWT cookie as no JWT, without verifying or forwarding it', async () => {
      const session = await suite.emulator.createSession();
      const huge = `${session.jwt}${'A'.repeat(10 * 1024)}`;
      const alone = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: huge } });
      expect(alone.status).toBe(401);
      const rescued = await request(`${suite.app.url}/protected`, {
        cookies: { [JWT_COOKIE]: huge, [REFRESH_COOKIE]: session.refreshToken.secret },
      });
      expect(rescued.status).toBe(200);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('never forwards a refresh cookie over 4 KB to Crossmint', async () => {
      const res = await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: 'r'.repeat(5 * 1024) } });
      expect(res.status).toBe(401);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('answers a 1 MB cookie header with 431 (Node refuses it before Nest) and keeps serving', async () => {
      const res = await request(`${suite.app.url}/protected`, {
        headers: { cookie: `${JWT_COOKIE}=${'x'.repeat(1024 * 1024)}` },
      });
      expect(res.status).toBe(431);
      const session = await suite.emulator.createSession();
      const after = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } });
      expect(after.status).toBe(200);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });
  });

  describe('cookie syntax', () => {
    it('reads the first of duplicate cookie names (the most specific one a browser sends)', async () => {
      const [first, second] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
      const res = await request(`${suite.app.url}/protected`, {
        headers: { cookie: `${JWT_COOKIE}=${first.jwt}; ${JWT_COOKIE}=${second.jwt}` },
      });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(first.userId);
    });

    it('does not fall back to a later duplicate when the first one is garbage', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { cookie: `${JWT_COOKIE}=garbage; ${JWT_COOKIE}=${session.jwt}` },
      });
      expect(res.status).toBe(401);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
    });

    it('prefers the project-scoped cookie names over the plain ones', async () => {
      const [scoped, plain] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [JWT_COOKIE]: plain.jwt, [`${JWT_COOKIE}-${suite.emulator.projectId}`]: scoped.jwt },
      });
      expect(res.body.userId).toBe(scoped.userId);
    });

    it('trims spaces and tabs around a cookie value', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { cookie: `${JWT_COOKIE}= \t${session.jwt}\t ; other=1` },
      });
      expect(res.status).toBe(200);
    });

    it('decodes a URL-encoded JWT cookie', async () => {
      const session = await suite.emulator.createSession();
      const encoded = session.jwt.replaceAll('.', '%2E').replaceAll('-', '%2D');
      const res = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: encoded } });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
    });

    it.each([
      ['an encoded ;', '%3B'],
      ['an encoded ,', '%2C'],
      ['an encoded CR LF', '%0D%0A'],
      ['an encoded space', '%20'],
      ['a literal ,', ','],
      ['an encoded CR LF and a header', '%0D%0ASet-Cookie:%20injected=1'],
    ])('refuses a refresh cookie carrying %s without calling Crossmint', async (_, fragment) => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: `${session.refreshToken.secret}${fragment}x` },
      });
      expect(res.status).toBe(401);
      expect(suite.emulator.calls('refresh')).toBe(0);
      expect(res.cookies.injected).toBeUndefined();
      expect(res.setCookies.join('\n')).not.toContain('injected');
    });

    it('refuses a JWT cookie carrying an encoded CR LF', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [JWT_COOKIE]: `${session.jwt}%0D%0AX-Injected:%201` },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-injected')).toBeNull();
    });

    it('keeps a malformed percent-encoding as it is, and Crossmint refuses it: 401, cookies cleared', async () => {
      const res = await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: 'abc%E0%A4%A' } });
      expect(res.status).toBe(401);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    });

    it.each([
      ['a raw CR', '\rX-Injected: 1'],
      ['a raw LF', '\nX-Injected: 1'],
      ['a NUL byte', '\0'],
    ])('lets Node answer 400 to a cookie header with %s', async (_, fragment) => {
      const session = await suite.emulator.createSession();
      const res = await rawRequest(suite.app.url, {
        path: '/protected',
        headers: [['Cookie', `${JWT_COOKIE}=${session.jwt}${fragment}`]],
      });
      expect(res.status).toBe(400);
      expect(res.headers['x-injected']).toBeUndefined();
    });

    it('handles raw non-ASCII bytes in a cookie without a 500', async () => {
      const jwtOnly = await rawRequest(suite.app.url, {
        path: '/protected',
        headers: [['Cookie', `${JWT_COOKIE}=\xff\xfe\x80`]],
      });
      expect(jwtOnly.status).toBe(401);
      const refresh = await rawRequest(suite.app.url, {
        path: '/protected',
        headers: [['Cookie', `${REFRESH_COOKIE}=\xff\xfe\x80`]],
      });
      expect(refresh.status).toBe(401);
    });

    it('treats a quoted JWT cookie as not a JWT', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { cookie: `${JWT_COOKIE}="${session.jwt}"` },
      });
      expect(res.status).toBe(401);
    });
  });

  describe('Bearer and cookies disagreeing: a Bearer header is the only credential looked at', () => {
    it('uses a valid Bearer over cookies of another user, and leaves the cookies alone', async () => {
      const [bearer, cookie] = await Promise.all([
        suite.emulator.createSession(),
        suite.emulator.createSession({ expired: true }),
      ]);
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization: `Bearer ${bearer.jwt}` },
        cookies: sessionCookies(cookie),
      });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(bearer.userId);
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('answers 401 to an invalid Bearer even with valid cookies, touching neither cookie nor Crossmint', async () => {
      const session = await suite.emulator.createSession();
      const forged = await suite.emulator.signJwt(
        { sub: session.userId, aud: suite.emulator.projectId, exp: 9_999_999_999 },
        { alg: 'none' },
      );
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization: `Bearer ${forged}` },
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(401);
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('does not refresh an expired Bearer with the refresh cookie', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization: `Bearer ${session.jwt}` },
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(401);
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it.each([
      ['an empty Bearer', 'Bearer'],
      ['a Bearer of spaces', 'Bearer    '],
      ['a Bearer with two tokens', 'Bearer abc def'],
      ['a Bearer with a ;', 'Bearer abc;def'],
      ['a Bearer with a tab inside', 'Bearer abc\tdef'],
    ])('answers 401 to %s even with valid cookies (no fallback to the cookies)', async (_, authorization) => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization },
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(401);
      expect(res.setCookies).toEqual([]);
    });

    it('accepts the scheme in any case and surrounding spaces', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization: `  bEaReR   ${session.jwt}  ` },
      });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
    });

    it('ignores another Authorization scheme and reads the cookies', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, {
        headers: { authorization: 'Basic dXNlcjpwYXNz' },
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
    });

    it('leaves the interceptor anonymous with an invalid Bearer, cookies untouched', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/optional`, {
        headers: { authorization: 'Bearer not.a.jwt' },
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null });
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('with acceptBearerToken: false, ignores the Bearer header and reads the cookies', async () => {
      const [bearer, cookie] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
      const alone = await request(`${suite.noBearerApp.url}/protected`, {
        headers: { authorization: `Bearer ${bearer.jwt}` },
      });
      expect(alone.status).toBe(401);
      const both = await request(`${suite.noBearerApp.url}/protected`, {
        headers: { authorization: 'Bearer garbage' },
        cookies: { [JWT_COOKIE]: cookie.jwt },
      });
      expect(both.status).toBe(200);
      expect(both.body.userId).toBe(cookie.userId);
    });
  });

  describe('user ids from the URL', () => {
    it.each([
      ['a path traversal', '..%2F..%2F.well-known%2Fjwks.json', 400],
      ['a control character', 'a%0Ab', 400],
      ['an encoded slash', 'a%2Fb', 404],
      ['a query', 'a%3Fx%3D1', 404],
      ['a fragment', 'a%23b', 404],
    ])('never splices %s raw into the Crossmint URL', async (_, id, status) => {
      const res = await request(`${suite.app.url}/users/${id}`);
      expect(res.status).toBe(status);
      // Refused ids never leave the app; the others reach the user route encoded, as one unknown id.
      expect(suite.emulator.calls('user')).toBe(status === 400 ? 0 : 1);
      expect(suite.emulator.calls('jwks')).toBe(0);
    });
  });
});
