import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { CrossmintApi } from '../../lib/api/crossmint-api.js';
import { FetchCrossmintHttpClient } from '../../lib/api/fetch-http-client.js';
import { CrossmintAuthCookies } from '../../lib/cookies/crossmint-auth-cookies.js';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  type CrossmintAuthModuleOptions,
  type CrossmintSession,
  type RequestLike,
} from '../../lib/index.js';
import { CrossmintJwtVerifier } from '../../lib/jwt/crossmint-jwt-verifier.js';
import { JwksKeyStore } from '../../lib/jwt/jwks-key-store.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import { CrossmintSessionRefresher } from '../../lib/session/crossmint-session.refresher.js';
import { CrossmintSessionResolver, type SessionDoor } from '../../lib/session/crossmint-session.resolver.js';
import { CrossmintAuthEmulator, type EmulatorSession } from '../../lib/testing/index.js';
import { isCleared, parseSetCookies } from '../support/http.js';

const JWT = 'crossmint-jwt';
const REFRESH = 'crossmint-refresh-token';

/** A request carrying `cookies`, as a platform hands it over (plain http to localhost). */
const requestWith = (cookies: Record<string, string>): RequestLike => ({
  headers: {
    host: 'localhost',
    cookie: Object.entries(cookies)
      .map(([name, value]) => `${name}=${value}`)
      .join('; '),
  },
});

/** A real Node response, not attached to a socket: what the resolver writes on it can be read back. */
const newResponse = () => new ServerResponse(new IncomingMessage(new Socket()));
const setCookiesOf = (response: ServerResponse) =>
  parseSetCookies(((response.getHeader('set-cookie') as string[] | undefined) ?? []).map(String));

/**
 * CrossmintSessionResolver: a request's session through one of three doors ('guard' | 'interceptor' | 'caller'),
 * each with its own rule for failures and for a missing response. The verifier, refresher and cookies are the
 * real ones, talking to the emulator over real HTTP.
 */
