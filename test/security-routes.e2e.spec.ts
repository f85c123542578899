import type { EmulatorSession } from '../lib/testing/index.js';
import { describe, expect, it } from '@jest/globals';
import { CROSSMINT_API_PATHS } from '../lib/crossmint-auth.constants.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request, type TestResponse } from './support/http.js';
import { rawRequest } from './support/raw-http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

const REFRESH_ROUTE = '/api/auth/refresh';
const LOGOUT_ROUTE = '/api/auth/logout';
const ALLOWED = 'https://app.example.com';
const json = { 'content-type': 'application/json' };

/**
 * The browser SDK's refresh and logout routes (SECURITY.md: CSRF on the refresh/logout routes). The CSRF
 * check is the browser's own Origin, then Sec-Fetch-Site, then Referer; a body secret counts only in a JSON
 * body. The JSON contract is the one the browser SDK expects: 200 `{jwt, refreshToken, user}` plus
 * Set-Cookie, or a non-2xx JSON with a `message`.
 */
describe.each(PLATFORM_VARIANTS)('security: refresh and logout routes on $name', ({ platform, cookiePlugin }) => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: {
        moduleOptions: {
          ...emulator.moduleOptions(),
          timeoutMs: 300,
          routes: { refresh: REFRESH_ROUTE, logout: LOGOUT_ROUTE, allowedOrigins: [ALLOWED] },
        },
        platform,
        cookiePlugin,
      },
    }),
    logs: 'no-errors',
  });

  const post = (
    path: string,
    init: { headers?: Record<string, string>; body?: string; cookies?: Record<string, string> } = {},
  ) => request(`${suite.app.url}${path}`, { method: 'POST', ...init });
  /** What the browser SDK sends from the app's own pages. */
  const own = () => ({ ...json, origin: suite.app.url });
  function expectJsonError(res: TestResponse, status: number): void {
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.body).toEqual({ statusCode: status, message: expect.any(String), error: expect.any(String) });
  }
  /** Both routes answer 403 JSON to these headers, write no cookie and call nothing upstream. */
  async function expectRefusedOnBothRoutes(headers: Record<string, string>): Promise<void> {
    const session = await suite.emulator.createSession();
    for (const path of [REFRESH_ROUTE, LOGOUT_ROUTE]) {
      const res = await post(path, { headers, body: '{}', cookies: sessionCookies(session) });
      expectJsonError(res, 403);
      expect(res.setCookies).toEqual([]);
    }
    expect(suite.emulator.calls('refresh') + suite.emulator.calls('logout')).toBe(0);
  }

  describe('CSRF: the Origin decides, then Sec-Fetch-Site, then the Referer', () => {
    it.each([
      ['a sibling subdomain', 'https://evil.app.example.com'],
      ['a look-alike suffix', 'https://app.example.com.evil.example'],
      ['an allowed host on another port', 'https://app.example.com:8443'],
      ['the app host on another port', () => `http://${new URL(suite.app.url).hostname}:1`],
      ['an Origin that is not a URL', 'garbage'],
      ['an empty Origin', ' '],
    ])('refuses %s with 403 JSON, on both routes, before touching the session', async (_, origin) => {
      await expectRefusedOnBothRoutes({ ...json, origin: typeof origin === 'function' ? origin() : origin });
    });

    it('lets a foreign Origin win over a same-origin Sec-Fetch-Site', async () => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, {
        headers: { ...json, origin: 'https://evil.example', 'sec-fetch-site': 'same-origin' },
        body: '{}',
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(403);
    });

    it('refuses a cross-site form POST (text/plain body, no Origin spoofing possible) by its Sec-Fetch-Site', async () => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, {
        headers: { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site' },
        body: JSON.stringify({ refresh: session.refreshToken.secret }),
      });
      expect(res.status).toBe(403);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('accepts a same-origin request that names the app host with a default port', async () => {
      const session = await suite.emulator.createSession();
      const res = await rawRequest(suite.app.url, {
        method: 'POST',
        path: REFRESH_ROUTE,
        headers: [
          ['Host', 'app.example.com'],
          ['Origin', 'https://app.example.com:443'],
          ['Content-Type', 'application/json'],
          ['Cookie', `${REFRESH_COOKIE}=${session.refreshToken.secret}`],
        ],
        body: '{}',
      });
      expect(res.status).toBe(200);
    });

    it('accepts Sec-Fetch-Site none (the user typed the request, no page sent it)', async () => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, {
        headers: { ...json, 'sec-fetch-site': 'none' },
        body: '{}',
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(200);
    });

    it.each([
      ['no Referer either (a cross-site page can suppress it)', () => undefined],
      ['a foreign Referer', () => 'https://evil.example/page'],
      ['a sibling subdomain Referer', () => 'https://evil.app.example.com/'],
      ['a Referer on the app host with another port', () => `http://${new URL(suite.app.url).hostname}:1/page`],
      ['a Referer that is not a URL', () => 'garbage'],
      ['Referer about:blank', () => 'about:blank'],
    ])(
      'refuses a request with neither Origin nor Sec-Fetch-Site and %s with 403 JSON, on both routes',
      async (_, referer) => {
        const value = referer();
        await expectRefusedOnBothRoutes({ ...json, ...(value === undefined ? {} : { referer: value }) });
      },
    );

    it("refuses a cross-site urlencoded form from an older browser (no Origin, no Sec-Fetch-Site): the attacker's session is never planted", async () => {
      const attacker = await suite.emulator.createSession();
      for (const referer of [{ referer: 'https://evil.example/' }, {}] as Array<Record<string, string>>) {
        const res = await post(REFRESH_ROUTE, {
          headers: { 'content-type': 'application/x-www-form-urlencoded', ...referer },
          body: `refresh=${encodeURIComponent(attacker.refreshToken.secret)}`,
        });
        expect(res.status).toBe(403);
        expect(res.setCookies).toEqual([]);
      }
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('serves the routes on POST only: a GET (an <img>, a link) never refreshes or logs out', async () => {
      const session = await suite.emulator.createSession();
      for (const path of [REFRESH_ROUTE, LOGOUT_ROUTE]) {
        const res = await request(`${suite.app.url}${path}`, { cookies: sessionCookies(session) });
        expect(res.status).toBe(404);
        expect(res.setCookies).toEqual([]);
      }
      expect(suite.emulator.calls('refresh') + suite.emulator.calls('logout')).toBe(0);
    });
  });

  describe('CSRF: a secret in the body counts only in a JSON body', () => {
    it.each([
      [
        'a urlencoded form',
        'application/x-www-form-urlencoded',
        (secret: string) => `refresh=${encodeURIComponent(secret)}`,
      ],
      ['a text/plain body holding JSON', 'text/plain', (secret: string) => JSON.stringify({ refresh: secret })],
    ])("ignores the secret of %s, even from the app's own origin: the cookie decides", async (_, contentType, body) => {
      const [victim, attacker] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
      const res = await post(REFRESH_ROUTE, {
        headers: { 'content-type': contentType, origin: suite.app.url },
        body: body(attacker.refreshToken.secret),
        cookies: sessionCookies(victim),
      });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(victim.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);
      // The attacker's secret was not spent either.
      const attackers = await post(REFRESH_ROUTE, {
        headers: own(),
        body: JSON.stringify({ refresh: attacker.refreshToken.secret }),
      });
      expect(attackers.body.user.id).toBe(attacker.userId);
    });

    it.each(['application/json; charset=utf-8', 'Application/JSON'])(
      'reads the secret of a %s body',
      async (contentType) => {
        const [stale, fresh] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
        const res = await post(REFRESH_ROUTE, {
          headers: { 'content-type': contentType, origin: suite.app.url },
          body: JSON.stringify({ refresh: fresh.refreshToken.secret }),
          cookies: sessionCookies(stale),
        });
        expect(res.status).toBe(200);
        expect(res.body.user.id).toBe(fresh.userId);
      },
    );
  });

  describe('JSON contract under hostile bodies', () => {
    it('answers the SDK shape, with the JWT the cookie carries and no refresh secret', async () => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, {
        headers: { ...json, origin: ALLOWED },
        body: JSON.stringify({ refresh: session.refreshToken.secret }),
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(Object.keys(res.body).sort()).toEqual(['jwt', 'refreshToken', 'user']);
      expect(res.body.jwt).toBe(res.cookies[JWT_COOKIE].value);
      expect(res.body.refreshToken).toEqual({ expiresAt: expect.any(String) });
      expect(res.text).not.toContain(res.cookies[REFRESH_COOKIE].value);
      expect(res.text).not.toContain(session.refreshToken.secret);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
    });

    it.each([
      ['a non-string refresh', JSON.stringify({ refresh: 42 })],
      ['an empty refresh', JSON.stringify({ refresh: '' })],
      ['an oversized refresh', JSON.stringify({ refresh: 'r'.repeat(5000) })],
      ['a JSON array', JSON.stringify([{ refresh: 'x' }])],
    ])('falls back to the cookie on a body with %s', async (_, body) => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, { headers: own(), body, cookies: sessionCookies(session) });
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(session.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it.each([
      ['a non-string refresh', JSON.stringify({ refresh: { $ne: null } })],
      ['an oversized refresh', JSON.stringify({ refresh: 'r'.repeat(5000) })],
    ])('answers 401 JSON without calling Crossmint on a body with %s and no cookie', async (_, body) => {
      const res = await post(REFRESH_ROUTE, { headers: own(), body });
      expectJsonError(res, 401);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it.each([
      ['truncated JSON', (secret: string) => `{"refresh":"${secret}"`],
      ['JSON null (the parser is strict)', () => 'null'],
      ['a top-level JSON string', (secret: string) => JSON.stringify(secret)],
    ])('answers 4xx JSON (never 500) to %s, without calling Crossmint or touching the cookies', async (_, body) => {
      const session = await suite.emulator.createSession();
      const res = await post(REFRESH_ROUTE, {
        headers: own(),
        body: body(session.refreshToken.secret),
        cookies: { [JWT_COOKIE]: session.jwt },
      });
      if (platform === 'express') {
        expectJsonError(res, 400);
      } else {
        // Fastify's own parser answers malformed JSON (400, its error shape) and accepts `null` and strings,
        // which carry no secret: with no refresh cookie that is a 401 from the route.
        expect([400, 401]).toContain(res.status);
        expect(res.body).toEqual(expect.objectContaining({ statusCode: res.status, message: expect.any(String) }));
      }
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('refresh')).toBe(0);
    });

    it('answers 413 (never 500) to a body over the parser limit', async () => {
      const res = await post(REFRESH_ROUTE, {
        headers: own(),
        body: JSON.stringify({ refresh: 'x', padding: 'p'.repeat(2 * 1024 * 1024) }),
      });
      expect(res.status).toBe(413);
      expect(suite.emulator.calls('refresh')).toBe(0);
      // Nest 11's body parser also logs the 413 at error level (Nest 12 does not); it is not a 500.
      const parserLogs = suite.logs.entries.filter((entry) => /PayloadTooLarge|entity too large/i.test(entry.text));
      parserLogs.forEach((entry) => suite.logs.entries.splice(suite.logs.entries.indexOf(entry), 1));
    });

    it('answers 503 JSON with Retry-After and writes nothing when the refreshed JWT does not verify', async () => {
      const session = await suite.emulator.createSession();
      const jwt = await suite.emulator.signJwt(
        { sub: session.userId, aud: suite.emulator.projectId, exp: nowSec() + 60 },
        { key: 'foreign' },
      );
      suite.emulator.answerNextRefresh({ jwt, userId: session.userId });
      const res = await post(REFRESH_ROUTE, { headers: own(), body: '{}', cookies: sessionCookies(session) });
      expectJsonError(res, 503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.setCookies).toEqual([]);
      expect(res.text).not.toContain(jwt);
    });

    it('answers 401 JSON and clears the cookies on a refresh token Crossmint refuses, echoing nothing', async () => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('refresh', {
        status: 401,
        body: JSON.stringify({ message: `bad token ${session.refreshToken.secret}` }),
        times: 1,
      });
      const res = await post(REFRESH_ROUTE, { headers: own(), body: '{}', cookies: sessionCookies(session) });
      expectJsonError(res, 401);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      expect(res.text).not.toContain(session.refreshToken.secret);
    });

    it('shares one upstream refresh among concurrent route calls with the same secret', async () => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('refresh', { delayMs: 100, times: 1 });
      const responses = await Promise.all(
        Array.from({ length: 10 }, () =>
          post(REFRESH_ROUTE, { headers: own(), body: '{}', cookies: sessionCookies(session) }),
        ),
      );
      expect(responses.map((res) => res.status)).toEqual(Array(10).fill(200));
      expect(new Set(responses.map((res) => res.body.jwt)).size).toBe(1);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('logs out whatever the body, and answers JSON', async () => {
      const session = await suite.emulator.createSession();
      const res = await post(LOGOUT_ROUTE, {
        headers: { 'content-type': 'text/plain', origin: suite.app.url },
        body: '<<garbage>>',
        cookies: sessionCookies(session),
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({});
      expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      expect(suite.emulator.calls('logout')).toBe(1);
    });

    it('logs out on a Crossmint timeout, clearing the cookies', async () => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('logout', { delayMs: 900, times: 1 });
      const res = await post(LOGOUT_ROUTE, { headers: { origin: suite.app.url }, cookies: sessionCookies(session) });
      expect(res.status).toBe(200);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    });
  });

  describe('a refused body secret leaves no live refresh token behind', () => {
    /** Refreshes straight at Crossmint, bypassing the app and its caches. */
    const refreshAtCrossmint = async (secret: string) => {
      const { apiKey, baseUrl } = suite.emulator.moduleOptions();
      const res = await fetch(`${baseUrl}${CROSSMINT_API_PATHS.refresh}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-api-key': apiKey },
        body: JSON.stringify({ refresh: secret }),
      });
      return res.status;
    };

    /** The SDK's refresh with `spent`'s secret in the body while the cookies hold `live`: 401, cookies cleared. */
    async function expectRefusedAndCleared(spent: EmulatorSession, live: EmulatorSession): Promise<void> {
      const body = JSON.stringify({ refresh: spent.refreshToken.secret });
      const res = await post(REFRESH_ROUTE, { headers: own(), body, cookies: sessionCookies(live) });
      expectJsonError(res, 401);
      expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    }

    it.each([
      ['revoked', (secret: string) => suite.emulator.revokeRefreshToken(secret)],
      ['already used', async (secret: string) => expect(await refreshAtCrossmint(secret)).toBe(200)],
    ])(
      "revokes the cookie's live refresh token when the body's secret is %s: 401, both cookies cleared",
      async (_, spend) => {
        const [spent, live] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
        await spend(spent.refreshToken.secret);
        suite.emulator.resetCalls();

        await expectRefusedAndCleared(spent, live);
        expect(suite.emulator.calls('logout')).toBe(1);

        // The browser's logout that follows carries no cookie: the token had to die here. The app and Crossmint refuse it.
        expectJsonError(await post(REFRESH_ROUTE, { headers: own(), body: '{}', cookies: sessionCookies(live) }), 401);
        expect(await refreshAtCrossmint(live.refreshToken.secret)).toBe(401);
      },
    );

    it('still answers 401 and clears the cookies when Crossmint cannot be told, and logs a warning without any secret', async () => {
      const [spent, live] = await Promise.all([suite.emulator.createSession(), suite.emulator.createSession()]);
      suite.emulator.revokeRefreshToken(spent.refreshToken.secret);
      suite.emulator.fault('logout', { status: 503 });

      await expectRefusedAndCleared(spent, live);
      expect(suite.emulator.calls('logout')).toBeGreaterThanOrEqual(1);
      const warnings = suite.logs.entries.filter((entry) => entry.level === 'warn');
      expect(warnings.some((entry) => /revoke/i.test(entry.text))).toBe(true);
      for (const secret of [spent.refreshToken.secret, live.refreshToken.secret, spent.jwt, live.jwt])
        expect(suite.logs.text()).not.toContain(secret);
    });

    it('calls no revoke when the cookie holds no other secret', async () => {
      const spent = await suite.emulator.createSession();
      suite.emulator.revokeRefreshToken(spent.refreshToken.secret);
      const body = JSON.stringify({ refresh: spent.refreshToken.secret });
      expectJsonError(await post(REFRESH_ROUTE, { headers: own(), body }), 401);
      expectJsonError(await post(REFRESH_ROUTE, { headers: own(), body, cookies: sessionCookies(spent) }), 401);
      expect(suite.emulator.calls('logout')).toBe(0);
    });
  });

  it('keeps the routes exact: no prefix match, no trailing segment', async () => {
    const session = await suite.emulator.createSession();
    for (const path of [`${REFRESH_ROUTE}/x`, `${REFRESH_ROUTE}x`, `/x${REFRESH_ROUTE}`]) {
      const res = await post(path, { headers: own(), body: '{}', cookies: sessionCookies(session) });
      expect(res.status).toBe(404);
    }
    expect(suite.emulator.calls('refresh')).toBe(0);
  });
});
