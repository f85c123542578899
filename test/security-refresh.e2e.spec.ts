import { describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { randomUUID } from 'node:crypto';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request, type TestResponse } from './support/http.js';

const RESULT_TTL_MS = 400;

/**
 * Refresh tokens are one-time (SECURITY.md: replay of refresh tokens). The refresh coordinator shares one
 * upstream refresh among concurrent requests and hands its result to late requests still carrying the
 * consumed secret for `refreshResultTtlMs`; after that, or once the user logged out, the consumed secret is
 * dead. A secret Crossmint refused is refused again for `refreshResultTtlMs` without asking it.
 */
describe('security: refresh single-flight and late arrivals', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 2000 } },
      shortTtlApp: { moduleOptions: { ...emulator.moduleOptions(), refreshResultTtlMs: RESULT_TTL_MS } },
    }),
    logs: 'no-errors',
  });

  const distinct = (responses: TestResponse[], name: string) =>
    new Set(responses.map((res) => res.cookies[name]?.value));

  it('makes exactly one upstream refresh for 100 concurrent requests with the same expired session', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { delayMs: 200, times: 1 });
    const responses = await Promise.all(
      Array.from({ length: 100 }, () => request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) })),
    );

    expect(responses.map((res) => res.status)).toEqual(Array(100).fill(200));
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(new Set(responses.map((res) => res.body.userId))).toEqual(new Set([session.userId]));
    const jwts = distinct(responses, JWT_COOKIE);
    const secrets = distinct(responses, REFRESH_COOKIE);
    expect(jwts.size).toBe(1);
    expect(secrets.size).toBe(1);
    const [jwt] = jwts;
    const [secret] = secrets;
    expect(jwt).not.toBe(session.jwt);
    expect(secret).not.toBe(session.refreshToken.secret);

    // The shared material is real: it passes without another refresh.
    const next = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: jwt!, [REFRESH_COOKIE]: secret! },
    });
    expect(next.status).toBe(200);
    expect(next.setCookies).toEqual([]);
    expect(suite.emulator.calls('refresh')).toBe(1);
  });

  it('shares the refresh across the guard, getSession and the interceptor', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { delayMs: 100, times: 1 });
    const paths = ['/protected', '/session', '/optional'];
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        request(`${suite.app.url}${paths[i % 3]}`, { cookies: sessionCookies(session) }),
      ),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(30).fill(200));
    expect(responses.every((res) => res.body.userId === session.userId)).toBe(true);
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(distinct(responses, REFRESH_COOKIE).size).toBe(1);
  });

  it('never mixes up sessions: concurrent refreshes of different users stay apart', async () => {
    const sessions = await Promise.all(
      Array.from({ length: 10 }, () => suite.emulator.createSession({ expired: true })),
    );
    const responses = await Promise.all(
      sessions.flatMap((session) =>
        Array.from({ length: 5 }, () =>
          request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) }).then((res) => ({ session, res })),
        ),
      ),
    );
    expect(suite.emulator.calls('refresh')).toBe(10);
    for (const { session, res } of responses) {
      expect(res.status).toBe(200);
      expect(res.body.userId).toBe(session.userId);
      expect(decodeJwt(res.cookies[JWT_COOKIE].value).sub).toBe(session.userId);
    }
  });

  it('hands the new material to a late request still carrying the consumed secret, until refreshResultTtlMs', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const first = await request(`${suite.shortTtlApp.url}/protected`, { cookies: sessionCookies(session) });
    expect(first.status).toBe(200);

    // Another tab, a moment later, with the old cookies: same new material, no second upstream call.
    const late = await request(`${suite.shortTtlApp.url}/protected`, { cookies: sessionCookies(session) });
    expect(late.status).toBe(200);
    expect(late.cookies[JWT_COOKIE].value).toBe(first.cookies[JWT_COOKIE].value);
    expect(late.cookies[REFRESH_COOKIE].value).toBe(first.cookies[REFRESH_COOKIE].value);
    expect(suite.emulator.calls('refresh')).toBe(1);

    // Past the window the consumed secret goes upstream again, and Crossmint refuses it.
    await new Promise((resolve) => setTimeout(resolve, RESULT_TTL_MS + 100));
    const replay = await request(`${suite.shortTtlApp.url}/protected`, { cookies: sessionCookies(session) });
    expect(replay.status).toBe(401);
    expect(isCleared(replay.cookies[JWT_COOKIE])).toBe(true);
    expect(isCleared(replay.cookies[REFRESH_COOKIE])).toBe(true);
    expect(suite.emulator.calls('refresh')).toBe(2);

    // The rotated material is unaffected.
    const rotated = {
      [JWT_COOKIE]: first.cookies[JWT_COOKIE].value,
      [REFRESH_COOKIE]: first.cookies[REFRESH_COOKIE].value,
    };
    expect((await request(`${suite.shortTtlApp.url}/protected`, { cookies: rotated })).status).toBe(200);
  });

  it('shares a transient failure without remembering it: the session survives the next attempt', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { status: 503, delayMs: 100, times: 1 });
    const failed = await Promise.all(
      Array.from({ length: 20 }, () => request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) })),
    );
    expect(failed.map((res) => res.status)).toEqual(Array(20).fill(503));
    expect(failed.every((res) => res.setCookies.length === 0)).toBe(true);
    expect(suite.emulator.calls('refresh')).toBe(1);

    const retried = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(retried.status).toBe(200);
    expect(suite.emulator.calls('refresh')).toBe(2);
  });

  it('shares a definitive refusal: 20 concurrent requests with a revoked token, one upstream call, all 401', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    suite.emulator.fault('refresh', { delayMs: 100, times: 1 });
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) })),
    );
    expect(responses.map((res) => res.status)).toEqual(Array(20).fill(401));
    expect(responses.every((res) => isCleared(res.cookies[REFRESH_COOKIE]))).toBe(true);
    expect(suite.emulator.calls('refresh')).toBe(1);
  });

  describe('refusals are remembered', () => {
    const doors = ['/protected', '/optional', '/session'];
    const expectRefused = (res: TestResponse, path: string) => {
      if (path === '/optional') expect([res.status, res.body]).toEqual([200, { userId: null }]);
      else expect(res.status).toBe(401);
      expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    };

    it('40 requests with the same bogus refresh cookie, through the guard, the interceptor and getSession, cost one upstream refresh', async () => {
      const cookies = { [REFRESH_COOKIE]: `bogus-${randomUUID()}` };
      for (let i = 0; i < 40; i++) {
        const path = doors[i % doors.length];
        expectRefused(await request(`${suite.app.url}${path}`, { cookies }), path);
      }
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('a refused genuine secret goes upstream again once refreshResultTtlMs has passed, and is refused there', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.revokeRefreshToken(session.refreshToken.secret);
      for (let i = 0; i < 6; i++) {
        const path = doors[i % doors.length];
        expectRefused(await request(`${suite.shortTtlApp.url}${path}`, { cookies: sessionCookies(session) }), path);
      }
      expect(suite.emulator.calls('refresh')).toBe(1);

      await new Promise((resolve) => setTimeout(resolve, RESULT_TTL_MS + 100));
      expectRefused(
        await request(`${suite.shortTtlApp.url}/protected`, { cookies: sessionCookies(session) }),
        '/protected',
      );
      expect(suite.emulator.calls('refresh')).toBe(2);
    });

    it('40 distinct bogus refresh secrets still cost 40 upstream refreshes (rate limiting is the defence)', async () => {
      const responses = await Promise.all(
        Array.from({ length: 40 }, () =>
          request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: `bogus-${randomUUID()}` } }),
        ),
      );
      expect(responses.map((res) => res.status)).toEqual(Array(40).fill(401));
      expect(suite.emulator.calls('refresh')).toBe(40);
    });
  });

  describe('logout ends the grace window', () => {
    /** Refreshes `session` through the guard: the consumed secret S0 and the new cookies (S1). */
    async function refreshed() {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
      expect(res.status).toBe(200);
      const next = { [JWT_COOKIE]: res.cookies[JWT_COOKIE].value, [REFRESH_COOKIE]: res.cookies[REFRESH_COOKIE].value };
      return { consumed: session.refreshToken.secret, next };
    }

    it('after logging out with the new secret, a request carrying only the consumed one gets 401, not the new session', async () => {
      const { consumed, next } = await refreshed();
      const logout = await request(`${suite.app.url}/logout`, { method: 'POST', cookies: next });
      expect(logout.status).toBe(201);
      expect(suite.emulator.calls('logout')).toBe(1);

      const replay = await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: consumed } });
      expect(replay.status).toBe(401);
      expect(replay.cookies[JWT_COOKIE]?.value).not.toBe(next[JWT_COOKIE]);
      expect(isCleared(replay.cookies[REFRESH_COOKIE])).toBe(true);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('logging out with the consumed secret also revokes the secret its grace result handed out', async () => {
      const { consumed, next } = await refreshed();
      const logout = await request(`${suite.app.url}/logout`, {
        method: 'POST',
        cookies: { [REFRESH_COOKIE]: consumed },
      });
      expect(logout.status).toBe(201);
      expect(suite.emulator.calls('logout')).toBe(2);

      expect((await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: consumed } })).status).toBe(
        401,
      );
      // The new secret is dead at Crossmint: refreshing with it goes upstream and is refused.
      const withNext = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: next[REFRESH_COOKIE] },
      });
      expect(withNext.status).toBe(401);
      expect(suite.emulator.calls('refresh')).toBe(2);
    });

    it('a logout while the refresh is in flight wins: the refreshing request gets 401 and no refresh token stays live', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      // Crossmint consumes the secret at once, but its answer (the new session) arrives late.
      suite.emulator.fault('refresh', { answerDelayMs: 500, times: 1 });
      const refreshing = request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
      await until(() => suite.emulator.calls('refresh') === 1);

      const logout = await request(`${suite.app.url}/logout`, { method: 'POST', cookies: sessionCookies(session) });
      expect(logout.status).toBe(201);

      const res = await refreshing;
      expect(res.status).toBe(401);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      expect(suite.emulator.liveRefreshTokens(session.userId)).toBe(0);
    });

    it('follows the grace results a few refreshes on: S0 → S1 → S2, a logout with S2 refuses S0 too', async () => {
      const { consumed, next } = await refreshed();
      const second = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: next[REFRESH_COOKIE] },
      });
      expect(second.status).toBe(200);
      const logout = await request(`${suite.app.url}/logout`, {
        method: 'POST',
        cookies: { [REFRESH_COOKIE]: second.cookies[REFRESH_COOKIE].value },
      });
      expect(logout.status).toBe(201);

      for (const secret of [consumed, next[REFRESH_COOKIE]]) {
        expect((await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: secret } })).status).toBe(
          401,
        );
      }
      expect(suite.emulator.calls('refresh')).toBe(2);
    });
  });
});

/** Polls `check` every 5 ms until it holds (at most 5 s): waits on what the app does, never on the clock. */
async function until(check: () => boolean): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