describe('CrossmintSessionResolver', () => {
  let emulator: CrossmintAuthEmulator;
  let resolver: CrossmintSessionResolver;

  /** A resolver wired as the module wires it. */
  const createResolver = (options: Partial<CrossmintAuthModuleOptions> = {}) => {
    const resolved = resolveCrossmintAuthOptions({ ...emulator.moduleOptions(), timeoutMs: 1000, ...options });
    const api = new CrossmintApi(resolved, new FetchCrossmintHttpClient());
    const verifier = new CrossmintJwtVerifier(resolved, new JwksKeyStore(resolved, api));
    return new CrossmintSessionResolver(
      new CrossmintAuthCookies(resolved),
      verifier,
      new CrossmintSessionRefresher(resolved, api, verifier),
    );
  };

  /** A session whose JWT has expired: only a refresh can answer for it. */
  const expiredSession = () => emulator.createSession({ expired: true });
  const cookiesOf = (session: EmulatorSession) => ({ [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret });

  beforeAll(async () => {
    Logger.overrideLogger(false);
    emulator = await CrossmintAuthEmulator.start();
    resolver = createResolver();
    // The keys fetched: a JWT verified while they are first fetched is not cached (see the verifier's spec).
    await resolver.resolveRequest(requestWith({ [JWT]: (await emulator.createSession()).jwt }), undefined, 'caller');
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  describe('a JWT verified before answers synchronously, through every door', () => {
    it.each(['guard', 'interceptor', 'caller'] as const)(
      '%s: a session, not a Promise, and no call to Crossmint',
      async (door: SessionDoor) => {
        const session = await emulator.createSession();
        const request = requestWith(cookiesOf(session));
        const first = resolver.resolveRequest(request, newResponse(), door as 'guard');
        expect(first).toBeInstanceOf(Promise);
        await first;
        emulator.resetCalls();

        const again = resolver.resolveRequest(requestWith(cookiesOf(session)), newResponse(), door as 'guard');
        expect(again).not.toBeInstanceOf(Promise);
        expect(again).toMatchObject({
          userId: session.userId,
          jwt: session.jwt,
          refreshed: false,
          refreshToken: { secret: session.refreshToken.secret },
        });
        expect(emulator.calls('jwks') + emulator.calls('refresh')).toBe(0);
      },
    );
  });

  describe('a session that needs a refresh, without a response to write the cookies on', () => {
    it('guard: 401, and the refresh token is not spent', async () => {
      const session = await expiredSession();
      await expect(resolver.resolveRequest(requestWith(cookiesOf(session)), undefined, 'guard')).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
      expect(emulator.calls('refresh')).toBe(0);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(1);
    });

    it('interceptor: no session, and the refresh token is not spent', async () => {
      const session = await expiredSession();
      await expect(
        resolver.resolveRequest(requestWith(cookiesOf(session)), undefined, 'interceptor'),
      ).resolves.toBeUndefined();
      expect(emulator.calls('refresh')).toBe(0);
    });

    it('caller: refreshes all the same, and hands the new material back to be stored', async () => {
      const session = await expiredSession();
      const refreshed = await resolver.resolveRequest(requestWith(cookiesOf(session)), undefined, 'caller');
      expect(emulator.calls('refresh')).toBe(1);
      expect(refreshed).toMatchObject({
        refreshed: true,
        userId: session.userId,
        refreshToken: { secret: expect.any(String), expiresAt: expect.any(String) },
      });
      expect(refreshed.refreshToken!.secret).not.toBe(session.refreshToken.secret);
    });
  });

  describe('a session that needs a refresh, with a response', () => {
    it.each(['guard', 'interceptor', 'caller'] as const)(
      '%s: refreshes once and writes both rotated cookies on the response',
      async (door) => {
        const session = await expiredSession();
        const response = newResponse();
        const refreshed = (await resolver.resolveRequest(
          requestWith(cookiesOf(session)),
          response,
          door as 'guard',
        )) as CrossmintSession;
        expect(refreshed).toMatchObject({ refreshed: true, userId: session.userId });
        expect(emulator.calls('refresh')).toBe(1);
        const cookies = setCookiesOf(response);
        expect(cookies[JWT].value).toBe(refreshed.jwt);
        expect(cookies[REFRESH].value).toBe(refreshed.refreshToken!.secret);
      },
    );
  });

  describe('failures: the interceptor answers undefined where the guard throws', () => {
    it('no credentials: the interceptor answers undefined at once (no Promise); the guard rejects with 401', async () => {
      const request = requestWith({});
      expect(resolver.resolveRequest(request, newResponse(), 'interceptor')).toBeUndefined();
      await expect(resolver.resolveRequest(request, newResponse(), 'guard')).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
      expect(emulator.calls('jwks') + emulator.calls('refresh')).toBe(0);
    });

    it('a revoked session: undefined for the interceptor, 401 for the guard and the caller; the cookies are cleared', async () => {
      const session = await expiredSession();
      emulator.revokeRefreshToken(session.refreshToken.secret);
      const response = newResponse();
      await expect(
        resolver.resolveRequest(requestWith(cookiesOf(session)), response, 'interceptor'),
      ).resolves.toBeUndefined();
      expect(isCleared(setCookiesOf(response)[JWT])).toBe(true);
      expect(isCleared(setCookiesOf(response)[REFRESH])).toBe(true);

      for (const door of ['guard', 'caller'] as const) {
        await expect(
          resolver.resolveRequest(requestWith(cookiesOf(session)), newResponse(), door),
        ).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      }
    });

    it('Crossmint down: undefined for the interceptor (no Retry-After), 503 with Retry-After for the guard; the cookies are kept', async () => {
      emulator.fault('refresh', { status: 503, headers: { 'retry-after': '17' } });
      const quiet = newResponse();
      await expect(
        resolver.resolveRequest(requestWith(cookiesOf(await expiredSession())), quiet, 'interceptor'),
      ).resolves.toBeUndefined();
      expect(quiet.getHeader('retry-after')).toBeUndefined();
      expect(quiet.getHeader('set-cookie')).toBeUndefined();

      const loud = newResponse();
      await expect(
        resolver.resolveRequest(requestWith(cookiesOf(await expiredSession())), loud, 'guard'),
      ).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(loud.getHeader('retry-after')).toBe('17');
      expect(loud.getHeader('set-cookie')).toBeUndefined();
    });
  });

  describe('a Bearer token stands alone', () => {
    it('an invalid one is not rescued by the refresh cookie', async () => {
      const session = await emulator.createSession();
      const request: RequestLike = {
        headers: {
          host: 'localhost',
          authorization: 'Bearer not.a.jwt',
          cookie: `${REFRESH}=${session.refreshToken.secret}`,
        },
      };
      await expect(resolver.resolveRequest(request, newResponse(), 'caller')).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
      expect(emulator.calls('refresh')).toBe(0);
    });

    it('even handed a refresh secret (resolveCredentials): 401, no refresh', async () => {
      const session = await emulator.createSession();
      const credentials = { jwt: 'not.a.jwt', refreshSecret: session.refreshToken.secret, source: 'bearer' } as const;
      await expect(
        resolver.resolveCredentials(credentials, { response: newResponse() }, 'caller'),
      ).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      expect(emulator.calls('refresh')).toBe(0);
      // The same credentials from cookies are refreshed (the control).
      await expect(
        resolver.resolveCredentials({ ...credentials, source: 'cookie' }, { response: newResponse() }, 'caller'),
      ).resolves.toMatchObject({ refreshed: true });
    });
  });

  describe('resolveCredentials', () => {
    it('resolves explicit credentials (no request at all) the same way', async () => {
      const session = await emulator.createSession();
      await expect(
        resolver.resolveCredentials({ jwt: session.jwt, source: 'explicit' }, {}, 'caller'),
      ).resolves.toMatchObject({ userId: session.userId, refreshed: false });
      const expired = await expiredSession();
      await expect(
        resolver.resolveCredentials(
          { jwt: expired.jwt, refreshSecret: expired.refreshToken.secret, source: 'explicit' },
          {},
          'caller',
        ),
      ).resolves.toMatchObject({
        userId: expired.userId,
        refreshed: true,
      });
    });
  });
});
