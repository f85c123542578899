import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger } from '@nestjs/common';
import { setTimeout as sleep } from 'node:timers/promises';
import { CrossmintApi } from '../../lib/api/crossmint-api.js';
import { FetchCrossmintHttpClient } from '../../lib/api/fetch-http-client.js';
import {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  type CrossmintAuthModuleOptions,
} from '../../lib/index.js';
import { CrossmintJwtVerifier } from '../../lib/jwt/crossmint-jwt-verifier.js';
import { JwksKeyStore } from '../../lib/jwt/jwks-key-store.js';
import { resolveCrossmintAuthOptions } from '../../lib/options/resolve-crossmint-auth-options.js';
import { CrossmintSessionRefresher } from '../../lib/session/crossmint-session.refresher.js';
import { CrossmintAuthEmulator } from '../../lib/testing/index.js';

/**
 * CrossmintSessionRefresher: refreshes and revokes sessions at the emulator over real HTTP. Refresh tokens are
 * one-time, so concurrent callers share one upstream call, and a logout wins over a refresh in flight.
 */
describe('CrossmintSessionRefresher', () => {
  let emulator: CrossmintAuthEmulator;

  /** A new refresher, wired as the module wires it (its own API client, key store, verifier and in-memory store). */
  const createRefresher = (options: Partial<CrossmintAuthModuleOptions> = {}) => {
    const resolved = resolveCrossmintAuthOptions({ ...emulator.moduleOptions(), timeoutMs: 1000, ...options });
    const api = new CrossmintApi(resolved, new FetchCrossmintHttpClient());
    return new CrossmintSessionRefresher(
      resolved,
      api,
      new CrossmintJwtVerifier(resolved, new JwksKeyStore(resolved, api)),
    );
  };

  beforeAll(async () => {
    Logger.overrideLogger(false);
    emulator = await CrossmintAuthEmulator.start();
  });
  afterAll(() => emulator.stop());
  beforeEach(() => emulator.reset());

  describe('refresh', () => {
    it('returns a refreshed session: new, verified material for the same user', async () => {
      const session = await emulator.createSession();
      const refreshed = await createRefresher().refresh(session.refreshToken.secret);
      expect(refreshed).toMatchObject({
        refreshed: true,
        userId: session.userId,
        user: { id: session.userId },
        claims: { sub: session.userId, aud: emulator.projectId },
      });
      expect(refreshed.jwt).not.toBe(session.jwt);
      expect(refreshed.refreshToken.secret).not.toBe(session.refreshToken.secret);
      expect(emulator.calls('refresh')).toBe(1);
    });

    it('makes one upstream call for N concurrent refreshes of one secret, and all get the same session', async () => {
      // No grace window: only the single-flight can keep the calls to one.
      const refresher = createRefresher({ refreshResultTtlMs: 0 });
      const session = await emulator.createSession();
      emulator.fault('refresh', { delayMs: 100 });

      const results = await Promise.all(
        Array.from({ length: 20 }, () => refresher.refresh(session.refreshToken.secret)),
      );
      expect(emulator.calls('refresh')).toBe(1);
      expect(new Set(results.map((result) => result.jwt)).size).toBe(1);
      expect(new Set(results.map((result) => result.refreshToken.secret)).size).toBe(1);
    });

    it('hands a late caller with the consumed secret the same result (the grace window), without a second call', async () => {
      const refresher = createRefresher();
      const session = await emulator.createSession();
      const first = await refresher.refresh(session.refreshToken.secret);
      const late = await refresher.refresh(session.refreshToken.secret);
      expect(late.refreshToken.secret).toBe(first.refreshToken.secret);
      expect(emulator.calls('refresh')).toBe(1);
    });

    it.each([
      ['an empty secret', ''],
      ['a secret with a space', 'has space'],
      ['a secret with a semicolon', 'a;b'],
      ['a secret with a quote', 'a"b'],
      ['a secret over 4 KB', 's'.repeat(4097)],
      ['a number', 42],
      ['undefined', undefined],
      ['an object', { secret: 'x' }],
    ])('refuses %s with CrossmintAuthenticationError before any call', async (_, secret) => {
      await expect(createRefresher().refresh(secret as string)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      expect(emulator.calls('refresh')).toBe(0);
    });

    it('passes a refused refresh token on as CrossmintAuthenticationError', async () => {
      const session = await emulator.createSession();
      emulator.revokeRefreshToken(session.refreshToken.secret);
      await expect(createRefresher().refresh(session.refreshToken.secret)).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
    });
  });

  describe('the JWT of a refresh answer is verified before use', () => {
    it('answers 503 when Crossmint hands out a JWT for another project', async () => {
      const session = await emulator.createSession();
      emulator.answerNextRefresh({
        jwt: await emulator.mintJwt({ sub: session.userId, audience: 'another-project' }),
        userId: session.userId,
      });
      const error = await createRefresher()
        .refresh(session.refreshToken.secret)
        .catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(CrossmintServiceUnavailableError);
      expect((error as CrossmintServiceUnavailableError).getStatus()).toBe(503);
    });

    it('answers 503 when the JWT names another user than the answer’s user field', async () => {
      const session = await emulator.createSession();
      emulator.answerNextRefresh({ jwt: await emulator.mintJwt({ sub: 'someone-else' }), userId: session.userId });
      await expect(createRefresher().refresh(session.refreshToken.secret)).rejects.toBeInstanceOf(
        CrossmintServiceUnavailableError,
      );
    });

    it('answers 503 when the JWT is signed by a key Crossmint does not publish', async () => {
      const session = await emulator.createSession();
      const forged = await emulator.signJwt(
        { sub: session.userId, aud: emulator.projectId, exp: Math.floor(Date.now() / 1000) + 60 },
        { key: 'foreign' },
      );
      emulator.answerNextRefresh({ jwt: forged, userId: session.userId });
      await expect(createRefresher().refresh(session.refreshToken.secret)).rejects.toBeInstanceOf(
        CrossmintServiceUnavailableError,
      );
    });

    it('accepts the same answer with a JWT of this project (the control)', async () => {
      const session = await emulator.createSession();
      emulator.answerNextRefresh({ jwt: await emulator.mintJwt({ sub: session.userId }), userId: session.userId });
      await expect(createRefresher().refresh(session.refreshToken.secret)).resolves.toMatchObject({
        userId: session.userId,
        refreshed: true,
      });
    });
  });

  describe('revoke', () => {
    it('logs the secret out at Crossmint', async () => {
      const session = await emulator.createSession();
      await createRefresher().revoke(session.refreshToken.secret);
      expect(emulator.calls('logout')).toBe(1);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(0);
    });

    it('also logs out the refresh token its grace result handed out, and refuses the secret from then on', async () => {
      const refresher = createRefresher();
      const session = await emulator.createSession();
      const refreshed = await refresher.refresh(session.refreshToken.secret);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(1);

      await refresher.revoke(session.refreshToken.secret);
      expect(emulator.calls('logout')).toBe(2);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(0);
      // The grace window is over: the consumed secret no longer yields the result, and costs no call.
      await expect(refresher.refresh(session.refreshToken.secret)).rejects.toBeInstanceOf(CrossmintAuthenticationError);
      await expect(refresher.refresh(refreshed.refreshToken.secret)).rejects.toBeInstanceOf(
        CrossmintAuthenticationError,
      );
      expect(emulator.calls('refresh')).toBe(2);
    });

    it('throws CrossmintServiceUnavailableError when Crossmint cannot be told', async () => {
      const session = await emulator.createSession();
      emulator.fault('logout', { status: 502 });
      await expect(createRefresher().revoke(session.refreshToken.secret)).rejects.toBeInstanceOf(
        CrossmintServiceUnavailableError,
      );
    });

    it('wins over a refresh in flight: the refresh fails and the refresh token it obtained is revoked too', async () => {
      const refresher = createRefresher();
      const session = await emulator.createSession();
      // Crossmint redeems the secret and issues the next one at once, but its answer takes 300 ms to arrive.
      emulator.fault('refresh', { answerDelayMs: 300 });
      const inFlight = refresher.refresh(session.refreshToken.secret);
      const outcome = inFlight.catch((error: unknown) => error);
      while (emulator.calls('refresh') === 0) await sleep(5);
      await sleep(50);

      await refresher.revoke(session.refreshToken.secret);
      expect(await outcome).toBeInstanceOf(CrossmintAuthenticationError);
      // Two logouts: the secret, then the refresh token Crossmint issued for it (proof the refresh had gone through).
      expect(emulator.calls('logout')).toBe(2);
      expect(emulator.liveRefreshTokens(session.userId)).toBe(0);
    });
  });
});
