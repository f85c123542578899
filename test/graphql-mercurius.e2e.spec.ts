import { describe, expect, it } from '@jest/globals';
import { GraphQLModule } from '@nestjs/graphql';
import { MercuriusDriver, type MercuriusDriverConfig } from '@nestjs/mercurius';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { graphqlAppOptions, graphqlRequest } from './support/graphql.js';
import { isCleared } from './support/http.js';

/** Mercurius on Fastify, with Nest's default context: `req` is Fastify's request, and Mercurius adds `reply`. */
describe('Crossmint auth in GraphQL resolvers (Mercurius on Fastify)', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: graphqlAppOptions(
        emulator,
        GraphQLModule.forRoot<MercuriusDriverConfig>({
          driver: MercuriusDriver,
          autoSchemaFile: true,
          graphiql: false,
        }),
        'fastify',
      ),
    }),
  });

  const graphql = (query: string, cookies?: Record<string, string>) =>
    graphqlRequest(suite.app.url, query, { cookies });

  it('lets a valid cookie JWT through the guard and resolves @CurrentUser', async () => {
    const session = await suite.emulator.createSession();
    const res = await graphql('{ me { userId } }', { [JWT_COOKIE]: session.jwt });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(res.setCookies).toEqual([]);
  });

  it('refreshes an expired session and rotates the cookies on the reply', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await graphql('{ me { userId } }', {
      [JWT_COOKIE]: session.jwt,
      [REFRESH_COOKIE]: session.refreshToken.secret,
    });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(res.cookies[JWT_COOKIE].value).not.toBe(session.jwt);
    expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  });

  it('answers an error without calling Crossmint when there are no credentials', async () => {
    const res = await graphql('{ me { userId } }');
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0].message).toBe('Authentication required');
    expect(suite.emulator.calls('jwks') + suite.emulator.calls('refresh')).toBe(0);
    expect(res.setCookies).toEqual([]);
  });

  it('clears the cookies when Crossmint rejects the refresh token, and sets Retry-After on an outage', async () => {
    const revoked = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(revoked.refreshToken.secret);
    const cleared = await graphql('{ me { userId } }', {
      [JWT_COOKIE]: revoked.jwt,
      [REFRESH_COOKIE]: revoked.refreshToken.secret,
    });
    expect(cleared.body.errors[0].message).toBe('Session expired or revoked');
    expect(isCleared(cleared.cookies[JWT_COOKIE])).toBe(true);
    expect(isCleared(cleared.cookies[REFRESH_COOKIE])).toBe(true);
    expect(cleared.text).not.toContain(revoked.refreshToken.secret);

    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { status: 502 });
    const outage = await graphql('{ me { userId } }', {
      [JWT_COOKIE]: session.jwt,
      [REFRESH_COOKIE]: session.refreshToken.secret,
    });
    expect(outage.body.data).toBeNull();
    expect(outage.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(outage.setCookies).toEqual([]);
  });

  it('runs the interceptor on an optional query: anonymous, valid, and refreshed', async () => {
    expect((await graphql('{ maybeMe }')).body).toEqual({ data: { maybeMe: null } });

    const valid = await suite.emulator.createSession();
    expect((await graphql('{ maybeMe }', { [JWT_COOKIE]: valid.jwt })).body).toEqual({
      data: { maybeMe: valid.userId },
    });

    const expired = await suite.emulator.createSession({ expired: true });
    const refreshed = await graphql('{ maybeMe }', {
      [JWT_COOKIE]: expired.jwt,
      [REFRESH_COOKIE]: expired.refreshToken.secret,
    });
    expect(refreshed.body).toEqual({ data: { maybeMe: expired.userId } });
    expect(refreshed.cookies[REFRESH_COOKIE].value).not.toBe(expired.refreshToken.secret);
  });
});
