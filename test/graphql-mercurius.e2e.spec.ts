import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { createGraphqlApp, graphqlRequest } from './support/graphql.js';
import { isCleared } from './support/http.js';
import { JWT_COOKIE as JWT, REFRESH_COOKIE as REFRESH } from './support/security.js';
import type { TestApp } from './support/test-app.js';

/** Mercurius on Fastify, with Nest's default context: `req` is Fastify's request, and Mercurius adds `reply`. */
describe('Crossmint auth in GraphQL resolvers (Mercurius on Fastify)', () => {
  let emulator: CrossmintAuthEmulator;
  let app: TestApp;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    app = await createGraphqlApp(
      emulator,
      GraphQLModule.forRoot<MercuriusDriverConfig>({ driver: MercuriusDriver, autoSchemaFile: true, graphiql: false }),
      'fastify',
    );
  });
  afterAll(async () => {
    await app.close();
    await emulator.stop();
  });
  beforeEach(() => emulator.reset());

  const graphql = (query: string, cookies?: Record<string, string>) => graphqlRequest(app.url, query, { cookies });

  it('lets a valid cookie JWT through the guard and resolves @CurrentUser', async () => {
    const session = await emulator.createSession();
    const res = await graphql('{ me { userId } }', { [JWT]: session.jwt });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(res.setCookies).toEqual([]);
  });

  it('refreshes an expired session and rotates the cookies on the reply', async () => {
    const session = await emulator.createSession({ expired: true });
    const res = await graphql('{ me { userId } }', { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(emulator.calls('refresh')).toBe(1);
    expect(res.cookies[JWT].value).not.toBe(session.jwt);
    expect(res.cookies[REFRESH].value).not.toBe(session.refreshToken.secret);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  });

  it('answers an error without calling Crossmint when there are no credentials', async () => {
    const res = await graphql('{ me { userId } }');
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].message).toBe('Authentication required');
    expect(emulator.calls('jwks') + emulator.calls('refresh')).toBe(0);
    expect(res.setCookies).toEqual([]);
  });

  it('clears the cookies when Crossmint rejects the refresh token, and sets Retry-After on an outage', async () => {
    const revoked = await emulator.createSession({ expired: true });
    emulator.revokeRefreshToken(revoked.refreshToken.secret);
    const cleared = await graphql('{ me { userId } }', { [JWT]: revoked.jwt, [REFRESH]: revoked.refreshToken.secret });
    expect(cleared.body.errors[0].message).toBe('Session expired or revoked');
    expect(isCleared(cleared.cookies[JWT])).toBe(true);
    expect(isCleared(cleared.cookies[REFRESH])).toBe(true);
    expect(cleared.text).not.toContain(revoked.refreshToken.secret);

    const session = await emulator.createSession({ expired: true });
    emulator.fault('refresh', { status: 502 });
    const outage = await graphql('{ me { userId } }', { [JWT]: session.jwt, [REFRESH]: session.refreshToken.secret });
    expect(outage.body.data).toBeNull();
    expect(outage.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(outage.setCookies).toEqual([]);
  });

  it('runs the interceptor on an optional query: anonymous, valid, and refreshed', async () => {
    expect((await graphql('{ maybeMe }')).body).toEqual({ data: { maybeMe: null } });

    const valid = await emulator.createSession();
    expect((await graphql('{ maybeMe }', { [JWT]: valid.jwt })).body).toEqual({ data: { maybeMe: valid.userId } });

    const expired = await emulator.createSession({ expired: true });
    const refreshed = await graphql('{ maybeMe }', { [JWT]: expired.jwt, [REFRESH]: expired.refreshToken.secret });
    expect(refreshed.body).toEqual({ data: { maybeMe: expired.userId } });
    expect(refreshed.cookies[REFRESH].value).not.toBe(expired.refreshToken.secret);
  });
});
