import { describe, expect, it } from '@jest/globals';
import { APP_GUARD } from '@nestjs/core';
import { CrossmintAuthGuard } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

const json = { 'content-type': 'application/json' };
const routes = {
  refresh: '/api/auth/refresh',
  logout: '/api/auth/logout',
  allowedOrigins: ['https://app.example.com'],
};

describe.each(PLATFORM_VARIANTS)(
  'refresh and logout routes for the browser SDK on $name',
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({
        // A global guard must not stand in front of the routes.
        app: {
          moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 500, routes },
          providers: [{ provide: APP_GUARD, useClass: CrossmintAuthGuard }],
          platform,
          cookiePlugin,
        },
        readable: {
          moduleOptions: { ...emulator.moduleOptions(), routes, cookies: { httpOnlyRefreshToken: false } },
          platform,
          cookiePlugin,
        },
      }),
    });
    /** What the browser SDK sends from the app's own pages. */
    const own = (target = suite.app) => ({ ...json, origin: target.url });
    /** The SDK's refresh POST from the app's own page, with `secret` in the refresh cookie. */
    const refresh = (secret?: string, body = '{}', target = suite.app) =>
      request(`${target.url}/api/auth/refresh`, {
        method: 'POST',
        headers: own(target),
        body,
        cookies: secret ? { [REFRESH_COOKIE]: secret } : undefined,
      });
    /** The SDK's logout POST: no body, no content type. */
    const logout = (session: { jwt: string; refreshToken: { secret: string } }) =>
      request(`${suite.app.url}/api/auth/logout`, {
        method: 'POST',
        headers: { origin: suite.app.url },
        cookies: sessionCookies(session),
      });

    it('refreshes from the HttpOnly cookie and answers the SDK shape without the secret', async () => {
      const session = await suite.emulator.createSession();
      const res = await refresh(session.refreshToken.secret);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        jwt: expect.stringMatching(/^ey/),
        refreshToken: { expiresAt: expect.any(String) },
        user: expect.objectContaining({ id: session.userId }),
      });
      expect(res.cookies[JWT_COOKIE].value).toBe(res.body.jwt);
      expect(res.cookies[REFRESH_COOKIE].attributes.httponly).toBe(true);
      expect(res.cookies[JWT_COOKIE].attributes.httponly).toBeUndefined();
      expect(res.text).not.toContain(res.cookies[REFRESH_COOKIE].value);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
    });

    it('prefers the secret in the body over the cookie', async () => {
      const stale = await suite.emulator.createSession();
      suite.emulator.revokeRefreshToken(stale.refreshToken.secret);
      const fresh = await suite.emulator.createSession();
      const res = await refresh(stale.refreshToken.secret, JSON.stringify({ refresh: fresh.refreshToken.secret }));
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(fresh.userId);
    });

    it('includes the secret in the answer when the refresh cookie is readable by scripts', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.readable.url}/api/auth/refresh`, {
        method: 'POST',
        headers: own(suite.readable),
        body: JSON.stringify({ refresh: session.refreshToken.secret }),
      });
      expect(res.status).toBe(200);
      expect(res.body.refreshToken).toEqual({
        secret: res.cookies[REFRESH_COOKIE].value,
        expiresAt: expect.any(String),
      });
      expect(res.cookies[REFRESH_COOKIE].attributes.httponly).toBeUndefined();
    });

    it('answers 401 JSON with a message and clears the cookies when there is no valid refresh token', async () => {
      const missing = await refresh();
      expect(missing.status).toBe(401);
      expect(missing.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
      expect(suite.emulator.calls('refresh')).toBe(0);

      const session = await suite.emulator.createSession();
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      const revoked = await refresh(session.refreshToken.secret);
      expect(revoked.status).toBe(401);
      expect(isCleared(revoked.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(revoked.cookies[REFRESH_COOKIE])).toBe(true);
    });

    it('answers 503 with Retry-After and keeps the cookies when Crossmint is down', async () => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('refresh', { status: 500 });
      const res = await refresh(session.refreshToken.secret);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.setCookies).toEqual([]);
    });

    it.each([
      ['a foreign Origin', { origin: 'https://evil.example' }],
      ['Origin null', { origin: 'null' }],
      ['Origin null from a cross-site page', { origin: 'null', 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site cross-site', { 'sec-fetch-site': 'cross-site' }],
      ['Sec-Fetch-Site same-site', { 'sec-fetch-site': 'same-site' }],
      ['a foreign Referer, with neither Origin nor Sec-Fetch-Site', { referer: 'https://evil.example/page' }],
      ['a request with no Origin, Sec-Fetch-Site or Referer', {}],
    ])('refuses %s with 403 before touching the session', async (_, headers) => {
      const session = await suite.emulator.createSession();
      for (const path of ['/api/auth/refresh', '/api/auth/logout']) {
        const res = await request(`${suite.app.url}${path}`, {
          method: 'POST',
          headers,
          cookies: { [REFRESH_COOKIE]: session.refreshToken.secret },
        });
        expect(res.status).toBe(403);
        expect(res.setCookies).toEqual([]);
      }
      expect(suite.emulator.calls('refresh') + suite.emulator.calls('logout')).toBe(0);
    });

    it.each([
      ['its own Origin', (url: string) => ({ origin: url, 'sec-fetch-site': 'same-origin' })],
      ['an allowed Origin', () => ({ origin: 'https://app.example.com', 'sec-fetch-site': 'cross-site' })],
      [
        'a same-origin Referer, with neither Origin nor Sec-Fetch-Site (an older browser)',
        (url: string) => ({ referer: `${url}/account?tab=1` }),
      ],
      [
        'a Referer from an allowed origin, with neither Origin nor Sec-Fetch-Site',
        () => ({ referer: 'https://app.example.com/account' }),
      ],
      [
        'Origin null with Sec-Fetch-Site same-origin (a page with Referrer-Policy: no-referrer)',
        () => ({ origin: 'null', 'sec-fetch-site': 'same-origin' }),
      ],
    ])('accepts %s', async (_, headers) => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/api/auth/refresh`, {
        method: 'POST',
        headers: { ...json, ...headers(suite.app.url) },
        body: '{}',
        cookies: { [REFRESH_COOKIE]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
    });

    it('logs out a POST with no body and no content type: revokes the token and clears both cookies', async () => {
      const session = await suite.emulator.createSession();
      const res = await logout(session);
      expect(res.status).toBe(200);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      expect(suite.emulator.calls('logout')).toBe(1);

      const after = await refresh(session.refreshToken.secret);
      expect(after.status).toBe(401);
    });

    it('still clears the cookies on logout while Crossmint is down', async () => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('logout', { status: 503 });
      const res = await logout(session);
      expect(res.status).toBe(200);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    });

    it('keeps the global guard on every other route', async () => {
      const res = await request(`${suite.app.url}/public`);
      expect(res.status).toBe(401);
    });
  },
);
