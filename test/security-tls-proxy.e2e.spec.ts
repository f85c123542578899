import { describe, expect, it } from '@jest/globals';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { cookieHeader, parseSetCookies } from './support/http.js';
import { rawRequest } from './support/raw-http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

/**
 * `secure: 'auto'` behind a TLS proxy: nginx's `proxy_pass http://localhost:3000` forwards `Host: localhost:3000`
 * over plain http with `X-Forwarded-Proto: https`, and the app does not trust the proxy (no `trust proxy`).
 */
describe.each(PLATFORM_VARIANTS)(
  "security: secure: 'auto' behind a TLS proxy on $name",
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({ app: { moduleOptions: emulator.moduleOptions(), platform, cookiePlugin } }),
      logs: 'clear',
    });

    async function refreshVia(headers: Array<[string, string]>) {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await rawRequest(suite.app.url, {
        path: '/protected',
        headers: [...headers, ['Cookie', cookieHeader(sessionCookies(session))]],
      });
      expect(res.status).toBe(200);
      return parseSetCookies(res.headers['set-cookie'] ?? []);
    }

    it.each<[string, Array<[string, string]>]>([
      ['X-Forwarded-Proto: https', [['X-Forwarded-Proto', 'https']]],
      ['X-Forwarded-Proto: https, http (two proxies)', [['X-Forwarded-Proto', 'https, http']]],
      ['Forwarded: for=…;proto=https', [['Forwarded', 'for=203.0.113.7;proto=https;host=app.example.com']]],
      ['X-Forwarded-For alone', [['X-Forwarded-For', '203.0.113.7']]],
      ['X-Forwarded-Host alone', [['X-Forwarded-Host', 'app.example.com']]],
    ])('sets Secure for Host localhost:3000 with %s', async (_, forwarded) => {
      for (const host of ['localhost:3000', '127.0.0.1:3000']) {
        const cookies = await refreshVia([['Host', host], ...forwarded]);
        expect(cookies[JWT_COOKIE].attributes.secure).toBe(true);
        expect(cookies[REFRESH_COOKIE].attributes.secure).toBe(true);
      }
    });

    it('still leaves Secure off for plain-http development on localhost, with no forwarding header', async () => {
      const cookies = await refreshVia([['Host', 'localhost:3000']]);
      expect(cookies[JWT_COOKIE].attributes.secure).toBeUndefined();
      expect(cookies[REFRESH_COOKIE].attributes.secure).toBeUndefined();
    });

    it('warns once when it leaves Secure off with NODE_ENV=production', async () => {
      const nodeEnv = process.env.NODE_ENV;
      process.env.NODE_ENV = 'production';
      try {
        await refreshVia([['Host', 'localhost:3000']]);
        await refreshVia([['Host', 'localhost:3000']]);
      } finally {
        process.env.NODE_ENV = nodeEnv;
      }
      const warnings = suite.logs.entries.filter(
        (entry) => entry.level === 'warn' && /without Secure/.test(entry.text),
      );
      expect(warnings).toHaveLength(1);
      expect(warnings[0].text).toMatch(/X-Forwarded-Proto/);
    });

    it("gives the JWT cookie the JWT's lifetime (Max-Age to its exp) and the refresh cookie the refresh token's expiry", async () => {
      const cookies = await refreshVia([['Host', 'app.example.com']]);
      const jwt = cookies[JWT_COOKIE];
      const exp = JSON.parse(Buffer.from(jwt.value.split('.')[1], 'base64url').toString()).exp;
      const maxAge = Number(jwt.attributes['max-age']);
      expect(Math.abs(maxAge - (exp - nowSec()))).toBeLessThanOrEqual(2);
      expect(jwt.attributes.expires).toBeUndefined();
      const refreshExpires = Date.parse(String(cookies[REFRESH_COOKIE].attributes.expires));
      expect(refreshExpires - Date.now()).toBeGreaterThan(6 * 24 * 3600 * 1000);
    });
  },
);
