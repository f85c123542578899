import { afterEach, describe, expect, it } from '@jest/globals';
import { decodeJwt } from 'jose';
import { hasExpiryTimer } from '../lib/platform/connection-expiry.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import {
  connect,
  gatewaysFor,
  serverClients,
  useAdapter,
  type RealtimeClient,
  type SocketAdapterName,
} from './support/realtime.js';
import type { TestPlatform } from './support/test-app.js';

const UNAUTHENTICATED = { status: 401, code: 'CROSSMINT_AUTHENTICATION_FAILED', message: 'Authentication required' };
const INVALID = { status: 401, code: 'CROSSMINT_AUTHENTICATION_FAILED', message: 'Invalid or expired token' };
const EXPIRED = { status: 401, code: 'CROSSMINT_SESSION_EXPIRED', message: 'Session expired' };

const VARIANTS: Array<[SocketAdapterName, TestPlatform]> = [
  ['socket.io', 'express'],
  ['socket.io', 'fastify'],
  ['ws', 'express'],
  ['ws', 'fastify'],
];

describe.each(VARIANTS)('Crossmint auth on WebSocket gateways (%s adapter on %s)', (adapter, platform) => {
  const suite = useEmulatorApps({
    apps: (emulator) => {
      const app = (extra = {}) => ({
        moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000, ...extra },
        controllers: [],
        providers: gatewaysFor(adapter),
        platform,
        configure: useAdapter(adapter),
      });
      return { app: app(), lenient: app({ closeOnJwtExpiry: false, clockToleranceSec: 0 }) };
    },
    logs: 'no-errors',
  });
  const clients: RealtimeClient[] = [];
  const open = (gateway: string, credentials = {}, app = suite.app) => {
    const client = connect(adapter, app.url, gateway, credentials);
    clients.push(client);
    return client;
  };
  const whoami = async (client: RealtimeClient) => {
    client.emit('whoami');
    return client.next('whoami', 'exception');
  };
  afterEach(() => clients.splice(0).forEach((client) => client.close()));

  describe('the guard on a handler of an open gateway', () => {
    it('reads the auth cookie of the handshake, and @CurrentUser gives the user', async () => {
      const session = await suite.emulator.createSession();
      const client = open('open', { cookies: { [JWT_COOKIE]: session.jwt } });
      await client.opened;
      expect(await whoami(client)).toEqual({
        event: 'whoami',
        data: { userId: session.userId, sub: session.userId },
      });
    });

    it('reads a Bearer token from the handshake', async () => {
      const session = await suite.emulator.createSession();
      const client = open('open', { bearer: session.jwt });
      await client.opened;
      expect((await whoami(client)).data.userId).toBe(session.userId);
    });

    if (adapter === 'socket.io') {
      it("reads socket.io's auth.token", async () => {
        const session = await suite.emulator.createSession();
        const client = open('open', { token: session.jwt });
        await client.opened;
        expect((await whoami(client)).data.userId).toBe(session.userId);
      });
    }

    it('refuses a socket without credentials with a WsException of a stable shape, and calls no one', async () => {
      const client = open('open');
      await client.opened;
      expect(await whoami(client)).toEqual({ event: 'exception', data: UNAUTHENTICATED });
      client.emit('ping');
      expect(await client.next('pong')).toEqual({ event: 'pong', data: 'ok' });
      expect(suite.emulator.calls('jwks') + suite.emulator.calls('refresh')).toBe(0);
    });

    it('refuses a forged token', async () => {
      const session = await suite.emulator.createSession();
      const forged = await suite.emulator.signJwt(decodeJwt(session.jwt), { key: 'foreign' });
      const client = open('open', { bearer: forged });
      await client.opened;
      expect(await whoami(client)).toEqual({ event: 'exception', data: INVALID });
    });

    it('never refreshes over a socket: an expired JWT with a live refresh cookie is refused', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const client = open('open', { cookies: sessionCookies(session) });
      await client.opened;
      expect(await whoami(client)).toEqual({ event: 'exception', data: INVALID });
      expect(suite.emulator.calls('refresh')).toBe(0);
      expect(suite.emulator.liveRefreshTokens(session.userId)).toBe(1);
      // By design, not a misconfiguration: no warning about a missing response.
      expect(suite.logs.text()).not.toContain('rotated cookies');
    });

    it('closes the socket when the JWT expires, and clears its timer when the socket goes first', async () => {
      const short = await suite.emulator.createSession({ jwtTtlSec: 1 });
      const client = open('open', { cookies: { [JWT_COOKIE]: short.jwt } });
      await client.opened;
      expect((await whoami(client)).data.userId).toBe(short.userId);
      expect(await client.next('exception')).toEqual({ event: 'exception', data: EXPIRED });
      expect(await client.closed).toEqual(
        adapter === 'ws' ? { code: 4401, reason: 'Session expired' } : { reason: 'io server disconnect' },
      );

      const long = await suite.emulator.createSession();
      const other = open('open', { cookies: { [JWT_COOKIE]: long.jwt } });
      await other.opened;
      await whoami(other);
      const server = serverClients.at(-1)!;
      expect(hasExpiryTimer(server)).toBe(true);
      other.close();
      await other.closed;
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect(hasExpiryTimer(server)).toBe(false);
    });

    it('with closeOnJwtExpiry: false, keeps the socket but refuses its messages once the JWT expired', async () => {
      const short = await suite.emulator.createSession({ jwtTtlSec: 1 });
      const client = open('open', { cookies: { [JWT_COOKIE]: short.jwt } }, suite.lenient);
      await client.opened;
      expect((await whoami(client)).data.userId).toBe(short.userId);
      expect(hasExpiryTimer(serverClients.at(-1)!)).toBe(false);
      await new Promise((resolve) => setTimeout(resolve, (decodeJwt(short.jwt).exp! + 0.2) * 1000 - Date.now()));
      expect(await whoami(client)).toEqual({ event: 'exception', data: INVALID });
    });
  });

  describe('refusing the handshake itself (CrossmintSocketAuth)', () => {
    it('lets a valid cookie in, then the guard and @CurrentUser see the user', async () => {
      const session = await suite.emulator.createSession();
      const client = open('strict', { cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: 'unused' } });
      await client.opened;
      expect(await whoami(client)).toEqual({ event: 'whoami', data: { userId: session.userId } });
    });

    it('refuses a socket without credentials before any handler runs', async () => {
      const client = open('strict');
      if (adapter === 'socket.io') {
        await expect(client.opened).rejects.toMatchObject({
          message: 'Authentication required',
          data: UNAUTHENTICATED,
        });
      } else {
        expect(await client.next('exception')).toEqual({ event: 'exception', data: UNAUTHENTICATED });
        expect(await client.closed).toEqual({ code: 4401, reason: 'Authentication required' });
      }
    });

    it('refuses a forged Bearer token', async () => {
      const session = await suite.emulator.createSession();
      const forged = await suite.emulator.signJwt(decodeJwt(session.jwt), { key: 'foreign' });
      const client = open('strict', { bearer: forged });
      if (adapter === 'socket.io') await expect(client.opened).rejects.toMatchObject({ data: INVALID });
      else expect(await client.closed).toEqual({ code: 4401, reason: 'Invalid or expired token' });
    });

    it('closes the socket when the JWT expires', async () => {
      const session = await suite.emulator.createSession({ jwtTtlSec: 1 });
      const client = open('strict', { bearer: session.jwt });
      await client.opened;
      expect(await client.next('exception')).toEqual({ event: 'exception', data: EXPIRED });
      await client.closed;
    });
  });
});
