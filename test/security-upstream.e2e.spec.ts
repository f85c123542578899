import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer } from 'node:net';
import { SignJWT } from 'jose';
import type { CrossmintAuthModuleOptions } from '../lib/index.js';
import { CrossmintAuthEmulator, type EmulatorFault } from '../lib/testing/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request, type TestResponse } from './support/http.js';
import { createWatchedApp, type WatchedApp } from './support/watched-app.js';

const TIMEOUT_MS = 300;
const SLOWER_THAN_TIMEOUT = { delayMs: 3 * TIMEOUT_MS };

/**
 * Upstream faults (SECURITY.md: JWKS poisoning and flooding, malformed refresh answers, upstream outage
 * turning into mass logout). A transient fault answers 503 with Retry-After and keeps the cookies; only a
 * definitive 4xx from the refresh endpoint logs the user out; a bad answer is never written as a cookie.
 */
describe('security: upstream faults', () => {
  const suite = useEmulatorApps({ apps: () => ({ app: { moduleOptions: options() } }), logs: 'no-errors' });
  const options = (extra: Partial<CrossmintAuthModuleOptions> = {}): CrossmintAuthModuleOptions => ({
    ...suite.emulator.moduleOptions(),
    timeoutMs: TIMEOUT_MS,
    ...extra,
  });

  beforeAll(async () => {
    expect(
      (
        await request(`${suite.app.url}/protected`, {
          cookies: { [JWT_COOKIE]: (await suite.emulator.createSession()).jwt },
        })
      ).status,
    ).toBe(200);
  });

  function expectUnavailable(res: TestResponse): void {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.body).toEqual({ statusCode: 503, message: expect.any(String), error: 'Service Unavailable' });
    expect(res.setCookies).toEqual([]);
  }

  describe('refresh answers 200 with something that is not new auth material', () => {
    const expiresAt = () => new Date(Date.now() + 3_600_000).toISOString();
    const material = async (userId: string, patch: (body: any) => void = () => undefined) => {
      const body: any = {
        jwt: await suite.emulator.mintJwt({ sub: userId }),
        refresh: { secret: 'rotated-secret', expiresAt: expiresAt() },
        user: { id: userId },
      };
      patch(body);
      return JSON.stringify(body);
    };

    const withJwt = (makeJwt: (userId: string) => Promise<string>) => async (userId: string) => {
      const body = JSON.parse(await material(userId));
      body.jwt = await makeJwt(userId);
      return JSON.stringify(body);
    };
    const claims = (userId: string) => ({ sub: userId, aud: suite.emulator.projectId, exp: nowSec() + 60 });

    const answers: Array<[string, (userId: string) => Promise<string>]> = [
      [
        'a JWT signed by an unknown key',
        withJwt((userId) => suite.emulator.signJwt(claims(userId), { key: 'foreign', kid: 'kid-unknown' })),
      ],
      [
        'a JWT signed by a foreign key under a real kid',
        withJwt((userId) => suite.emulator.signJwt(claims(userId), { key: 'foreign' })),
      ],
      ['an unsigned (alg none) JWT', withJwt((userId) => suite.emulator.signJwt(claims(userId), { alg: 'none' }))],
      [
        'a JWT that names another user than its user field',
        withJwt(() => suite.emulator.mintJwt({ sub: 'user-someone-else' })),
      ],
      [
        'a JWT for another project',
        withJwt((userId) => suite.emulator.mintJwt({ sub: userId, audience: 'another-project' })),
      ],
      [
        'an already expired JWT',
        withJwt((userId) => suite.emulator.mintJwt({ sub: userId, iat: nowSec() - 600, ttlSec: 60 })),
      ],
      ['no jwt', (userId) => material(userId, (body) => delete body.jwt)],
      ['no refresh', (userId) => material(userId, (body) => delete body.refresh)],
      ['no refresh secret', (userId) => material(userId, (body) => delete body.refresh.secret)],
      ['an empty refresh secret', (userId) => material(userId, (body) => (body.refresh.secret = ''))],
      ['a numeric refresh secret', (userId) => material(userId, (body) => (body.refresh.secret = 42))],
      [
        'a refresh secret with a ;',
        (userId) => material(userId, (body) => (body.refresh.secret = 'abc; Domain=evil.example')),
      ],
      [
        'a refresh secret with CR LF',
        (userId) => material(userId, (body) => (body.refresh.secret = 'abc\r\nSet-Cookie: x=1')),
      ],
      [
        'a refresh secret with a lone surrogate',
        async (userId) =>
          (await material(userId, (body) => (body.refresh.secret = 'SURROGATE'))).replace('SURROGATE', 'abc\\ud800'),
      ],
      ['a 5 KB refresh secret', (userId) => material(userId, (body) => (body.refresh.secret = 's'.repeat(5 * 1024)))],
      ['no expiresAt', (userId) => material(userId, (body) => delete body.refresh.expiresAt)],
      [
        'an expiresAt that is not a date',
        (userId) => material(userId, (body) => (body.refresh.expiresAt = 'tomorrow-ish')),
      ],
      ['no user', (userId) => material(userId, (body) => delete body.user)],
      ['a user without id', (userId) => material(userId, (body) => (body.user = { email: 'a@example.com' }))],
      ['an HTML page', async () => '<!doctype html><html><body>Maintenance</body></html>'],
      ['an empty body', async () => ''],
      ['JSON null', async () => 'null'],
      ['a JSON array', async () => '[]'],
      [
        'a 2 MB body',
        async (userId) =>
          JSON.stringify({ ...JSON.parse(await material(userId)), padding: 'p'.repeat(2 * 1024 * 1024) }),
      ],
    ];

    it.each(answers)('answers 503 and writes no cookie when refresh answers %s', async (_, makeBody) => {
      const session = await suite.emulator.createSession({ expired: true });
      const body = await makeBody(session.userId);
      suite.emulator.fault('refresh', {
        status: 200,
        body,
        contentType: body.startsWith('<') ? 'text/html' : 'application/json',
        times: 1,
      });
      const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
      expectUnavailable(res);
      expect(suite.emulator.calls('refresh')).toBe(1);
    });

    it('answers 503 to a 204 without a body', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.fault('refresh', { status: 204, body: '', times: 1 });
      expectUnavailable(await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) }));
    });
  });

  describe('refresh fails', () => {
    it.each([500, 502, 503, 504, 429, 408])(
      'answers 503, keeps the cookies and the session on a %i',
      async (status) => {
        const session = await suite.emulator.createSession({ expired: true });
        suite.emulator.fault('refresh', { status, body: JSON.stringify({ message: 'upstream trouble' }) });
        expectUnavailable(await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) }));
        expectUnavailable(await request(`${suite.app.url}/session`, { cookies: sessionCookies(session) }));
        const optional = await request(`${suite.app.url}/optional`, { cookies: sessionCookies(session) });
        expect(optional.body).toEqual({ userId: null });
        expect(optional.setCookies).toEqual([]);

        suite.emulator.clearFaults();
        const recovered = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
        expect(recovered.status).toBe(200);
        expect(recovered.body.userId).toBe(session.userId);
      },
    );

    it('answers 503 and keeps the cookies when refresh is slower than timeoutMs', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      suite.emulator.fault('refresh', { ...SLOWER_THAN_TIMEOUT, times: 1 });
      expectUnavailable(await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) }));
    });

    it.each([400, 401, 403, 404])(
      'answers 401 and clears both cookies on a %i (the refresh token is dead)',
      async (status) => {
        const session = await suite.emulator.createSession({ expired: true });
        suite.emulator.fault('refresh', {
          status,
          body: JSON.stringify({ message: 'Invalid refresh token' }),
          times: 1,
        });
        const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
        expect(res.status).toBe(401);
        expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
        expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
        expect(res.headers.get('cache-control')).toBe('private, no-store');
      },
    );

    it('answers 503 when Crossmint is unreachable, while JWTs keep verifying against a static key set', async () => {
      const unreachable = await createWatchedApp(
        { moduleOptions: options({ baseUrl: await closedPortUrl(), jwks: suite.emulator.jwks() }) },
        suite.logs,
      );
      try {
        const valid = await suite.emulator.createSession();
        expect((await request(`${unreachable.url}/protected`, { cookies: sessionCookies(valid) })).status).toBe(200);
        const expired = await suite.emulator.createSession({ expired: true });
        expectUnavailable(await request(`${unreachable.url}/protected`, { cookies: sessionCookies(expired) }));
        const logout = await request(`${unreachable.url}/logout`, { method: 'POST', cookies: sessionCookies(expired) });
        expect(logout.status).toBe(201);
        expect(isCleared(logout.cookies[JWT_COOKIE]) && isCleared(logout.cookies[REFRESH_COOKIE])).toBe(true);
      } finally {
        await unreachable.close();
      }
    });
  });

  describe('logout while Crossmint is down still clears the cookies', () => {
    it.each<[string, EmulatorFault]>([
      ['a 503', { status: 503 }],
      ['a 500 with an HTML page', { status: 500, body: '<html>down</html>', contentType: 'text/html' }],
      ['a timeout', SLOWER_THAN_TIMEOUT],
      ['a 401 (refresh token already dead)', { status: 401 }],
    ])('on %s', async (_, fault) => {
      const session = await suite.emulator.createSession();
      suite.emulator.fault('logout', { ...fault, times: 1 });
      const res = await request(`${suite.app.url}/logout`, { method: 'POST', cookies: sessionCookies(session) });
      expect(res.status).toBe(201);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      expect(suite.emulator.calls('logout')).toBe(1);
    });

    it('revokes the refresh token when Crossmint is up', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/logout`, { method: 'POST', cookies: sessionCookies(session) });
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      const replay = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
      expect(replay.status).toBe(401);
    });
  });

  describe('getUser on a bad answer', () => {
    it.each<[string, EmulatorFault]>([
      ['a 500', { status: 500 }],
      ['an HTML page', { status: 200, body: '<html></html>', contentType: 'text/html' }],
      ['a body without id', { status: 200, body: '{"email":"a@example.com"}' }],
      ['a JSON array', { status: 200, body: '[{"id":"x"}]' }],
      ['a 401 (API key refused)', { status: 401 }],
    ])('answers 503 to %s, never returning it as a user', async (_, fault) => {
      const user = suite.emulator.createUser();
      suite.emulator.fault('user', { ...fault, times: 1 });
      const res = await request(`${suite.app.url}/users/${user.id}`);
      expect(res.status).toBe(503);
      expect(res.body.id).toBeUndefined();
    });
  });

  describe('JWKS at cold start (no keys cached yet)', () => {
    it.each<[string, EmulatorFault]>([
      ['an HTML page', { status: 200, body: '<html>login</html>', contentType: 'text/html' }],
      ['an empty body', { status: 200, body: '' }],
      ['a 500', { status: 500 }],
      ['a 404', { status: 404 }],
      ['keys that are not an array', { status: 200, body: '{"keys":"nope"}' }],
      ['no keys field', { status: 200, body: '{}' }],
      ['a 2 MB body', { status: 200, body: JSON.stringify({ keys: [], padding: 'p'.repeat(2 * 1024 * 1024) }) }],
      ['an answer slower than timeoutMs', SLOWER_THAN_TIMEOUT],
    ])('answers 503, not 401, and keeps the cookies on %s', async (_, fault) => {
      const cold = await createWatchedApp({ moduleOptions: options() }, suite.logs);
      try {
        suite.emulator.fault('jwks', fault);
        const session = await suite.emulator.createSession({ expired: true });
        expectUnavailable(await request(`${cold.url}/protected`, { cookies: sessionCookies(session) }));
        expect(suite.emulator.calls('refresh')).toBe(0);
      } finally {
        await cold.close();
      }
    });

    it('does not hammer a failing JWKS endpoint, and recovers once it answers', async () => {
      const cold = await createWatchedApp({ moduleOptions: options() }, suite.logs);
      try {
        suite.emulator.fault('jwks', { status: 500 });
        const session = await suite.emulator.createSession();
        expectUnavailable(await request(`${cold.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } }));
        expectUnavailable(await request(`${cold.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } }));
        expect(suite.emulator.calls('jwks')).toBe(1);

        suite.emulator.clearFaults();
        await sleep(1_100); // the cold-start retry pause
        expect((await request(`${cold.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(200);
      } finally {
        await cold.close();
      }
    });

    it('never verifies with a symmetric key slipped into the key set', async () => {
      const cold = await createWatchedApp({ moduleOptions: options() }, suite.logs);
      try {
        const secret = new TextEncoder().encode('a-secret-the-attacker-knows-0123456789');
        const poisoned = {
          keys: [
            ...suite.emulator.jwks().keys,
            { kty: 'oct', kid: 'poison', alg: 'HS256', k: Buffer.from(secret).toString('base64url') },
          ],
        };
        suite.emulator.fault('jwks', { status: 200, body: JSON.stringify(poisoned) });
        const forged = await new SignJWT({ sub: 'user-forged' })
          .setProtectedHeader({ alg: 'HS256', kid: 'poison' })
          .setAudience(suite.emulator.projectId)
          .setExpirationTime('5m')
          .sign(secret);
        expect((await request(`${cold.url}/protected`, { cookies: { [JWT_COOKIE]: forged } })).status).toBe(401);
        const genuine = await suite.emulator.createSession();
        expect((await request(`${cold.url}/protected`, { cookies: { [JWT_COOKIE]: genuine.jwt } })).status).toBe(200);
      } finally {
        await cold.close();
      }
    });
  });

  describe('JWKS down while keys are cached', () => {
    it('keeps passing valid JWTs past jwksMaxAgeMs (stale keys served)', async () => {
      const stale = await createWatchedApp(
        { moduleOptions: options({ jwksMaxAgeMs: 0, jwksCooldownMs: 0 }) },
        suite.logs,
      );
      try {
        expect(
          (
            await request(`${stale.url}/protected`, {
              cookies: { [JWT_COOKIE]: (await suite.emulator.createSession()).jwt },
            })
          ).status,
        ).toBe(200);
        suite.emulator.fault('jwks', { status: 503 });
        for (let i = 0; i < 5; i++) {
          const session = await suite.emulator.createSession();
          expect((await request(`${stale.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(
            200,
          );
        }
        expect(suite.emulator.calls('jwks')).toBeGreaterThan(1);
      } finally {
        await stale.close();
      }
    });

    it('stops trusting cached keys past jwksMaxAgeMs + jwksMaxStaleMs: 503, not 401', async () => {
      const bounded = await createWatchedApp(
        { moduleOptions: options({ jwksMaxAgeMs: 0, jwksMaxStaleMs: 0 }) },
        suite.logs,
      );
      try {
        expect(
          (
            await request(`${bounded.url}/protected`, {
              cookies: { [JWT_COOKIE]: (await suite.emulator.createSession()).jwt },
            })
          ).status,
        ).toBe(200);
        suite.emulator.fault('jwks', { status: 503 });
        await sleep(5);
        expectUnavailable(
          await request(`${bounded.url}/protected`, { cookies: sessionCookies(await suite.emulator.createSession()) }),
        );
      } finally {
        await bounded.close();
      }
    });
  });

  describe('a flood of unknown kids', () => {
    let own: CrossmintAuthEmulator;
    let flood: WatchedApp;
    const COOLDOWN_MS = 1_000;

    beforeAll(async () => {
      own = await CrossmintAuthEmulator.start();
      flood = await createWatchedApp(
        { moduleOptions: { ...own.moduleOptions(), timeoutMs: TIMEOUT_MS, jwksCooldownMs: COOLDOWN_MS } },
        suite.logs,
      );
    });
    afterAll(async () => {
      await flood.close();
      await own.stop();
    });

    const randomKidTokens = (count: number) =>
      Promise.all(
        Array.from({ length: count }, (_, i) =>
          own.signJwt(
            { sub: 'user-flood', aud: own.projectId, exp: nowSec() + 60 },
            { key: 'foreign', kid: `kid-${i}-${Math.random()}` },
          ),
        ),
      );
    const sendAll = (tokens: string[]) =>
      Promise.all(
        tokens.map((jwt) => request(`${flood.url}/protected`, { headers: { authorization: `Bearer ${jwt}` } })),
      );

    it('fetches the JWKS at most once per cooldown window', async () => {
      const [first, second] = [await randomKidTokens(100), await randomKidTokens(100)];
      expect(
        (await request(`${flood.url}/protected`, { cookies: { [JWT_COOKIE]: (await own.createSession()).jwt } }))
          .status,
      ).toBe(200);
      expect(own.calls('jwks')).toBe(1);
      // One fetch per cooldown window begun since then: a loaded machine may take longer than one to send a flood.
      const firstFetchAt = Date.now();
      const windowsSince = (at: number) => Math.floor((Date.now() - at) / COOLDOWN_MS);

      // Within the cooldown that began with the first fetch: no fetch at all.
      expect((await sendAll(first)).map((res) => res.status)).toEqual(Array(100).fill(401));
      expect(own.calls('jwks')).toBeLessThanOrEqual(1 + windowsSince(firstFetchAt));

      // After it: one fetch for the whole flood.
      await sleep(COOLDOWN_MS + 100);
      const before = own.calls('jwks');
      const secondAt = Date.now();
      expect((await sendAll(second)).map((res) => res.status)).toEqual(Array(100).fill(401));
      expect(own.calls('jwks') - before).toBeGreaterThanOrEqual(1);
      expect(own.calls('jwks') - before).toBeLessThanOrEqual(1 + windowsSince(secondAt));
    });

    it('still picks up a genuinely rotated key once the cooldown has passed', async () => {
      await own.rotateKeys();
      await sleep(COOLDOWN_MS + 100);
      own.resetCalls();
      const session = await own.createSession();
      const res = await request(`${flood.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } });
      expect(res.status).toBe(200);
      expect(own.calls('jwks')).toBe(1);
    });
  });
});

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A loopback URL nobody listens on. */
async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}
