import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CrossmintAuthService } from '../lib/index.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { isCleared, request } from './support/http.js';
import { LogCapture } from './support/log-capture.js';
import { JWT_COOKIE, REFRESH_COOKIE, createWatchedApp, sessionCookies, type WatchedApp } from './support/security.js';

/**
 * Crossmint answers 401 both to a dead refresh token and to a refused API key. The first signs one user out;
 * taking the second for it would sign out every user whose JWT expires, silently.
 */
describe('security: Crossmint refusing the API key is not a dead refresh token', () => {
  let emulator: CrossmintAuthEmulator;
  let app: WatchedApp;
  const logs = new LogCapture();

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
  });
  // A fresh app per test: the module remembers the last check of the key for a few seconds.
  beforeEach(async () => {
    emulator.reset();
    app = await createWatchedApp({ moduleOptions: emulator.moduleOptions() }, logs);
  });
  afterEach(async () => {
    await app.close();
    logs.clear();
  });
  afterAll(() => emulator.stop());

  const service = () => app.app.get(CrossmintAuthService);

  it('answers 503 with Retry-After and keeps the cookies while the key is refused, then the same cookies work again', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.revokeApiKey();
    for (const path of ['/protected', '/session', '/protected']) {
      const res = await request(`${app.url}${path}`, { cookies: sessionCookies(session) });
      expect(res.status).toBe(503);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(res.setCookies).toEqual([]);
    }
    const optional = await request(`${app.url}/optional`, { cookies: sessionCookies(session) });
    expect(optional.body).toEqual({ userId: null });
    expect(optional.setCookies).toEqual([]);
    expect(service().apiKeyStatus).toBe('refused');
    // One check of the key for all four refusals.
    expect(emulator.calls('user')).toBe(1);

    emulator.restoreApiKey();
    const back = await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    expect(back.status).toBe(200);
    expect(back.body.userId).toBe(session.userId);
  });

  it('logs it once as a configuration fault naming the likely cause, without the key', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.revokeApiKey();
    for (let i = 0; i < 5; i++) await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    const errors = logs.errors();
    expect(errors).toHaveLength(1);
    expect(errors[0].text).toMatch(/API key/);
    expect(errors[0].text).toMatch(/CROSSMINT_API_KEY/);
    expect(logs.text()).not.toContain(emulator.apiKey);
    expect(logs.text()).not.toContain(session.refreshToken.secret);
  });

  it('still answers 401 and clears the cookies for a dead refresh token when the key is fine', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.revokeRefreshToken(session.refreshToken.secret);
    const res = await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(401);
    expect(isCleared(res.cookies[JWT_COOKIE]) && isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    expect(service().apiKeyStatus).toBe('accepted');
    expect(logs.errors()).toEqual([]);
  });

  it('keeps the cookies when the key cannot be checked (the lookup meets an outage)', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.revokeApiKey();
    emulator.fault('user', { status: 503 });
    const res = await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(503);
    expect(res.setCookies).toEqual([]);
    expect(service().apiKeyStatus).toBe('unknown');

    emulator.reset();
    const back = await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    expect(back.status).toBe(200);
  });

  it("reports 'unknown' before any refusal made the key worth checking, and never checks it on the hot path", async () => {
    const session = await emulator.createSession();
    const res = await request(`${app.url}/protected`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(200);
    expect(service().apiKeyStatus).toBe('unknown');
    expect(emulator.calls('user')).toBe(0);
  });
});
