import { describe, expect, it, jest } from '@jest/globals';
import * as nestCommon from '@nestjs/common';
import * as nestCore from '@nestjs/core';
import { APP_GUARD } from '@nestjs/core';
import { CrossmintAuthGuard } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request, type TestResponse } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

// @nestjs/throttler is CommonJS, and jest on Node 20 cannot require() Nest 12's ES modules: hand its require()
// the very modules the app runs on (not stand-ins), then load it.
jest.mock('@nestjs/common', () => nestCommon);
jest.mock('@nestjs/core', () => nestCore);
const { ThrottlerGuard, ThrottlerModule } = await import('@nestjs/throttler');

const REFRESH_ROUTE = '/api/auth/refresh';
const LOGOUT_ROUTE = '/api/auth/logout';
const LIMIT = 5;

/**
 * The refresh and logout routes sit on the HTTP adapter, outside Nest's router: the app's global guards must
 * still run in front of them (a throttler is what stands between an anonymous client and the API key's rate
 * limit at Crossmint), and a global `CrossmintAuthGuard` must still let a signed-out browser in.
 */
describe.each(PLATFORM_VARIANTS)(
  'refresh and logout routes behind the global guards on $name',
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({
        app: {
          moduleOptions: { ...emulator.moduleOptions(), routes: { refresh: REFRESH_ROUTE, logout: LOGOUT_ROUTE } },
          imports: [ThrottlerModule.forRoot([{ ttl: 60_000, limit: LIMIT }])],
          providers: [
            { provide: APP_GUARD, useClass: ThrottlerGuard },
            { provide: APP_GUARD, useClass: CrossmintAuthGuard },
          ],
          platform,
          cookiePlugin,
        },
      }),
      // A new app per test: the throttler's budget (per route and client, for a minute) starts full.
      appsPerTest: true,
      logs: 'no-errors',
    });

    const post = (path: string, cookies: Record<string, string> = {}) =>
      request(`${suite.app.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: suite.app.url },
        body: '{}',
        cookies,
      });

    function expectThrottled(res: TestResponse): void {
      expect(res.status).toBe(429);
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      expect(res.body).toEqual({ statusCode: 429, message: expect.any(String) });
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.setCookies).toEqual([]);
    }

    it('runs the global guards in front of the routes, and a global CrossmintAuthGuard lets a signed-out browser through', async () => {
      const session = await suite.emulator.createSession();
      const refreshed = await post(REFRESH_ROUTE, { [REFRESH_COOKIE]: session.refreshToken.secret });
      expect(refreshed.status).toBe(200);
      expect(refreshed.body.user.id).toBe(session.userId);
      expect(refreshed.headers.get('x-ratelimit-limit')).toBe(String(LIMIT));
      expect(refreshed.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 1));

      const loggedOut = await post(LOGOUT_ROUTE);
      expect(loggedOut.status).toBe(200);
      expect(loggedOut.headers.get('x-ratelimit-remaining')).toBe(String(LIMIT - 1));
    });

    it('throttles the refresh route: of 40 POSTs with distinct refresh tokens, 5 reach Crossmint and 35 answer 429', async () => {
      const sessions = await Promise.all(Array.from({ length: 40 }, () => suite.emulator.createSession()));
      const responses = await Promise.all(sessions.map((session) => post(REFRESH_ROUTE, sessionCookies(session))));
      expect(responses.filter((res) => res.status === 200)).toHaveLength(LIMIT);
      responses.filter((res) => res.status !== 200).forEach(expectThrottled);
      expect(suite.emulator.calls('refresh')).toBe(LIMIT);
    });

    it('throttles the logout route: of 40 POSTs, 5 revoke and clear the cookies and 35 answer 429', async () => {
      const sessions = await Promise.all(Array.from({ length: 40 }, () => suite.emulator.createSession()));
      const responses = await Promise.all(sessions.map((session) => post(LOGOUT_ROUTE, sessionCookies(session))));
      const loggedOut = responses.filter((res) => res.status === 200);
      expect(loggedOut).toHaveLength(LIMIT);
      loggedOut.forEach((res) =>
        expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true),
      );
      responses.filter((res) => res.status !== 200).forEach(expectThrottled);
      expect(suite.emulator.calls('logout')).toBe(LIMIT);
    });
  },
);
