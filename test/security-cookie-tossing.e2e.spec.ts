import { beforeAll, describe, expect, it } from '@jest/globals';
import { resolveCrossmintAuthOptions } from '../lib/options/resolve-crossmint-auth-options.js';
import { HOST_JWT_COOKIE, HOST_REFRESH_COOKIE, JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

const hostCookies = { jwt: HOST_JWT_COOKIE, refreshToken: HOST_REFRESH_COOKIE };

/**
 * Cookie tossing against `__Host-` names: a sibling subdomain or a plain-http page of the site can plant
 * unprefixed cookies (the project id in their names is public: it is every JWT's `aud`), never `__Host-` ones.
 */
describe.each(PLATFORM_VARIANTS)(
  'security: cookie tossing with __Host- names on $name',
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({
        app: { moduleOptions: { ...emulator.moduleOptions(), cookies: hostCookies }, platform, cookiePlugin },
        migrating: {
          moduleOptions: { ...emulator.moduleOptions(), cookies: { ...hostCookies, readUnprefixed: true } },
          platform,
          cookiePlugin,
        },
      }),
      logs: 'no-errors',
    });
    let scopedJwt: string;
    let scopedRefresh: string;
    beforeAll(() => {
      scopedJwt = `${JWT_COOKIE}-${suite.emulator.projectId}`;
      scopedRefresh = `${REFRESH_COOKIE}-${suite.emulator.projectId}`;
    });

    const victim = async (options: { expired?: boolean } = {}) => {
      const session = await suite.emulator.createSession(options);
      return {
        session,
        cookies: { [HOST_JWT_COOKIE]: session.jwt, [HOST_REFRESH_COOKIE]: session.refreshToken.secret },
      };
    };

    describe('without readUnprefixed (the default)', () => {
      it("keeps the victim signed in as themself when the attacker's valid JWT is planted under the project-scoped name", async () => {
        const { session, cookies } = await victim();
        const attacker = await suite.emulator.createSession();
        for (const planted of [scopedJwt, JWT_COOKIE].map((name): Record<string, string> => ({
          [name]: attacker.jwt,
        }))) {
          const res = await request(`${suite.app.url}/protected`, { cookies: { ...planted, ...cookies } });
          expect(res.status).toBe(200);
          expect(res.body.userId).toBe(session.userId);
          expect(res.setCookies).toEqual([]);
        }
      });

      it("never clears the victim's __Host- cookies because of garbage planted under unprefixed names", async () => {
        const { session, cookies } = await victim();
        const planted = {
          [scopedJwt]: 'garbage',
          [scopedRefresh]: 'garbage',
          [JWT_COOKIE]: 'garbage',
          [REFRESH_COOKIE]: 'garbage',
        };
        const res = await request(`${suite.app.url}/protected`, { cookies: { ...planted, ...cookies } });
        expect(res.status).toBe(200);
        expect(res.body.userId).toBe(session.userId);
        expect(res.setCookies).toEqual([]);
        expect(suite.emulator.calls('refresh')).toBe(0);
      });

      it("never writes the attacker's session into the victim's __Host- cookies (expired JWT + the attacker's refresh secret)", async () => {
        const { session, cookies } = await victim({ expired: true });
        const attacker = await suite.emulator.createSession({ expired: true });
        const planted = { [scopedJwt]: attacker.jwt, [scopedRefresh]: attacker.refreshToken.secret };
        const res = await request(`${suite.app.url}/protected`, { cookies: { ...planted, ...cookies } });
        expect(res.status).toBe(200);
        expect(res.body.userId).toBe(session.userId);
        expect(suite.emulator.calls('refresh')).toBe(1);
        expect(Object.keys(res.cookies).sort()).toEqual([HOST_JWT_COOKIE, HOST_REFRESH_COOKIE]);
        expect(res.cookies[HOST_JWT_COOKIE].attributes.secure).toBe(true);
        // The attacker's refresh secret was never spent.
        const attackerOwn = await request(`${suite.migrating.url}/protected`, {
          cookies: { [scopedRefresh]: attacker.refreshToken.secret },
        });
        expect(attackerOwn.body.userId).toBe(attacker.userId);
      });

      it('does not read unprefixed cookies at all: 401, no upstream call, nothing written', async () => {
        const planted = await suite.emulator.createSession({ expired: true });
        for (const cookies of [
          { [scopedJwt]: (await suite.emulator.createSession()).jwt },
          { [JWT_COOKIE]: planted.jwt, [REFRESH_COOKIE]: planted.refreshToken.secret },
          { [scopedJwt]: planted.jwt, [scopedRefresh]: planted.refreshToken.secret },
        ]) {
          const res = await request(`${suite.app.url}/protected`, { cookies });
          expect(res.status).toBe(401);
          expect(res.setCookies).toEqual([]);
        }
        expect(suite.emulator.calls('refresh')).toBe(0);
      });

      it('a dead __Host- session is cleared under the __Host- names only, leaving unprefixed look-alikes alone', async () => {
        const { cookies } = await victim({ expired: true });
        suite.emulator.revokeRefreshToken(cookies[HOST_REFRESH_COOKIE]);
        const res = await request(`${suite.app.url}/protected`, { cookies: { ...cookies, [scopedJwt]: 'x' } });
        expect(res.status).toBe(401);
        expect(Object.keys(res.cookies).sort()).toEqual([HOST_JWT_COOKIE, HOST_REFRESH_COOKIE]);
        expect(isCleared(res.cookies[HOST_JWT_COOKIE]) && isCleared(res.cookies[HOST_REFRESH_COOKIE])).toBe(true);
      });
    });

    describe('with readUnprefixed (a migration to __Host- names)', () => {
      it('reads the unprefixed cookies when no __Host- cookie came', async () => {
        const session = await suite.emulator.createSession();
        const res = await request(`${suite.migrating.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } });
        expect(res.status).toBe(200);
        expect(res.body.userId).toBe(session.userId);
      });

      it('moves a refreshed session to the __Host- names and expires the unprefixed cookies it came with', async () => {
        const session = await suite.emulator.createSession({ expired: true });
        const res = await request(`${suite.migrating.url}/protected`, {
          cookies: { [scopedJwt]: session.jwt, [scopedRefresh]: session.refreshToken.secret },
        });
        expect(res.status).toBe(200);
        expect(res.body.userId).toBe(session.userId);
        expect(res.cookies[HOST_JWT_COOKIE].value).toMatch(/^ey/);
        expect(res.cookies[HOST_REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
        expect(isCleared(res.cookies[scopedJwt]) && isCleared(res.cookies[scopedRefresh])).toBe(true);
      });

      it('lets any __Host- cookie outrank every unprefixed one', async () => {
        const { session, cookies } = await victim();
        const attacker = await suite.emulator.createSession();
        const res = await request(`${suite.migrating.url}/protected`, {
          cookies: { [scopedJwt]: attacker.jwt, [JWT_COOKIE]: attacker.jwt, ...cookies },
        });
        expect(res.body.userId).toBe(session.userId);
        expect(res.setCookies).toEqual([]);
      });

      it('clears only the unprefixed cookies when they fail, never the __Host- ones', async () => {
        const dead = await suite.emulator.createSession({ expired: true });
        suite.emulator.revokeRefreshToken(dead.refreshToken.secret);
        const res = await request(`${suite.migrating.url}/protected`, {
          cookies: { [JWT_COOKIE]: dead.jwt, [REFRESH_COOKIE]: dead.refreshToken.secret },
        });
        expect(res.status).toBe(401);
        expect(Object.keys(res.cookies).sort()).toEqual([JWT_COOKIE, REFRESH_COOKIE]);
        expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      });
    });

    it('refuses, at boot, a prefix on one name only, and readUnprefixed without prefixed names', () => {
      const base = suite.emulator.moduleOptions();
      expect(() => resolveCrossmintAuthOptions({ ...base, cookies: { jwt: HOST_JWT_COOKIE } })).toThrow(
        /`cookies` needs a '__Host-' or '__Secure-' prefix on both/,
      );
      expect(() => resolveCrossmintAuthOptions({ ...base, cookies: { readUnprefixed: true } })).toThrow(
        /`cookies.readUnprefixed`/,
      );
      expect(() =>
        resolveCrossmintAuthOptions({ ...base, cookies: { jwt: '__Secure-jwt', refreshToken: '__Host-rt' } }),
      ).not.toThrow();
    });
  },
);
