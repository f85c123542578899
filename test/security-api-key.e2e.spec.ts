import { describe, expect, it } from '@jest/globals';
import { CrossmintAuthService } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { isCleared, request } from './support/http.js';

/**
 * Crossmint answers 401 both to a dead refresh token and to a refused API key. The first signs one user out;
 * taking the second for it would sign out every user whose JWT expires, silently.
 */
describe('security: Crossmint refusing the API key is not a dead refresh token', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({ app: { moduleOptions: emulator.moduleOptions() } }),
    // A fresh app per test: the module remembers the last check of the key for a few seconds.
    appsPerTest: true,
    logs: 'clear',
  });

  const service = () => suite.app.app.get(CrossmintAuthService);

  it('answers 503 with Retry-After and keeps the cookies while the key is refused, then the same cookies work again', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeApiKey();
    for (const path of ['/protected', '/session', '/protected']) {
      const res = await request(`${suite.app.url}${path}`, { cookies: sessionCookies(session) });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.setCookies).toEqual([]);
    }
    const optional = await request(`${suite.app.url}/optional`, { cookies: sessionCookies(session) });
    expect(optional.body).toEqual({ userId: null });
    expect(optional.setCookies).toEqual([]);
    expect(service().apiKeyStatus).toBe('refused');
    // One check of the key for all four refusals.
    expect(suite.emulator.calls('user')).toBe(1);

    suite.emulator.restoreApiKey();
    const back = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(back.status).toBe(200);
    expect(back.body.userId).toBe(session.userId);
  });

  it('logs it once as a configuration fault naming the likely cause, without the key', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeApiKey();
    for (let i = 0; i < 5; i++) await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    const errors = suite.logs.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0].text).toMatch(/API key/);
    expect(errors[0].text).toMatch(/CROSSMINT_API_KEY/);
    expect(suite.logs.text()).not.toContain(suite.emulator.apiKey);
    expect(suite.logs.text()).not.toContain(session.refreshToken.secret);
  });

  it('still answers 401 and clears the cookies for a dead refresh token when the key is fine', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(401);
    expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    expect(service().apiKeyStatus).toBe('accepted');
    expect(suite.logs.errors()).toEqual([]);
  });

  it('keeps the cookies when the key cannot be checked (the lookup meets an outage)', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeApiKey();
    suite.emulator.fault('user', { status: 503 });
    const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(503);
    expect(res.setCookies).toEqual([]);
    expect(service().apiKeyStatus).toBe('unknown');

    suite.emulator.reset();
    const back = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(back.status).toBe(200);
  });

  it("reports 'unknown' before any refusal made the key worth checking, and never checks it on the hot path", async () => {
    const session = await suite.emulator.createSession();
    const res = await request(`${suite.app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(200);
    expect(service().apiKeyStatus).toBe('unknown');
    expect(suite.emulator.calls('user')).toBe(0);
  });
});
