import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Controller, Get, Injectable, Req, UseGuards, UseInterceptors, type ExecutionContext } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import {
  CrossmintAuthGuard,
  CrossmintSessionInterceptor,
  Public,
  type CrossmintAuthUser,
  type CrossmintSession,
  type RequestLike,
  type ResponseLike,
} from '../lib/index.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { isCleared, request } from './support/http.js';
import { createTestApp, PLATFORM_VARIANTS, type TestApp } from './support/test-app.js';

const JWT = 'crossmint-jwt';
const REFRESH = 'crossmint-refresh-token';

// What the seams take and return, spelled from the package's public types (the module's own `HttpContext` is internal).
type SeamRequest = RequestLike & { user?: unknown };
interface SeamHttp {
  request: SeamRequest;
  response?: ResponseLike;
}

/** The path of an Express or Fastify request, without its query. */
const pathOf = (request: { url?: string }) => String(request.url ?? '').split('?')[0];

/**
 * A request built from the `x-crossmint-token` header alone (as a Bearer token), with the platform's response. It is
 * parked on the real request as `crossmint`, where the handler finds what `setRequestUser` put on it.
 */
function headerOnlyHttp(context: ExecutionContext): SeamHttp {
  const http = context.switchToHttp();
  const incoming = http.getRequest();
  const token = incoming.headers['x-crossmint-token'];
  const headerOnly: SeamRequest = { headers: typeof token === 'string' ? { authorization: `Bearer ${token}` } : {} };
  incoming.crossmint = headerOnly;
  return { request: headerOnly, response: http.getResponse() };
}

// ---- The subclasses under test: none declares a constructor; Nest injects the base class's dependencies. ----

/** `isPublic` widened: every route under /health is open, by path, on top of `@Public()`. */
@Injectable()
class HealthOpenGuard extends CrossmintAuthGuard {
  protected override isPublic(context: ExecutionContext): boolean {
    const path = pathOf(context.switchToHttp().getRequest());
    return super.isPublic(context) || path === '/health' || path.startsWith('/health/');
  }
}

/** `setRequestUser` reshaped: `{ id }` on `request.account`, nothing on `request.user`. */
@Injectable()
class AccountGuard extends CrossmintAuthGuard {
  protected override setRequestUser(request: SeamRequest & { account?: unknown }, session: CrossmintSession): true {
    request.account = { id: session.userId };
    return true;
  }
}

/**
 * `getRequestResponse` replaced by `headerOnlyHttp`: the real request's cookies and Authorization header are never
 * looked at, and `setRequestUser` receives the header-only request.
 */
@Injectable()
class HeaderTokenGuard extends CrossmintAuthGuard {
  protected override getRequestResponse(context: ExecutionContext): SeamHttp {
    return headerOnlyHttp(context);
  }
}

/** `getRequestResponse` without the response: with nowhere to write rotated cookies, the guard must not refresh. */
@Injectable()
class NoResponseGuard extends CrossmintAuthGuard {
  protected override getRequestResponse(context: ExecutionContext): SeamHttp {
    return { request: super.getRequestResponse(context).request };
  }
}

/** The interceptor's `setRequestUser` reshaped: `{ id, via }` on `request.account`. */
@Injectable()
class AccountInterceptor extends CrossmintSessionInterceptor {
  protected override setRequestUser(request: SeamRequest & { account?: unknown }, session: CrossmintSession): void {
    request.account = { id: session.userId, via: 'interceptor' };
  }
}

/** The interceptor's `getRequestResponse` replaced, as HeaderTokenGuard's: the session comes from `x-crossmint-token` alone. */
@Injectable()
class HeaderTokenInterceptor extends CrossmintSessionInterceptor {
  protected override getRequestResponse(context: ExecutionContext): SeamHttp {
    return headerOnlyHttp(context);
  }
}

// ---- Controllers ----

const userIdOf = (req: { user?: unknown }) => (req.user as CrossmintAuthUser | undefined)?.userId ?? null;

/** Under the global HealthOpenGuard: no guard of their own. */
@Controller()
class GloballyGuardedController {
  @Get('health')
  health() {
    return { ok: true };
  }

  @Get('health/live')
  live() {
    return { ok: true };
  }

  /** Not under /health: only a prefix by path segment opens a route. */
  @Get('healthz')
  healthz() {
    return { ok: true };
  }

  @Get('private')
  private(@Req() req: { user?: unknown }) {
    return { userId: userIdOf(req) };
  }

  @Public()
  @Get('open')
  open() {
    return { ok: true };
  }
}

