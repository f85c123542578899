import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  CROSSMINT_HTTP_CLIENT,
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintAuthService,
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  CurrentUser,
  FetchCrossmintHttpClient,
  Public,
  type CrossmintHttpClient,
  type CrossmintHttpRequest,
} from '../lib/index.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { isCleared, request } from './support/http.js';
import { createTestApp, type TestApp } from './support/test-app.js';

/** Stands in for @nestjs/config's ConfigService: options come from another provider at boot. */
@Injectable()
class AppConfig {
  constructor(readonly values: Record<string, string>) {}
}

@Module({})
class AppConfigModule {
  static with(values: Record<string, string>) {
    return {
      module: AppConfigModule,
      providers: [{ provide: AppConfig, useValue: new AppConfig(values) }],
      exports: [AppConfig],
    };
  }
}

@Controller('global')
class GlobalGuardController {
  @Get('private')
  private(@CurrentUser('userId') userId: string) {
    return { userId };
  }

  @Public()
  @Get('open')
  open() {
    return { open: true };
  }
}

@Public()
@Controller('public-controller')
class PublicController {
  @Get()
  get() {
    return { open: true };
  }
}

@Controller('items')
class ItemsController {
  @Get()
  list() {
    return { items: [] };
  }
}

/** Inherits the guarded handler of ItemsController: the same function, public here only. */
@Public()
@Controller('public-items')
class PublicItemsController extends ItemsController {}

/** A client that records what the module asks of Crossmint and passes it to the real fetch client. */
class RecordingHttpClient implements CrossmintHttpClient {
  readonly urls: string[] = [];
  private readonly inner = new FetchCrossmintHttpClient();

  request(req: CrossmintHttpRequest) {
    this.urls.push(`${req.method} ${new URL(req.url).pathname}`);
    return this.inner.request(req);
  }
}

