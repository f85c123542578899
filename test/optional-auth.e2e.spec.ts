import { describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { CrossmintAuthGuard, CurrentUser, OptionalAuth } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

@Controller('feed')
class FeedController {
  @OptionalAuth()
  @Get()
  feed(@CurrentUser('userId') userId?: string) {
    return { userId: userId ?? null };
  }

  @Get('mine')
  mine(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

@OptionalAuth()
@Controller('optional-controller')
class OptionalController {
  @Get()
  get(@CurrentUser('userId') userId?: string) {
    return { userId: userId ?? null };
  }
}

describe.each(PLATFORM_VARIANTS)(
  '@OptionalAuth() under a global CrossmintAuthGuard ($name)',
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({
        app: {
          platform,
          cookiePlugin,
          moduleOptions: emulator.moduleOptions(),
          controllers: [FeedController, OptionalController],
          providers: [{ provide: APP_GUARD, useClass: CrossmintAuthGuard }],
        },
      }),
      logs: 'no-errors',
    });

    it('lets a signed-out user through, without calling Crossmint', async () => {
      const res = await request(`${suite.app.url}/feed`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null });
      expect(res.setCookies).toEqual([]);
      expect(suite.emulator.calls('jwks') + suite.emulator.calls('refresh')).toBe(0);
    });

    it('sets the user of a valid session (cookie or Bearer)', async () => {
      const session = await suite.emulator.createSession();
      const byCookie = await request(`${suite.app.url}/feed`, { cookies: { [JWT_COOKIE]: session.jwt } });
      expect(byCookie.body).toEqual({ userId: session.userId });
      const byBearer = await request(`${suite.app.url}/feed`, { headers: { authorization: `Bearer ${session.jwt}` } });
      expect(byBearer.body).toEqual({ userId: session.userId });
    });

    it('applies to every route of a controller it decorates', async () => {
      const session = await suite.emulator.createSession();
      expect((await request(`${suite.app.url}/optional-controller`)).body).toEqual({ userId: null });
      const signedIn = await request(`${suite.app.url}/optional-controller`, {
        cookies: { [JWT_COOKIE]: session.jwt },
      });
      expect(signedIn.body).toEqual({ userId: session.userId });
    });

    it('refreshes an expired session once and rotates both cookies', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/feed`, { cookies: sessionCookies(session) });
      expect(res.body).toEqual({ userId: session.userId });
      expect(suite.emulator.calls('refresh')).toBe(1);
      expect(res.cookies[JWT_COOKIE]?.value).toBeTruthy();
      expect(res.cookies[REFRESH_COOKIE]?.value).toBeTruthy();
      expect(res.cookies[REFRESH_COOKIE]?.value).not.toBe(session.refreshToken.secret);
    });

    it('lets a user whose refresh token Crossmint refuses through signed out, and clears the cookies', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      const res = await request(`${suite.app.url}/feed`, { cookies: sessionCookies(session) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null });
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    });

    it('lets the user through signed out while Crossmint is unavailable, keeping the cookies', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.fault('refresh', { status: 503 });
      const res = await request(`${suite.app.url}/feed`, { cookies: sessionCookies(session) });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null });
      expect(res.setCookies).toEqual([]);
      expect(res.headers.get('retry-after')).toBeNull();
    });

    it('lets an invalid Bearer token through signed out', async () => {
      const res = await request(`${suite.app.url}/feed`, { headers: { authorization: 'Bearer not-a-jwt' } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null });
    });

    it('leaves the other routes guarded', async () => {
      expect((await request(`${suite.app.url}/feed/mine`)).status).toBe(401);
    });
  },
);