@Controller()
class OverridesController {
  @Get('default')
  @UseGuards(CrossmintAuthGuard)
  default(@Req() req: { user?: unknown }) {
    return { userId: userIdOf(req) };
  }

  @Get('account')
  @UseGuards(AccountGuard)
  account(@Req() req: { user?: unknown; account?: unknown }) {
    return { account: req.account ?? null, user: req.user ?? null };
  }

  @Get('header-token')
  @UseGuards(HeaderTokenGuard)
  headerToken(@Req() req: { user?: unknown; crossmint?: { user?: unknown } }) {
    return { userId: userIdOf(req.crossmint ?? {}), user: req.user ?? null };
  }

  @Get('no-response')
  @UseGuards(NoResponseGuard)
  noResponse(@Req() req: { user?: unknown }) {
    return { userId: userIdOf(req) };
  }

  @Get('optional/header-token')
  @UseInterceptors(HeaderTokenInterceptor)
  optionalHeaderToken(@Req() req: { user?: unknown; crossmint?: { user?: unknown } }) {
    return { userId: userIdOf(req.crossmint ?? {}), user: req.user ?? null };
  }

  @Get('optional/account')
  @UseInterceptors(AccountInterceptor)
  optionalAccount(@Req() req: { user?: unknown; account?: unknown }) {
    return { account: req.account ?? null, user: req.user ?? null };
  }
}

/**
 * The guard's and the interceptor's seams (`isPublic`, `getRequestResponse`, `setRequestUser`) as override points,
 * in a real Nest app on each platform, against the emulator over real HTTP.
 */
