import { describe, expect, it } from '@jest/globals';
import { CROSSMINT_AUTH_DEFAULTS } from '../../lib/index.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import type { CrossmintAuthModuleOptions } from '../../lib/index.js';
import { encodeBase58 } from '../../lib/utils/base58.js';

const apiKey = (env = 'production', project = 'proj-1') =>
  `sk_${env}_${encodeBase58(new TextEncoder().encode(`${project}.x:sig`))}`;
const resolve = (options: Partial<CrossmintAuthModuleOptions>) =>
  resolveCrossmintAuthOptions({ apiKey: apiKey(), ...options } as CrossmintAuthModuleOptions);

describe('resolveCrossmintAuthOptions', () => {
  it('fills in the defaults', () => {
    const options = resolve({});
    expect(options).toMatchObject({
      baseUrl: 'https://www.crossmint.com',
      projectId: 'proj-1',
      acceptBearerToken: true,
      clockToleranceSec: CROSSMINT_AUTH_DEFAULTS.clockToleranceSec,
      timeoutMs: CROSSMINT_AUTH_DEFAULTS.timeoutMs,
      cookies: {
        jwt: 'crossmint-jwt',
        refreshToken: 'crossmint-refresh-token',
        path: '/',
        sameSite: 'lax',
        secure: 'auto',
        httpOnlyRefreshToken: false,
      },
    });
    expect(options.routes).toBeUndefined();
  });

  it.each([
    ['staging', 'https://staging.crossmint.com'],
    ['development', 'http://localhost:3000'],
  ])('derives the base URL of %s keys', (env, url) => {
    expect(resolve({ apiKey: apiKey(env) }).baseUrl).toBe(url);
  });

  it('lets baseUrl and projectId override the key', () => {
    expect(resolve({ baseUrl: 'http://127.0.0.1:9999/', projectId: 'other' })).toMatchObject({
      baseUrl: 'http://127.0.0.1:9999',
      projectId: 'other',
    });
    expect(resolve({ apiKey: 'sk_production_0OIl', projectId: 'explicit' }).projectId).toBe('explicit');
  });

  it('makes the refresh cookie HttpOnly by default when the refresh route is on', () => {
    expect(resolve({ routes: { refresh: '/auth/refresh' } }).cookies.httpOnlyRefreshToken).toBe(true);
    expect(
      resolve({ routes: { refresh: '/auth/refresh' }, cookies: { httpOnlyRefreshToken: false } }).cookies
        .httpOnlyRefreshToken,
    ).toBe(false);
    // Without a refresh route the browser SDK must read the refresh cookie itself.
    expect(resolve({ routes: { logout: '/auth/logout' } }).cookies.httpOnlyRefreshToken).toBe(false);
  });

  it.each<[string, Partial<CrossmintAuthModuleOptions>, RegExp]>([
    ['missing apiKey', { apiKey: undefined }, /`apiKey` is required/],
    ['undecodable key without projectId', { apiKey: 'sk_production_0OIl' }, /`projectId`/],
    ['baseUrl', { baseUrl: 'ftp://x' }, /`baseUrl`/],
    ['baseUrl with credentials', { baseUrl: 'https://u:p@x.com' }, /`baseUrl`/],
    ['timeoutMs', { timeoutMs: 0 }, /`timeoutMs`/],
    ['clockToleranceSec', { clockToleranceSec: -1 }, /`clockToleranceSec`/],
    ['acceptBearerToken', { acceptBearerToken: 'yes' as never }, /`acceptBearerToken`/],
    ['verifiedTokenCacheSize', { verifiedTokenCacheSize: 1.5 }, /`verifiedTokenCacheSize`/],
    ['jwks', { jwks: { keys: [] } }, /`jwks`/],
    ['httpClient', { httpClient: {} as never }, /`httpClient`/],
    ['cookie name', { cookies: { jwt: 'bad name' } }, /`cookies.jwt`/],
    ['same cookie names', { cookies: { jwt: 'a', refreshToken: 'a' } }, /`cookies.refreshToken`/],
    ['cookie path', { cookies: { path: 'no-slash' } }, /`cookies.path`/],
    ['cookie domain', { cookies: { domain: 'a;b' } }, /`cookies.domain`/],
    ['sameSite', { cookies: { sameSite: 'loose' as never } }, /`cookies.sameSite`/],
    ['sameSite none without Secure', { cookies: { sameSite: 'none', secure: false } }, /`cookies.sameSite`/],
    ['__Host- with a domain', { cookies: { jwt: '__Host-jwt', domain: 'example.com' } }, /__Host-/],
    ['__Host- without Secure', { cookies: { refreshToken: '__Host-rt', secure: false } }, /__Host-/],
    ['route path', { routes: { refresh: 'auth/refresh' } }, /`routes.refresh`/],
    ['allowed origins', { routes: { refresh: '/r', allowedOrigins: 'x' as never } }, /`routes.allowedOrigins`/],
    ['routes without a path', { routes: {} }, /`routes`/],
    ['routes sharing one path', { routes: { refresh: '/auth', logout: '/auth' } }, /`routes.logout`/],
  ])('refuses a bad %s with a message naming the option', (_, options, message) => {
    expect(() => resolve(options)).toThrow(message);
  });

  it('keeps the API key out of every error', () => {
    const key = apiKey('production', 'secret-project');
    try {
      resolve({ apiKey: key, timeoutMs: -5 });
    } catch (error) {
      expect((error as Error).message).not.toContain(key);
    }
  });
});
