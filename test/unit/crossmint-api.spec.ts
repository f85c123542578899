import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { BadRequestException, Logger, NotFoundException } from '@nestjs/common';
import { CrossmintApi } from '../../lib/api/crossmint-api.js';
import { FetchCrossmintHttpClient } from '../../lib/api/fetch-http-client.js';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  type CrossmintAuthModuleOptions,
} from '../../lib/index.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import { CrossmintAuthEmulator } from '../../lib/testing/index.js';

/**
 * CrossmintApi: one method per Crossmint endpoint, against the emulator over real HTTP. Answers are validated,
 * the wire format is mapped to the module's, and failures become the module's errors (401 or 503).
 */
describe('CrossmintApi', () => {
  let emulator: CrossmintAuthEmulator;
  const errorLogs: string[] = [];

  /** A new CrossmintApi, wired as the module wires it; each has its own memory of the API key check. */
  const createApi = (options: Partial<CrossmintAuthModuleOptions> = {}) =>
    new CrossmintApi(
      resolveCrossmintAuthOptions({ ...emulator.moduleOptions(), timeoutMs: 1000, ...options }),
      new FetchCrossmintHttpClient(),
    );

  /** The rejection of `promise`, for asserting on its class and fields. */
  const rejectionOf = (promise: Promise<unknown>) =>
    promise.then(
      () => {
        throw new Error('expected a rejection');
      },
      (error: unknown) => error,
    );

  beforeAll(async () => {
    Logger.overrideLogger({
      log() {},
      warn() {},
      debug() {},
      verbose() {},
      error: (message: unknown) => void errorLogs.push(String(message)),
    });
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => {
    emulator.reset();
    errorLogs.length = 0;
  });

  describe('fetchJwks', () => {
    it("returns Crossmint's published key set", async () => {
      await expect(createApi().fetchJwks()).resolves.toEqual(emulator.jwks());
      expect(emulator.calls('jwks')).toBe(1);
    });

    it.each([
      ['not JSON', '<html>maintenance</html>'],
      ['no keys array', '{"keys":"none"}'],
      ['a key that is not an object', '{"keys":[1]}'],
      ['a null key', '{"keys":[null]}'],
    ])('refuses a 200 answer with %s: CrossmintServiceUnavailableError', async (_, body) => {
      emulator.fault('jwks', { status: 200, body });
      await expect(createApi().fetchJwks()).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });

    it("turns a non-200 answer into CrossmintServiceUnavailableError carrying Crossmint's Retry-After", async () => {
      emulator.fault('jwks', { status: 503, headers: { 'retry-after': '42' } });
      const error = (await rejectionOf(createApi().fetchJwks())) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.getStatus()).toBe(503);
      expect(error.retryAfterSec).toBe(42);
    });

    it('uses the default Retry-After (5 s) when Crossmint sends none', async () => {
      emulator.fault('jwks', { status: 404 });
      const error = (await rejectionOf(createApi().fetchJwks())) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.retryAfterSec).toBe(5);
    });

    it('turns a timeout into CrossmintServiceUnavailableError', async () => {
      emulator.fault('jwks', { delayMs: 500 });
      await expect(createApi({ timeoutMs: 100 }).fetchJwks()).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });
  });

  describe('refresh', () => {
    it("maps Crossmint's wire field `refresh` to `refreshToken`, and the old secret is spent", async () => {
      const session = await emulator.createSession();
      const result = await createApi().refresh(session.refreshToken.secret);

      expect(Object.keys(result).sort()).toEqual(['jwt', 'refreshToken', 'user']);
      expect(result.refreshToken).toEqual({ secret: expect.any(String), expiresAt: expect.any(String) });
      expect(result.refreshToken.secret).not.toBe(session.refreshToken.secret);
      expect(Number.isNaN(Date.parse(result.refreshToken.expiresAt))).toBe(false);
      expect(result.user).toEqual(session.user);
      expect(result.jwt).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+$/);
      // The secret handed back is Crossmint's next refresh token: it refreshes in turn.
      await expect(createApi().refresh(result.refreshToken.secret)).resolves.toMatchObject({
        user: { id: session.userId },
      });
    });

    it('sends the secret as the JSON body `{ refresh }` with the x-api-key header', async () => {
      const session = await emulator.createSession();
      await createApi().refresh(session.refreshToken.secret);
      const headers = emulator.lastRequestHeaders('refresh')!;
      expect(headers['x-api-key']).toBe(emulator.apiKey);
      expect(headers['content-type']).toBe('application/json');
    });

    it('turns a refused refresh token (401, the API key accepted) into CrossmintAuthenticationError', async () => {
      const session = await emulator.createSession();
      emulator.revokeRefreshToken(session.refreshToken.secret);
      const api = createApi();
      const error = await rejectionOf(api.refresh(session.refreshToken.secret));
      expect(error).toBeInstanceOf(CrossmintAuthenticationError);
      expect((error as CrossmintAuthenticationError).getStatus()).toBe(401);
      // The 401 was double-checked with a user lookup under the same key.
      expect(emulator.calls('user')).toBe(1);
      expect(api.apiKeyStatus).toBe('accepted');
    });

    it.each([400, 403, 404, 422])(
      'turns a %i into CrossmintAuthenticationError without checking the API key',
      async (status) => {
        emulator.fault('refresh', { status });
        await expect(createApi().refresh('some-secret')).rejects.toBeInstanceOf(CrossmintAuthenticationError);
        expect(emulator.calls('user')).toBe(0);
      },
    );

    it("turns a 401 under a refused API key into CrossmintServiceUnavailableError, and apiKeyStatus says 'refused'", async () => {
      const session = await emulator.createSession();
      const api = createApi();
      expect(api.apiKeyStatus).toBe('unknown');
      emulator.revokeApiKey();

      const error = (await rejectionOf(api.refresh(session.refreshToken.secret))) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.retryAfterSec).toBe(10);
      expect(api.apiKeyStatus).toBe('refused');
      expect(errorLogs.join('\n')).toContain('CROSSMINT_API_KEY');
      // The refresh token was not spent: it refreshes once the key is accepted again.
      emulator.restoreApiKey();
      await expect(createApi().refresh(session.refreshToken.secret)).resolves.toMatchObject({
        user: { id: session.userId },
      });
    });

    it('asks about the API key once for many refusals in a row', async () => {
      const api = createApi();
      emulator.revokeApiKey();
      for (let i = 0; i < 3; i++)
        await expect(api.refresh(`secret-${i}`)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(emulator.calls('refresh')).toBe(3);
      expect(emulator.calls('user')).toBe(1);
    });

    it.each([
      ['a 5xx', { status: 502 }, 5],
      ['a 429 with Retry-After', { status: 429, headers: { 'retry-after': '30' } }, 30],
      ['a 408', { status: 408 }, 5],
    ])('turns %s into CrossmintServiceUnavailableError (503), not a logout', async (_, fault, retryAfterSec) => {
      emulator.fault('refresh', fault);
      const error = (await rejectionOf(createApi().refresh('some-secret'))) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.retryAfterSec).toBe(retryAfterSec);
    });

    const future = () => new Date(Date.now() + 3_600_000).toISOString();
    it.each([
      ['not JSON', () => 'oops'],
      ['no jwt', () => JSON.stringify({ refresh: { secret: 'next', expiresAt: future() }, user: { id: 'u' } })],
      [
        'the module’s field name instead of `refresh`',
        () =>
          JSON.stringify({ jwt: 'a.b.c', refreshToken: { secret: 'next', expiresAt: future() }, user: { id: 'u' } }),
      ],
      [
        'a secret that is no cookie value',
        () =>
          JSON.stringify({ jwt: 'a.b.c', refresh: { secret: 'has space', expiresAt: future() }, user: { id: 'u' } }),
      ],
      [
        'an unreadable expiresAt',
        () => JSON.stringify({ jwt: 'a.b.c', refresh: { secret: 'next', expiresAt: 'soon' }, user: { id: 'u' } }),
      ],
      [
        'no user id',
        () => JSON.stringify({ jwt: 'a.b.c', refresh: { secret: 'next', expiresAt: future() }, user: {} }),
      ],
    ])('turns a malformed 200 answer (%s) into a 503', async (_, body) => {
      emulator.fault('refresh', { status: 200, body: body() });
      const error = (await rejectionOf(createApi().refresh('some-secret'))) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.getStatus()).toBe(503);
    });
  });

  describe('logout', () => {
    it('revokes the refresh token at Crossmint', async () => {
      const session = await emulator.createSession();
      expect(emulator.liveRefreshTokens(session.userId)).toBe(1);
      await createApi().logout(session.refreshToken.secret);
      expect(emulator.calls('logout')).toBe(1);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(0);
      expect(emulator.lastRequestHeaders('logout')!['x-api-key']).toBe(emulator.apiKey);
    });

    it('takes a 4xx (a refresh token Crossmint no longer knows) as done', async () => {
      emulator.fault('logout', { status: 401 });
      await expect(createApi().logout('unknown-secret')).resolves.toBeUndefined();
    });

    it("turns a 5xx into CrossmintServiceUnavailableError carrying Crossmint's Retry-After", async () => {
      emulator.fault('logout', { status: 503, headers: { 'retry-after': '7' } });
      const error = (await rejectionOf(createApi().logout('some-secret'))) as CrossmintServiceUnavailableError;
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect(error.retryAfterSec).toBe(7);
    });
  });

  describe('getUser', () => {
    it('returns the user profile, with the x-api-key header', async () => {
      const user = emulator.createUser({ email: 'someone@example.com' });
      await expect(createApi().getUser(user.id)).resolves.toEqual(user);
      expect(emulator.lastRequestHeaders('user')!['x-api-key']).toBe(emulator.apiKey);
    });

    it.each(['team/alice', 'a b?c#d', '100%', 'é-ü', 'x%2Fy'])(
      'percent-encodes the id %j into one path segment',
      async (id) => {
        // The emulator answers 404 to a raw '/' in the path, and would decode an unencoded '%2F' into another id.
        const user = emulator.createUser({ id });
        await expect(createApi().getUser(id)).resolves.toEqual(user);
      },
    );

    it.each([
      ['..', '..'],
      ['a segment with ..', 'a/../b'],
      ['.', '.'],
      ['the empty id', ''],
      ['a control character', 'a\nb'],
      ['an id over 256 characters', 'u'.repeat(257)],
    ])('refuses %s with BadRequestException (400) before any call', async (_, id) => {
      const error = await rejectionOf(createApi().getUser(id));
      expect(error).toBeInstanceOf(BadRequestException);
      expect((error as BadRequestException).getStatus()).toBe(400);
      expect(emulator.calls('user')).toBe(0);
    });

    it('turns an unknown user (404) into NotFoundException', async () => {
      const error = await rejectionOf(createApi().getUser('nobody-by-this-id'));
      expect(error).toBeInstanceOf(NotFoundException);
      expect((error as NotFoundException).getStatus()).toBe(404);
    });

    it('turns a 5xx and a malformed answer into CrossmintServiceUnavailableError', async () => {
      const user = emulator.createUser();
      emulator.fault('user', { status: 500, times: 1 });
      await expect(createApi().getUser(user.id)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
      emulator.fault('user', { status: 200, body: '{"email":"no id"}', times: 1 });
      await expect(createApi().getUser(user.id)).rejects.toBeInstanceOf(CrossmintServiceUnavailableError);
    });
  });

  describe('the x-api-key header', () => {
    it('goes with refresh, logout and user calls, never with the public JWKS request', async () => {
      const api = createApi();
      const session = await emulator.createSession();
      await api.fetchJwks();
      const { refreshToken } = await api.refresh(session.refreshToken.secret);
      await api.logout(refreshToken.secret);
      await api.getUser(session.userId);

      expect(emulator.lastRequestHeaders('jwks')).toBeDefined();
      expect(emulator.lastRequestHeaders('jwks')!['x-api-key']).toBeUndefined();
      for (const route of ['refresh', 'logout', 'user'] as const)
        expect(emulator.lastRequestHeaders(route)!['x-api-key']).toBe(emulator.apiKey);
    });
  });
});
