import { beforeAll, describe, expect, it } from '@jest/globals';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request, type TestResponse } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

describe.each(PLATFORM_VARIANTS)('Cookie names on $name', ({ platform, cookiePlugin }) => {
  const suite = useEmulatorApps({
    apps: (emulator) => {
      // No grace period for consumed refresh secrets: a stale cookie that is read again fails at once.
      const moduleOptions = { ...emulator.moduleOptions(), refreshResultTtlMs: 0 };
      return {
        app: { moduleOptions, platform, cookiePlugin },
        custom: {
          moduleOptions: { ...moduleOptions, cookies: { jwt: 'app-jwt', refreshToken: 'app-refresh' } },
          platform,
          cookiePlugin,
        },
      };
    },
  });
  let scopedJwt: string;
  let scopedRefresh: string;
  beforeAll(() => {
    scopedJwt = `${JWT_COOKIE}-${suite.emulator.projectId}`;
    scopedRefresh = `${REFRESH_COOKIE}-${suite.emulator.projectId}`;
  });

  describe('project-scoped names (crossmint-jwt-<projectId>, crossmint-refresh-token-<projectId>)', () => {
    it('accepts a JWT in the project-scoped cookie', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/protected`, { cookies: { [scopedJwt]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
      expect(res.setCookies).toEqual([]);
    });

    it('refreshes from the project-scoped refresh cookie and writes the configured names too', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [scopedJwt]: session.jwt, [scopedRefresh]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);
      expect(Object.keys(res.cookies).sort()).toEqual([JWT_COOKIE, scopedJwt, REFRESH_COOKIE, scopedRefresh].sort());
      expect(res.cookies[JWT_COOKIE].value).toMatch(/^ey/);
      expect(res.cookies[scopedJwt].value).toBe(res.cookies[JWT_COOKIE].value);
      expect(res.cookies[scopedRefresh].value).toBe(res.cookies[REFRESH_COOKIE].value);
      expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
      expect(res.setCookies).toHaveLength(4);
    });

    it('keeps a client that sends the scoped names signed in across a rotation', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const jar: Record<string, string> = { [scopedJwt]: session.jwt, [scopedRefresh]: session.refreshToken.secret };
      const first = await request(`${suite.app.url}/protected`, { cookies: jar });
      expect(first.status).toBe(200);
      applySetCookies(jar, first);

      const second = await request(`${suite.app.url}/protected`, { cookies: jar });
      expect(second.status).toBe(200);
      expect(second.body.userId).toBe(session.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('prefers the project-scoped cookies when both spellings are present', async () => {
      const scoped = await suite.emulator.createSession();
      const legacy = await suite.emulator.createSession();
      const jwts = await request(`${suite.app.url}/protected`, {
        cookies: { [JWT_COOKIE]: legacy.jwt, [scopedJwt]: scoped.jwt },
      });
      expect(jwts.body.userId).toBe(scoped.userId);

      const refreshes = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: legacy.refreshToken.secret, [scopedRefresh]: scoped.refreshToken.secret },
      });
      expect(refreshes.status).toBe(200);
      expect(refreshes.body.userId).toBe(scoped.userId);
      expect(suite.emulator.calls('refresh')).toBe(1);

      // The legacy secret was not spent.
      const legacyOnly = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: legacy.refreshToken.secret },
      });
      expect(legacyOnly.status).toBe(200);
      expect(legacyOnly.body.userId).toBe(legacy.userId);
    });

    it.each([
      ['the project-scoped cookie', () => `${JWT_COOKIE}-${suite.emulator.projectId}`],
      ['the legacy cookie', () => JWT_COOKIE],
    ])('rejects a JWT whose aud is another project in %s', async (_, name) => {
      const foreign = await suite.emulator.mintJwt({ audience: 'another-project' });
      const alone = await request(`${suite.app.url}/protected`, { cookies: { [name()]: foreign } });
      expect(alone.status).toBe(401);

      const session = await suite.emulator.createSession();
      const rescued = await request(`${suite.app.url}/protected`, {
        cookies: { [name()]: foreign, [scopedRefresh]: session.refreshToken.secret },
      });
      expect(rescued.status).toBe(200);
      expect(rescued.body.userId).toBe(session.userId);
    });

    it("ignores cookies scoped to another project, even with that project's valid JWT", async () => {
      const foreign = await suite.emulator.mintJwt({ audience: 'another-project' });
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [`${JWT_COOKIE}-another-project`]: foreign },
      });
      expect(res.status).toBe(401);
      expect(res.setCookies).toEqual([]);
    });

    it('clears the configured names and the scoped ones the request carried', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [scopedJwt]: session.jwt, [scopedRefresh]: session.refreshToken.secret },
      });
      expect(res.status).toBe(401);
      expect(Object.keys(res.cookies).sort()).toEqual([JWT_COOKIE, scopedJwt, REFRESH_COOKIE, scopedRefresh].sort());
      for (const cookie of Object.values(res.cookies)) expect(isCleared(cookie)).toBe(true);
      expect(res.setCookies).toHaveLength(4);
    });

    it('clears only the configured names when the request carried no scoped cookie', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      const res = await request(`${suite.app.url}/protected`, {
        cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
      });
      expect(res.status).toBe(401);
      expect(Object.keys(res.cookies).sort()).toEqual([JWT_COOKIE, REFRESH_COOKIE]);
      expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    });

    it('logs out from the scoped refresh cookie: revokes it and clears both spellings', async () => {
      const session = await suite.emulator.createSession();
      const res = await request(`${suite.app.url}/logout`, {
        method: 'POST',
        cookies: { [scopedJwt]: session.jwt, [scopedRefresh]: session.refreshToken.secret },
      });
      expect(res.status).toBe(201);
      expect(suite.emulator.calls('logout')).toBe(1);
      expect(Object.keys(res.cookies).sort()).toEqual([JWT_COOKIE, scopedJwt, REFRESH_COOKIE, scopedRefresh].sort());
      for (const cookie of Object.values(res.cookies)) expect(isCleared(cookie)).toBe(true);

      const reuse = await request(`${suite.app.url}/protected`, {
        cookies: { [scopedRefresh]: session.refreshToken.secret },
      });
      expect(reuse.status).toBe(401);
    });
  });

  describe('custom names (cookies.jwt / cookies.refreshToken)', () => {
    it('reads the configured names, and no longer the default ones', async () => {
      const session = await suite.emulator.createSession();
      const configured = await request(`${suite.custom.url}/protected`, { cookies: { 'app-jwt': session.jwt } });
      expect(configured.status).toBe(200);
      expect(configured.body.userId).toBe(session.userId);

      const defaults = await request(`${suite.custom.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } });
      expect(defaults.status).toBe(401);
    });

    it('still reads the project-scoped names first', async () => {
      const scoped = await suite.emulator.createSession();
      const configured = await suite.emulator.createSession();
      const res = await request(`${suite.custom.url}/protected`, {
        cookies: { 'app-jwt': configured.jwt, [scopedJwt]: scoped.jwt },
      });
      expect(res.body.userId).toBe(scoped.userId);
    });

    it('writes rotated cookies under the configured names only', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.custom.url}/protected`, {
        cookies: { 'app-jwt': session.jwt, 'app-refresh': session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      expect(Object.keys(res.cookies).sort()).toEqual(['app-jwt', 'app-refresh']);
      expect(res.cookies['app-jwt'].value).toMatch(/^ey/);
      expect(res.cookies['app-refresh'].value).not.toBe(session.refreshToken.secret);
      expect(res.setCookies).toHaveLength(2);
    });

    it('clears the configured names and the scoped ones the request carried', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      const res = await request(`${suite.custom.url}/protected`, {
        cookies: { 'app-jwt': session.jwt, [scopedRefresh]: session.refreshToken.secret },
      });
      expect(res.status).toBe(401);
      expect(Object.keys(res.cookies).sort()).toEqual(['app-jwt', 'app-refresh', scopedRefresh].sort());
      for (const cookie of Object.values(res.cookies)) expect(isCleared(cookie)).toBe(true);
    });
  });
});

/** What a browser's cookie jar does with an answer's Set-Cookie headers. */
function applySetCookies(jar: Record<string, string>, res: TestResponse): void {
  for (const [name, cookie] of Object.entries(res.cookies)) {
    if (isCleared(cookie)) delete jar[name];
    else jar[name] = cookie.value;
  }
}
