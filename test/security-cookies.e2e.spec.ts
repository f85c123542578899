import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Injectable, Module, type MiddlewareConsumer, type NestMiddleware, type NestModule } from '@nestjs/common';
import { resolveCrossmintAuthOptions } from '../lib/options/resolve-crossmint-auth-options.js';
import type { CrossmintAuthCookieOptions } from '../lib/index.js';
import type { EmulatorSession } from '../lib/testing/index.js';
import { HOST_JWT_COOKIE, HOST_REFRESH_COOKIE, JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { cookieHeader, isCleared, parseSetCookies, request } from './support/http.js';
import { rawRequest } from './support/raw-http.js';
import { TestController } from './support/test-app.js';
import { createWatchedApp, type WatchedApp } from './support/watched-app.js';

/** Sets cookies of its own before the guard runs, like a session or CSRF middleware would. */
@Injectable()
class CookieSettingMiddleware implements NestMiddleware {
  use(req: any, res: any, next: () => void): void {
    res.cookie('mw', '1');
    res.append('Set-Cookie', 'mw-raw=2; Path=/; HttpOnly');
    if (req.headers['x-stale-auth-cookie']) res.append('Set-Cookie', `${JWT_COOKIE}=stale; Path=/`);
    next();
  }
}

@Module({ providers: [CookieSettingMiddleware] })
class CookieMiddlewareModule implements NestModule {
  configure(consumer: MiddlewareConsumer): void {
    consumer.apply(CookieSettingMiddleware).forRoutes(TestController);
  }
}

/**
 * Cookie attributes (SECURITY.md: cookie theft and tossing): `Secure` unless plain-http localhost development,
 * `__Host-` names, HttpOnly where asked, and Set-Cookie headers of the handler and other middleware kept.
 */
describe('security: cookie attributes', () => {
  const suite = useEmulatorApps({ logs: 'no-errors' });
  const apps: WatchedApp[] = [];
  const startApp = async (cookies: CrossmintAuthCookieOptions = {}, imports: any[] = []) => {
    const app = await createWatchedApp(
      { moduleOptions: { ...suite.emulator.moduleOptions(), cookies }, imports },
      suite.logs,
    );
    apps.push(app);
    return app;
  };
  afterAll(() => Promise.all(apps.map((app) => app.close())));

  /** A refresh (or a 401 clear) as seen by a browser on `host`: fetch cannot set Host, so the request goes raw. */
  async function viaHost(app: WatchedApp, host: string, cookies: Record<string, string>) {
    const res = await rawRequest(app.url, {
      path: '/protected',
      headers: [
        ['Host', host],
        ['Cookie', cookieHeader(cookies)],
      ],
    });
    return { status: res.status, cookies: parseSetCookies(res.headers['set-cookie'] ?? []) };
  }
  const expired = () => suite.emulator.createSession({ expired: true });
  const dead = async (): Promise<EmulatorSession> => {
    const session = await expired();
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    return session;
  };

  describe("secure: 'auto' (the default)", () => {
    let app: WatchedApp;
    beforeAll(async () => {
      app = await startApp();
    });

    it.each(['app.example.com', 'app.example.com:8443', 'localhost.example.com', 'localhost.evil'])(
      'sets Secure for Host %s',
      async (host) => {
        const res = await viaHost(app, host, sessionCookies(await expired()));
        expect(res.status).toBe(200);
        expect(res.cookies[JWT_COOKIE].attributes.secure).toBe(true);
        expect(res.cookies[REFRESH_COOKIE].attributes.secure).toBe(true);
      },
    );

    it.each(['localhost', 'localhost:3000', 'LOCALHOST:3000', 'app.localhost', '127.0.0.1:3000', '[::1]:3000'])(
      'leaves Secure off for plain-http development on Host %s',
      async (host) => {
        const res = await viaHost(app, host, sessionCookies(await expired()));
        expect(res.status).toBe(200);
        expect(res.cookies[JWT_COOKIE].attributes.secure).toBeUndefined();
        expect(res.cookies[REFRESH_COOKIE].attributes.secure).toBeUndefined();
      },
    );

    it('sets Secure on the clearing cookies too', async () => {
      const res = await viaHost(app, 'app.example.com', sessionCookies(await dead()));
      expect(res.status).toBe(401);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(res.cookies[JWT_COOKIE].attributes.secure).toBe(true);
    });

    it('writes Path=/, SameSite=Lax, a lifetime, and HttpOnly on neither cookie by default (the browser SDK reads both)', async () => {
      const res = await viaHost(app, 'app.example.com', sessionCookies(await expired()));
      expect(res.cookies[JWT_COOKIE].attributes['max-age']).toMatch(/^\d+$/);
      expect(res.cookies[REFRESH_COOKIE].attributes.expires).toEqual(expect.any(String));
      for (const name of [JWT_COOKIE, REFRESH_COOKIE]) {
        expect(res.cookies[name].attributes).toMatchObject({ path: '/', samesite: 'Lax' });
        expect(res.cookies[name].attributes.httponly).toBeUndefined();
        expect(res.cookies[name].attributes.domain).toBeUndefined();
      }
    });
  });

  it('with secure: true, sets Secure even on localhost', async () => {
    const res = await viaHost(await startApp({ secure: true }), 'localhost:3000', sessionCookies(await expired()));
    expect(res.cookies[JWT_COOKIE].attributes.secure).toBe(true);
  });

  it('with secure: false, never sets Secure', async () => {
    const res = await viaHost(await startApp({ secure: false }), 'app.example.com', sessionCookies(await expired()));
    expect(res.cookies[JWT_COOKIE].attributes.secure).toBeUndefined();
  });

  it("with sameSite: 'none', sets Secure even on localhost (browsers drop SameSite=None without it)", async () => {
    const res = await viaHost(await startApp({ sameSite: 'none' }), 'localhost:3000', sessionCookies(await expired()));
    expect(res.cookies[JWT_COOKIE].attributes).toMatchObject({ samesite: 'None', secure: true });
  });

  it('marks the refresh cookie HttpOnly with httpOnlyRefreshToken, never the JWT cookie', async () => {
    const res = await viaHost(
      await startApp({ httpOnlyRefreshToken: true }),
      'app.example.com',
      sessionCookies(await expired()),
    );
    expect(res.cookies[REFRESH_COOKIE].attributes.httponly).toBe(true);
    expect(res.cookies[JWT_COOKIE].attributes.httponly).toBeUndefined();
  });

  describe('__Host- cookie names', () => {
    const resolve = (cookies: CrossmintAuthCookieOptions) =>
      resolveCrossmintAuthOptions({
        ...suite.emulator.moduleOptions(),
        cookies: { jwt: HOST_JWT_COOKIE, refreshToken: HOST_REFRESH_COOKIE, ...cookies },
      });

    it.each<[string, CrossmintAuthCookieOptions]>([
      ['secure: false', { secure: false }],
      ['a domain', { domain: 'example.com' }],
      ["a path other than '/'", { path: '/app' }],
    ])('refuses them with %s', (_, cookies) => {
      expect(() => resolve(cookies)).toThrow(/`cookies`.*__Host-/);
    });

    it('refuses a __Secure- name with secure: false, and SameSite=None with secure: false', () => {
      expect(() =>
        resolveCrossmintAuthOptions({
          ...suite.emulator.moduleOptions(),
          cookies: { jwt: '__Secure-jwt', secure: false },
        }),
      ).toThrow(/__Secure-/);
      expect(() =>
        resolveCrossmintAuthOptions({
          ...suite.emulator.moduleOptions(),
          cookies: { sameSite: 'none', secure: false },
        }),
      ).toThrow(/cookies\.sameSite/);
    });

    it('fails the boot with a message naming the option', async () => {
      await expect(startApp({ jwt: HOST_JWT_COOKIE, domain: 'example.com' })).rejects.toThrow(/option `cookies`/);
    });

    it("resolves secure: 'auto' to always-Secure for them", () => {
      expect(resolve({}).cookies.secure).toBe(true);
    });

    it('writes, reads and clears them, Secure and host-only even on localhost', async () => {
      const app = await startApp({ jwt: HOST_JWT_COOKIE, refreshToken: HOST_REFRESH_COOKIE });
      const session = await expired();
      const refreshed = await viaHost(app, 'localhost:3000', {
        [HOST_JWT_COOKIE]: session.jwt,
        [HOST_REFRESH_COOKIE]: session.refreshToken.secret,
      });
      expect(refreshed.status).toBe(200);
      for (const name of [HOST_JWT_COOKIE, HOST_REFRESH_COOKIE]) {
        expect(refreshed.cookies[name].attributes).toMatchObject({ path: '/', secure: true });
        expect(refreshed.cookies[name].attributes.domain).toBeUndefined();
      }
      expect(refreshed.cookies[JWT_COOKIE]).toBeUndefined();

      const cookies = {
        [HOST_JWT_COOKIE]: refreshed.cookies[HOST_JWT_COOKIE].value,
        [HOST_REFRESH_COOKIE]: refreshed.cookies[HOST_REFRESH_COOKIE].value,
      };
      const again = await request(`${app.url}/protected`, { cookies });
      expect(again.status).toBe(200);
      expect(again.body.userId).toBe(session.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);

      const gone = await dead();
      const cleared = await viaHost(app, 'localhost:3000', {
        [HOST_JWT_COOKIE]: gone.jwt,
        [HOST_REFRESH_COOKIE]: gone.refreshToken.secret,
      });
      expect(cleared.status).toBe(401);
      expect(isCleared(cleared.cookies[HOST_REFRESH_COOKIE])).toBe(true);
      expect(cleared.cookies[HOST_REFRESH_COOKIE].attributes.secure).toBe(true);
    });
  });

  describe('Set-Cookie headers of others survive, one per auth cookie', () => {
    let app: WatchedApp;
    beforeAll(async () => {
      app = await startApp({}, [CookieMiddlewareModule]);
    });
    const count = (setCookies: string[], name: string) =>
      setCookies.filter((cookie) => cookie.startsWith(`${name}=`)).length;

    it('keeps a middleware cookie set before the guard refreshed', async () => {
      const res = await request(`${app.url}/protected`, { cookies: sessionCookies(await expired()) });
      expect(res.status).toBe(200);
      expect(res.cookies.mw.value).toBe('1');
      expect(res.cookies['mw-raw'].raw).toBe('mw-raw=2; Path=/; HttpOnly');
      expect(count(res.setCookies, JWT_COOKIE)).toBe(1);
      expect(count(res.setCookies, REFRESH_COOKIE)).toBe(1);
      expect(res.headers.get('cache-control')).toBe('private, no-store');
    });

    it('keeps a middleware cookie when the guard clears the auth cookies on a 401', async () => {
      const res = await request(`${app.url}/protected`, { cookies: sessionCookies(await dead()) });
      expect(res.status).toBe(401);
      expect(res.cookies.mw.value).toBe('1');
      expect(res.cookies['mw-raw'].value).toBe('2');
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(count(res.setCookies, JWT_COOKIE)).toBe(1);
    });

    it('replaces an auth cookie another middleware wrote earlier instead of sending two', async () => {
      const res = await request(`${app.url}/protected`, {
        cookies: sessionCookies(await expired()),
        headers: { 'x-stale-auth-cookie': '1' },
      });
      expect(res.status).toBe(200);
      expect(count(res.setCookies, JWT_COOKIE)).toBe(1);
      expect(res.cookies[JWT_COOKIE].value).not.toBe('stale');
      expect(res.cookies.mw.value).toBe('1');
    });

    it('keeps the handler cookies (res.cookie, res.append) set after the guard refreshed', async () => {
      const res = await request(`${app.url}/protected/with-cookie`, { cookies: sessionCookies(await expired()) });
      expect(res.status).toBe(200);
      expect(res.cookies.theme.value).toBe('dark');
      expect(res.cookies.other.value).toBe('1');
      expect(res.cookies.mw.value).toBe('1');
      expect(count(res.setCookies, JWT_COOKIE)).toBe(1);
      expect(count(res.setCookies, REFRESH_COOKIE)).toBe(1);
    });

    it('keeps the handler cookies set before getSession wrote the auth cookies', async () => {
      const res = await request(`${app.url}/session/with-cookie`, { cookies: sessionCookies(await expired()) });
      expect(res.status).toBe(200);
      expect(res.cookies.theme.value).toBe('dark');
      expect(res.cookies.other.value).toBe('1');
      expect(count(res.setCookies, REFRESH_COOKIE)).toBe(1);
    });
  });
});