describe.each(PLATFORM_VARIANTS)('guard and interceptor overrides on $name', ({ platform, cookiePlugin }) => {
  let emulator: CrossmintAuthEmulator;
  let globalApp: TestApp;
  let routeApp: TestApp;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    const moduleOptions = { ...emulator.moduleOptions(), timeoutMs: 1000 };
    globalApp = await createTestApp({
      moduleOptions,
      platform,
      cookiePlugin,
      controllers: [GloballyGuardedController],
      providers: [{ provide: APP_GUARD, useClass: HealthOpenGuard }],
    });
    routeApp = await createTestApp({ moduleOptions, platform, cookiePlugin, controllers: [OverridesController] });
  });
  afterAll(async () => {
    await globalApp?.close();
    await routeApp?.close();
    await emulator.stop();
  });
  beforeEach(() => emulator.reset());

  describe('isPublic, widened by path, in a guard registered as APP_GUARD', () => {
    it.each(['/health', '/health/live', '/health/live?probe=1'])(
      'opens %s without credentials, and calls no one',
      async (path) => {
        const res = await request(`${globalApp.url}${path}`);
        expect(res.status).toBe(200);
        expect(emulator.calls('jwks') + emulator.calls('refresh')).toBe(0);
      },
    );

    it('keeps every other route closed, /healthz included', async () => {
      expect((await request(`${globalApp.url}/healthz`)).status).toBe(401);
      expect((await request(`${globalApp.url}/private`)).status).toBe(401);
    });

    it('still authenticates (the resolver was injected) and still honours @Public() (the Reflector was injected)', async () => {
      const session = await emulator.createSession();
      const res = await request(`${globalApp.url}/private`, { cookies: { [JWT]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: session.userId });
      expect((await request(`${globalApp.url}/open`)).status).toBe(200);
    });
  });

  describe('setRequestUser, reshaped to request.account, with @UseGuards', () => {
    it('puts { id } on request.account and nothing on request.user', async () => {
      const session = await emulator.createSession();
      const res = await request(`${routeApp.url}/account`, { cookies: { [JWT]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: { id: session.userId }, user: null });
    });

    it('does so on the synchronous path too (a JWT verified before)', async () => {
      const session = await emulator.createSession();
      await request(`${routeApp.url}/account`, { cookies: { [JWT]: session.jwt } });
      const again = await request(`${routeApp.url}/account`, { cookies: { [JWT]: session.jwt } });
      expect(again.status).toBe(200);
      expect(again.body).toEqual({ account: { id: session.userId }, user: null });
    });

    it('does so for a refreshed session too (the asynchronous path), with the cookies rotated', async () => {
      const session = await emulator.createSession({ expired: true });
      const res = await request(`${routeApp.url}/account`, {
        cookies: { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: { id: session.userId }, user: null });
      expect(emulator.calls('refresh')).toBe(1);
      expect(res.cookies[REFRESH].value).not.toBe(session.refreshToken.secret);
    });

    it('is not called for a request without a session: 401', async () => {
      expect((await request(`${routeApp.url}/account`)).status).toBe(401);
    });
  });

  describe('getRequestResponse, replaced by a header-only request', () => {
    it('authenticates from the x-crossmint-token header, and setRequestUser receives the request the seam returned', async () => {
      const session = await emulator.createSession();
      for (let i = 0; i < 2; i++) {
        // Twice: the second time, the JWT is answered from the cache (the synchronous path).
        const res = await request(`${routeApp.url}/header-token`, { headers: { 'x-crossmint-token': session.jwt } });
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ userId: session.userId, user: null });
      }
    });

    it("never looks at the real request's cookies or Authorization header", async () => {
      const session = await emulator.createSession();
      const withCookie = await request(`${routeApp.url}/header-token`, { cookies: { [JWT]: session.jwt } });
      expect(withCookie.status).toBe(401);
      const withBearer = await request(`${routeApp.url}/header-token`, {
        headers: { authorization: `Bearer ${session.jwt}` },
      });
      expect(withBearer.status).toBe(401);
      // The same credentials pass the stock guard.
      expect((await request(`${routeApp.url}/default`, { cookies: { [JWT]: session.jwt } })).status).toBe(200);
    });

    it('answers 401 for an invalid token in the header', async () => {
      const forged = await emulator.mintJwt({ audience: 'another-project' });
      expect((await request(`${routeApp.url}/header-token`, { headers: { 'x-crossmint-token': forged } })).status).toBe(
        401,
      );
    });
  });

  describe('getRequestResponse, returning no response', () => {
    it('does not refresh (the refresh token is not spent) where the stock guard would', async () => {
      const session = await emulator.createSession({ expired: true });
      const cookies = { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret };
      const res = await request(`${routeApp.url}/no-response`, { cookies });
      expect(res.status).toBe(401);
      expect(res.setCookies).toEqual([]);
      expect(emulator.calls('refresh')).toBe(0);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(1);

      const stock = await request(`${routeApp.url}/default`, { cookies });
      expect(stock.status).toBe(200);
      expect(stock.body).toEqual({ userId: session.userId });
      expect(emulator.calls('refresh')).toBe(1);
    });

    it('still lets a valid JWT through', async () => {
      const session = await emulator.createSession();
      const res = await request(`${routeApp.url}/no-response`, { cookies: { [JWT]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: session.userId });
    });
  });

  describe("the interceptor's getRequestResponse, replaced by a header-only request", () => {
    it('finds the session in the x-crossmint-token header, on the request the seam returned', async () => {
      const session = await emulator.createSession();
      const res = await request(`${routeApp.url}/optional/header-token`, {
        headers: { 'x-crossmint-token': session.jwt },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: session.userId, user: null });
    });

    it("never looks at the real request's cookies: anonymous with a valid JWT cookie", async () => {
      const session = await emulator.createSession();
      const res = await request(`${routeApp.url}/optional/header-token`, { cookies: { [JWT]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ userId: null, user: null });
    });
  });

  describe("the interceptor's setRequestUser, reshaped to request.account", () => {
    it('puts { id, via } on request.account and nothing on request.user', async () => {
      const session = await emulator.createSession();
      const res = await request(`${routeApp.url}/optional/account`, { cookies: { [JWT]: session.jwt } });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: { id: session.userId, via: 'interceptor' }, user: null });
    });

    it('does so on the synchronous path too (a JWT verified before)', async () => {
      const session = await emulator.createSession();
      await request(`${routeApp.url}/optional/account`, { cookies: { [JWT]: session.jwt } });
      const again = await request(`${routeApp.url}/optional/account`, { cookies: { [JWT]: session.jwt } });
      expect(again.body).toEqual({ account: { id: session.userId, via: 'interceptor' }, user: null });
    });

    it('does so after a refresh, with the cookies rotated', async () => {
      const session = await emulator.createSession({ expired: true });
      const res = await request(`${routeApp.url}/optional/account`, {
        cookies: { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: { id: session.userId, via: 'interceptor' }, user: null });
      expect(res.cookies[REFRESH].value).not.toBe(session.refreshToken.secret);
    });

    it('is not called without a session: the request goes through anonymous', async () => {
      const res = await request(`${routeApp.url}/optional/account`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: null, user: null });
    });

    it('is not called for a revoked session: anonymous, and the cookies are cleared', async () => {
      const session = await emulator.createSession({ expired: true });
      emulator.revokeRefreshToken(session.refreshToken.secret);
      const res = await request(`${routeApp.url}/optional/account`, {
        cookies: { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ account: null, user: null });
      expect(isCleared(res.cookies[JWT])).toBe(true);
      expect(isCleared(res.cookies[REFRESH])).toBe(true);
    });
  });
});
