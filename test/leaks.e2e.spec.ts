import { beforeAll, describe, expect, it } from '@jest/globals';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request, type TestResponse } from './support/http.js';

const AUTH_COOKIE = new RegExp(`^(${JWT_COOKIE}|${REFRESH_COOKIE})(-[\\w-]+)?$`);

interface Exchange {
  scenario: string;
  sent: string[];
  res: TestResponse;
  /** The refresh route answers the new JWT in its body by design (the browser SDK reads it). */
  allowedInBody?: string;
}

/**
 * SECURITY.md: secret leakage via logs and errors. Runs many scenarios — successes, refreshes, forgeries,
 * every kind of upstream failure, with Crossmint answers that echo the secrets back — while capturing every
 * Nest log line and every response, then checks that no JWT, refresh secret or the API key shows up
 * anywhere but in the Set-Cookie that is meant to carry it.
 */
describe('security: no secret leaks into logs, bodies or headers', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => {
      const routes = { refresh: '/api/auth/refresh', logout: '/api/auth/logout' };
      return {
        app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 300, routes } },
        coldApp: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 300 } },
      };
    },
  });
  const exchanges: Exchange[] = [];
  /** Every secret seen: sent by a test client, minted by the emulator or written by the module. */
  const secrets = new Set<string>();
  let scenario = '';

  beforeAll(() => watch(suite.emulator.apiKey));

  /** A secret and the parts of it a careless log line might print. */
  function watch(secret: string | undefined): void {
    if (!secret) return;
    secrets.add(secret);
    for (const part of secret.split(/[._]/)) if (part.length >= 20 && !part.startsWith('eyJhbGciOi')) secrets.add(part);
  }
  function watchSession<T extends { jwt: string; refreshToken: { secret: string } }>(session: T): T {
    watch(session.jwt);
    watch(session.refreshToken.secret);
    return session;
  }

  async function send(base: string, path: string, init: Parameters<typeof request>[1] = {}): Promise<TestResponse> {
    const sent = [
      ...Object.values(init.cookies ?? {}),
      init.headers?.authorization?.replace(/^Bearer /, '') ?? '',
    ].filter(Boolean);
    sent.forEach(watch);
    const res = await request(`${base}${path}`, init);
    for (const [name, cookie] of Object.entries(res.cookies)) if (AUTH_COOKIE.test(name)) watch(cookie.value);
    const newJwt = res.cookies[JWT_COOKIE]?.value;
    exchanges.push({
      scenario,
      sent,
      res,
      allowedInBody: path === '/api/auth/refresh' && res.body?.jwt === newJwt ? newJwt : undefined,
    });
    expect(res.status < 500 || res.status === 503).toBe(true);
    return res;
  }

  const expired = async () => watchSession(await suite.emulator.createSession({ expired: true }));
  const valid = async () => watchSession(await suite.emulator.createSession());
  /** An upstream answer that repeats every secret it was given, as a chatty error page might. */
  const echo = (status: number, ...values: string[]) => ({
    status,
    body: JSON.stringify({ message: `rejected ${values.join(' ')} with key ${suite.emulator.apiKey}` }),
    times: 1,
  });

  const scenarios: Array<[string, () => Promise<void>]> = [
    [
      'valid cookie',
      async () => void (await send(suite.app.url, '/protected', { cookies: sessionCookies(await valid()) })),
    ],
    [
      'valid Bearer',
      async () =>
        void (await send(suite.app.url, '/protected', { headers: { authorization: `Bearer ${(await valid()).jwt}` } })),
    ],
    [
      'refresh',
      async () => void (await send(suite.app.url, '/protected', { cookies: sessionCookies(await expired()) })),
    ],
    [
      'refresh via getSession',
      async () => void (await send(suite.app.url, '/session', { cookies: sessionCookies(await expired()) })),
    ],
    [
      'refresh via the interceptor',
      async () => void (await send(suite.app.url, '/optional', { cookies: sessionCookies(await expired()) })),
    ],
    [
      'concurrent refresh',
      async () => {
        const session = await expired();
        await Promise.all(
          Array.from({ length: 10 }, () => send(suite.app.url, '/protected', { cookies: sessionCookies(session) })),
        );
      },
    ],
    [
      'revoked refresh token',
      async () => {
        const session = await expired();
        suite.emulator.revokeRefreshToken(session.refreshToken.secret);
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
      },
    ],
    [
      'forged tokens',
      async () => {
        const claims = { sub: 'user-forged', aud: suite.emulator.projectId, exp: nowSec() + 60 };
        for (const token of [
          await suite.emulator.signJwt(claims, { alg: 'none' }),
          await suite.emulator.signJwt(claims, { alg: 'HS256' }),
          await suite.emulator.signJwt(claims, { key: 'foreign' }),
          await suite.emulator.signJwt(claims, { key: 'foreign', kid: 'kid-unknown' }),
          await suite.emulator.mintJwt({ audience: 'another-project' }),
        ]) {
          watch(token);
          await send(suite.app.url, '/protected', { cookies: { [JWT_COOKIE]: token } });
          await send(suite.app.url, '/protected', { headers: { authorization: `Bearer ${token}` } });
          await send(suite.app.url, '/optional', { cookies: { [JWT_COOKIE]: token } });
        }
      },
    ],
    [
      'refresh 4xx echoing the secret',
      async () => {
        const session = await expired();
        suite.emulator.fault('refresh', echo(401, session.refreshToken.secret, session.jwt));
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
      },
    ],
    [
      'refresh 5xx echoing the secret',
      async () => {
        const session = await expired();
        suite.emulator.fault('refresh', echo(500, session.refreshToken.secret));
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
        await send(suite.app.url, '/session', { cookies: sessionCookies(session) });
      },
    ],
    [
      'refresh HTML echoing the secret',
      async () => {
        const session = await expired();
        suite.emulator.fault('refresh', {
          status: 200,
          body: `<html>${session.refreshToken.secret} ${suite.emulator.apiKey}</html>`,
          contentType: 'text/html',
          times: 1,
        });
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
      },
    ],
    [
      'refresh 200 with material that does not verify',
      async () => {
        const session = await expired();
        const jwt = await suite.emulator.signJwt(
          { sub: session.userId, aud: suite.emulator.projectId, exp: nowSec() + 60 },
          { key: 'foreign' },
        );
        const secret = 'leaky-new-secret-0123456789abcdef';
        [jwt, secret].forEach(watch);
        suite.emulator.fault('refresh', {
          status: 200,
          body: JSON.stringify({
            jwt,
            refresh: { secret, expiresAt: '2100-01-01T00:00:00Z' },
            user: { id: session.userId },
          }),
          times: 1,
        });
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
      },
    ],
    [
      'refresh 200 with a malformed secret',
      async () => {
        const session = await expired();
        const jwt = await suite.emulator.mintJwt({ sub: session.userId });
        watch(jwt);
        watch('malformed-secret-with-a-semicolon');
        suite.emulator.answerNextRefresh({ jwt, userId: session.userId, secret: 'malformed-secret-with-a-semicolon;' });
        await send(suite.app.url, '/protected', { cookies: sessionCookies(session) });
      },
    ],
    [
      'refresh timeout',
      async () => {
        suite.emulator.fault('refresh', { delayMs: 600, times: 1 });
        await send(suite.app.url, '/protected', { cookies: sessionCookies(await expired()) });
      },
    ],
    [
      'logout',
      async () =>
        void (await send(suite.app.url, '/logout', { method: 'POST', cookies: sessionCookies(await valid()) })),
    ],
    [
      'logout while Crossmint fails, echoing the secret',
      async () => {
        const session = await valid();
        suite.emulator.fault('logout', echo(503, session.refreshToken.secret));
        await send(suite.app.url, '/logout', { method: 'POST', cookies: sessionCookies(session) });
      },
    ],
    [
      'getUser failing, echoing the key',
      async () => {
        const user = suite.emulator.createUser();
        suite.emulator.fault('user', echo(500, user.id));
        await send(suite.app.url, `/users/${user.id}`);
        await send(suite.app.url, '/users/..%2Fsecret');
        await send(suite.app.url, '/users/nobody');
      },
    ],
    [
      'JWKS down at cold start, answering with the key',
      async () => {
        suite.emulator.fault('jwks', echo(500));
        await send(suite.coldApp.url, '/protected', { cookies: sessionCookies(await expired()) });
        suite.emulator.clearFaults();
      },
    ],
    [
      'oversized and malformed input',
      async () => {
        const session = await valid();
        await send(suite.app.url, '/protected', {
          cookies: {
            [JWT_COOKIE]: `${session.jwt}${'x'.repeat(9000)}`,
            [REFRESH_COOKIE]: `${session.refreshToken.secret}%3B`,
          },
        });
        await send(suite.app.url, '/protected', {
          headers: { authorization: `Bearer ${session.jwt} ${session.refreshToken.secret}` },
        });
      },
    ],
    [
      'refresh route',
      async () => {
        const json = { 'content-type': 'application/json', origin: suite.app.url };
        const refresh = (session: { jwt: string; refreshToken: { secret: string } }, headers = json) =>
          send(suite.app.url, '/api/auth/refresh', {
            method: 'POST',
            headers,
            body: '{}',
            cookies: sessionCookies(session),
          });
        await refresh(await valid());
        const revoked = await valid();
        suite.emulator.fault('refresh', echo(401, revoked.refreshToken.secret));
        await refresh(revoked);
        const down = await valid();
        suite.emulator.fault('refresh', echo(502, down.refreshToken.secret));
        await refresh(down);
        await refresh(await valid(), { ...json, origin: 'https://evil.example' });
        const loggedOut = await valid();
        suite.emulator.fault('logout', echo(500, loggedOut.refreshToken.secret));
        await send(suite.app.url, '/api/auth/logout', {
          method: 'POST',
          headers: { origin: suite.app.url },
          cookies: sessionCookies(loggedOut),
        });
      },
    ],
  ];

  it('keeps every JWT, refresh secret and the API key out of logs, bodies and headers', async () => {
    const logRanges: Array<[string, number, number]> = [];
    for (const [name, run] of scenarios) {
      scenario = name;
      const from = suite.logs.entries.length;
      await run();
      logRanges.push([name, from, suite.logs.entries.length]);
    }

    // The capture works: the run produced the warnings and failures it was meant to.
    expect(exchanges.length).toBeGreaterThanOrEqual(50);
    expect(suite.logs.entries.some((entry) => entry.level === 'warn' && /refresh/.test(entry.text))).toBe(true);
    expect(new Set(exchanges.map(({ res }) => res.status))).toEqual(new Set([200, 201, 400, 401, 403, 404, 503]));
    expect(exchanges.some(({ allowedInBody }) => allowedInBody)).toBe(true);
    expect(secrets.size).toBeGreaterThan(50);

    const leaks: string[] = [];
    const find = (where: string, text: string) => {
      for (const secret of secrets) if (text.includes(secret)) leaks.push(`${where}: ${secret.slice(0, 12)}…`);
    };
    for (const [name, from, to] of logRanges) {
      for (const entry of suite.logs.entries.slice(from, to)) find(`log during "${name}"`, entry.text);
    }
    for (const { scenario: name, sent, res, allowedInBody } of exchanges) {
      find(`body of "${name}" (${res.status})`, allowedInBody ? res.text.replaceAll(allowedInBody, '') : res.text);
      res.headers.forEach((value, header) => {
        if (header !== 'set-cookie') find(`header ${header} of "${name}"`, value);
      });
      for (const [cookieName, cookie] of Object.entries(res.cookies)) {
        // A Set-Cookie may carry new material under an auth cookie name, and nothing else.
        if (!AUTH_COOKIE.test(cookieName)) find(`Set-Cookie ${cookieName} of "${name}"`, cookie.raw);
        else find(`Set-Cookie attributes of "${name}"`, cookie.raw.slice(cookie.raw.indexOf(';')));
        if (cookie.value && sent.includes(cookie.value))
          leaks.push(`Set-Cookie of "${name}" echoes a credential the request sent`);
      }
    }
    expect(leaks).toEqual([]);
    expect(suite.logs.errors()).toEqual([]);
  });
});