describe('CrossmintAuthModule', () => {
  let emulator: CrossmintAuthEmulator;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());

  describe('forRootAsync with an injected config provider and a global guard', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await createTestApp({
        auth: CrossmintAuthModule.forRootAsync({
          imports: [AppConfigModule.with({ CROSSMINT_API_KEY: emulator.apiKey, CROSSMINT_BASE_URL: emulator.baseUrl })],
          inject: [AppConfig],
          useFactory: (config: AppConfig) => ({
            apiKey: config.values.CROSSMINT_API_KEY,
            baseUrl: config.values.CROSSMINT_BASE_URL,
          }),
          isGlobal: true,
        }),
        controllers: [GlobalGuardController, PublicController, ItemsController, PublicItemsController],
        providers: [{ provide: APP_GUARD, useClass: CrossmintAuthGuard }],
      });
    });
    afterAll(() => app.close());

    it('guards every route and fills @CurrentUser("userId")', async () => {
      const session = await emulator.createSession();
      expect((await request(`${app.url}/global/private`)).status).toBe(401);
      const res = await request(`${app.url}/global/private`, { cookies: { [JWT_COOKIE]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: session.userId });
    });

    it('lets @Public() routes and controllers through without credentials', async () => {
      expect((await request(`${app.url}/global/open`)).body).toEqual({ open: true });
      expect((await request(`${app.url}/public-controller`)).body).toEqual({ open: true });
    });

    it('reads @Public() per controller for an inherited handler, whichever route is hit first', async () => {
      expect((await request(`${app.url}/public-items`)).status).toBe(200);
      expect((await request(`${app.url}/items`)).status).toBe(401);
      expect((await request(`${app.url}/public-items`)).status).toBe(200);
    });
  });

  it('fails the boot with a message naming the bad option, without the key', async () => {
    const boot = (options: object) =>
      Test.createTestingModule({ imports: [CrossmintAuthModule.forRoot(options as never)] }).compile();
    await expect(boot({ ...emulator.moduleOptions(), timeoutMs: -1 })).rejects.toThrow(/`timeoutMs`/);
    await expect(boot({ apiKey: 'ck_production_abc' })).rejects.toThrow(/client key/);
    const error = await boot({ apiKey: 'sk_live_supersecretvalue' }).catch((e: Error) => e);
    expect(String(error)).toMatch(/sk_live/);
    expect(String(error)).not.toContain('supersecretvalue');
  });

  describe('the service', () => {
    let app: TestApp;
    let auth: CrossmintAuthService;
    let http: RecordingHttpClient;

    beforeAll(async () => {
      http = new RecordingHttpClient();
      app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), httpClient: http, timeoutMs: 500 } });
      auth = app.app.get(CrossmintAuthService);
    });
    afterAll(() => app.close());

    it('sends every Crossmint call through the injected HTTP client, with the API key', async () => {
      const expired = await emulator.createSession({ expired: true });
      await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret });
      await auth.getUser(expired.userId);
      expect(http.urls).toEqual(
        expect.arrayContaining([
          'GET /.well-known/jwks.json',
          'POST /api/2024-09-26/session/sdk/auth/refresh',
          `GET /api/2024-09-26/sdk/auth/user/${expired.userId}`,
        ]),
      );
      expect(app.app.get(CROSSMINT_HTTP_CLIENT)).toBe(http);
      expect(emulator.lastRequestHeaders('refresh')?.['x-api-key']).toBe(emulator.apiKey);
    });

    it('getSession({ jwt, refreshToken }) validates, or refreshes when the JWT is invalid', async () => {
      const valid = await emulator.createSession();
      const same = await auth.getSession({ jwt: valid.jwt, refreshToken: valid.refreshToken.secret });
      expect(same).toMatchObject({
        jwt: valid.jwt,
        userId: valid.userId,
        refreshed: false,
        refreshToken: { secret: valid.refreshToken.secret },
      });

      const expired = await emulator.createSession({ expired: true });
      const fresh = await auth.getSession({ jwt: expired.jwt, refreshToken: expired.refreshToken.secret });
      expect(fresh.refreshed).toBe(true);
      expect(fresh.userId).toBe(expired.userId);
      expect(fresh.refreshToken).toEqual({ secret: expect.any(String), expiresAt: expect.any(String) });
      expect(fresh.jwt).not.toBe(expired.jwt);

      await expect(auth.getSession({})).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });

    it('getSession(request, response) writes rotated cookies', async () => {
      const expired = await emulator.createSession({ expired: true });
      const res = await request(`${app.url}/session`, {
        cookies: { [JWT_COOKIE]: expired.jwt, [REFRESH_COOKIE]: expired.refreshToken.secret },
      });
      expect(res.body).toEqual({ userId: expired.userId, refreshed: true });
      expect(res.cookies[JWT_COOKIE].value).toMatch(/^ey/);
    });

    it('verifyCrossmintJwt returns the payload or throws CrossmintAuthenticationError', async () => {
      const session = await emulator.createSession();
      await expect(auth.verifyCrossmintJwt(session.jwt)).resolves.toMatchObject({
        sub: session.userId,
        aud: emulator.projectId,
      });
      await expect(auth.verifyCrossmintJwt(await emulator.mintJwt({ audience: 'other' }))).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
    });

    it('getUser returns the profile, encodes ids and never returns an error answer as a user', async () => {
      const user = emulator.createUser({
        id: 'email:a/b?c#d',
        email: 'a@example.com',
        twitter: { id: '1', username: 'a' },
      });
      await expect(auth.getUser(user.id)).resolves.toEqual(user);
      const res = await request(`${app.url}/users/${encodeURIComponent('missing-user')}`);
      expect(res.status).toBe(404);
      await expect(auth.getUser('..')).rejects.toMatchObject({ status: 400 });
      await expect(auth.getUser('.')).rejects.toMatchObject({ status: 400 });
      expect((await request(`${app.url}/users/${encodeURIComponent('a/../../session/sdk/auth/logout')}`)).status).toBe(
        400,
      );
      emulator.fault('user', { status: 500, times: 1 });
      await expect(auth.getUser(user.id)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });

    it('refresh() rejects a missing or empty secret as an authentication error, without calling Crossmint', async () => {
      emulator.resetCalls();
      for (const secret of [undefined, '', 'x'.repeat(5000)]) {
        await expect(auth.refresh(secret as never)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      }
      expect(emulator.calls('refresh')).toBe(0);
    });

    it('logout revokes the refresh token and clears the cookies', async () => {
      const session = await emulator.createSession();
      const res = await request(`${app.url}/logout`, {
        method: 'POST',
        cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
      });
      expect(res.status).toBe(201);
      expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
      expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
      await expect(auth.refresh(session.refreshToken.secret)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
    });
  });

  describe('CrossmintSessionInterceptor', () => {
    let app: TestApp;

    beforeAll(async () => {
      app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 500 } });
    });
    afterAll(() => app.close());

    it('sets the user when valid and never rejects', async () => {
      const session = await emulator.createSession();
      expect((await request(`${app.url}/optional`)).body).toEqual({ userId: null });
      expect((await request(`${app.url}/optional`, { cookies: { [JWT_COOKIE]: session.jwt } })).body).toEqual({
        userId: session.userId,
      });
    });

    it('refreshes and rotates cookies, clears them when the session is definitively invalid, keeps them on outages', async () => {
      const expired = await emulator.createSession({ expired: true });
      const rotated = await request(`${app.url}/optional`, {
        cookies: { [JWT_COOKIE]: expired.jwt, [REFRESH_COOKIE]: expired.refreshToken.secret },
      });
      expect(rotated.body).toEqual({ userId: expired.userId });
      expect(rotated.cookies[REFRESH_COOKIE].value).not.toBe(expired.refreshToken.secret);

      const revoked = await emulator.createSession({ expired: true });
      emulator.revokeRefreshToken(revoked.refreshToken.secret);
      const cleared = await request(`${app.url}/optional`, {
        cookies: { [JWT_COOKIE]: revoked.jwt, [REFRESH_COOKIE]: revoked.refreshToken.secret },
      });
      expect(cleared.status).toBe(200);
      expect(cleared.body).toEqual({ userId: null });
      expect(isCleared(cleared.cookies[REFRESH_COOKIE])).toBe(true);

      const outage = await emulator.createSession({ expired: true });
      emulator.fault('refresh', { status: 503, times: 1 });
      const kept = await request(`${app.url}/optional`, {
        cookies: { [JWT_COOKIE]: outage.jwt, [REFRESH_COOKIE]: outage.refreshToken.secret },
      });
      expect(kept.status).toBe(200);
      expect(kept.setCookies).toEqual([]);
      expect(kept.headers.get('retry-after')).toBeNull();
    });
  });

  it('answers 503, not 500, when a refresh store fails in its own way', async () => {
    const brokenStore = { run: () => Promise.reject(new Error('ECONNREFUSED')) };
    const app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), refreshStore: brokenStore } });
    try {
      const expired = await emulator.createSession({ expired: true });
      const res = await request(`${app.url}/protected`, {
        cookies: { [JWT_COOKIE]: expired.jwt, [REFRESH_COOKIE]: expired.refreshToken.secret },
      });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(res.setCookies).toEqual([]);
    } finally {
      await app.close();
    }
  });

  describe('JWKS cache', () => {
    it('answers 503 (not 401) when the JWKS endpoint is down at cold start, and keeps cookies', async () => {
      const app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 300 } });
      try {
        const session = await emulator.createSession();
        emulator.fault('jwks', { status: 500 });
        const res = await request(`${app.url}/protected`, {
          cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
        });
        expect(res.status).toBe(503);
        expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
        expect(res.setCookies).toEqual([]);
      } finally {
        emulator.clearFaults();
        await app.close();
      }
    });

    it('keeps serving the last good keys past their max age while the endpoint is down', async () => {
      const app = await createTestApp({
        moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 300, jwksMaxAgeMs: 50, jwksCooldownMs: 0 },
      });
      try {
        const session = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(200);
        emulator.fault('jwks', { status: 500 });
        await new Promise((resolve) => setTimeout(resolve, 120));
        emulator.resetCalls();
        const later = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: later.jwt } })).status).toBe(200);
        expect(emulator.calls('jwks')).toBeGreaterThan(0);
      } finally {
        emulator.clearFaults();
        await app.close();
      }
    });

    it('does not hammer a failing JWKS endpoint once cached keys are past their stale window', async () => {
      const app = await createTestApp({
        moduleOptions: {
          ...emulator.moduleOptions(),
          timeoutMs: 300,
          jwksMaxAgeMs: 20,
          jwksMaxStaleMs: 20,
          jwksCooldownMs: 0,
        },
      });
      try {
        const session = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(200);
        emulator.fault('jwks', { status: 500 });
        await new Promise((resolve) => setTimeout(resolve, 80));
        emulator.resetCalls();
        const statuses = await Promise.all(
          Array.from(
            { length: 20 },
            async () =>
              (
                await request(`${app.url}/protected`, {
                  cookies: { [JWT_COOKIE]: (await emulator.createSession()).jwt },
                })
              ).status,
          ),
        );
        expect(statuses).toEqual(Array(20).fill(503));
        expect(emulator.calls('jwks')).toBeLessThanOrEqual(2);
      } finally {
        emulator.clearFaults();
        await app.close();
      }
    });

    it('re-fetches for unknown kids at most once per cooldown', async () => {
      const app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), jwksCooldownMs: 60_000 } });
      try {
        const session = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(200);
        emulator.resetCalls();
        const flood = await Promise.all(
          Array.from({ length: 50 }, async (_, i) => {
            const token = await emulator.signJwt(
              { sub: 'u', aud: emulator.projectId, exp: nowSec() + 60 },
              { key: 'foreign', kid: `kid-${i}` },
            );
            return (await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: token } })).status;
          }),
        );
        expect(flood).toEqual(Array(50).fill(401));
        expect(emulator.calls('jwks')).toBeLessThanOrEqual(1);
      } finally {
        await app.close();
      }
    });

    it('picks up a rotated key on its first token', async () => {
      const app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), jwksCooldownMs: 0 } });
      try {
        const before = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: before.jwt } })).status).toBe(200);
        await emulator.rotateKeys({ algorithm: 'RS256' });
        emulator.resetCalls();
        const after = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: after.jwt } })).status).toBe(200);
        expect(emulator.calls('jwks')).toBe(1);
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: before.jwt } })).status).toBe(200);
      } finally {
        await app.close();
      }
    });

    it('verifies against a static jwks option with no network', async () => {
      const app = await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), jwks: emulator.jwks() } });
      try {
        emulator.resetCalls();
        const session = await emulator.createSession();
        expect((await request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: session.jwt } })).status).toBe(200);
        expect(emulator.calls('jwks')).toBe(0);
      } finally {
        await app.close();
      }
    });
  });
});
