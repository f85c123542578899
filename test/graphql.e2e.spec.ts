import { describe, expect, it } from '@jest/globals';
import { ApolloServerPluginCacheControl } from '@apollo/server/plugin/cacheControl';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule } from '@nestjs/graphql';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { graphqlAppOptions, graphqlRequest } from './support/graphql.js';
import { isCleared } from './support/http.js';

const apollo = (config: Omit<ApolloDriverConfig, 'driver'>) =>
  GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true, graphiql: false, ...config });

describe('Crossmint auth in GraphQL resolvers (Apollo on Express)', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: graphqlAppOptions(
        emulator,
        apollo({ context: ({ req, res }: { req: unknown; res: unknown }) => ({ req, res }) }),
      ),
    }),
  });

  const graphql = (query: string, init?: Parameters<typeof graphqlRequest>[2]) =>
    graphqlRequest(suite.app.url, query, init);

  it('lets a valid cookie JWT through the guard and resolves @CurrentUser', async () => {
    const session = await suite.emulator.createSession();
    const res = await graphql('{ me { userId sub } }', { cookies: { [JWT_COOKIE]: session.jwt } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { me: { userId: session.userId, sub: session.userId } } });
    expect(res.setCookies).toEqual([]);
  });

  it('accepts a Bearer token', async () => {
    const session = await suite.emulator.createSession();
    const res = await graphql('{ me { userId } }', { headers: { authorization: `Bearer ${session.jwt}` } });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
  });

  it('refreshes an expired session and rotates the cookies on the HTTP response', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await graphql('{ me { userId } }', {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(suite.emulator.calls('refresh')).toBe(1);
    expect(res.cookies[JWT_COOKIE].value).toMatch(/^ey/);
    expect(res.cookies[JWT_COOKIE].value).not.toBe(session.jwt);
    expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
    expect(res.setCookies).toHaveLength(2);
    // Apollo's cache-control plugin writes its own header over the module's `private, no-store`.
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('answers an UNAUTHENTICATED error without calling Crossmint when there are no credentials', async () => {
    const res = await graphql('{ me { userId } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors).toHaveLength(1);
    expect(res.body.errors[0]).toMatchObject({
      message: 'Authentication required',
      path: ['me'],
      extensions: { code: 'UNAUTHENTICATED', originalError: { statusCode: 401, error: 'Unauthorized' } },
    });
    expect(suite.emulator.calls('jwks') + suite.emulator.calls('refresh')).toBe(0);
    expect(res.setCookies).toEqual([]);
  });

  it('clears the cookies and leaks no token when Crossmint rejects the refresh token', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    const res = await graphql('{ me { userId } }', {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
    expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    expect(res.text).not.toContain(session.jwt);
    expect(res.text).not.toContain(session.refreshToken.secret);
    expect(res.text).not.toContain(suite.emulator.apiKey);
  });

  it('reports a Crossmint outage as a 503 error with Retry-After and keeps the cookies', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.fault('refresh', { status: 502 });
    const res = await graphql('{ me { userId } }', {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.status).toBe(200);
    expect(res.body.data).toBeNull();
    expect(res.body.errors[0].extensions).toMatchObject({
      code: 'INTERNAL_SERVER_ERROR',
      status: 503,
      originalError: { statusCode: 503, error: 'Service Unavailable' },
    });
    expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(res.setCookies).toEqual([]);
  });

  it('runs the interceptor on an optional query: anonymous, valid, and refreshed', async () => {
    const anonymous = await graphql('{ maybeMe }');
    expect(anonymous.body).toEqual({ data: { maybeMe: null } });

    const valid = await suite.emulator.createSession();
    const signedIn = await graphql('{ maybeMe }', { cookies: { [JWT_COOKIE]: valid.jwt } });
    expect(signedIn.body).toEqual({ data: { maybeMe: valid.userId } });

    const expired = await suite.emulator.createSession({ expired: true });
    const refreshed = await graphql('{ maybeMe }', {
      cookies: { [JWT_COOKIE]: expired.jwt, [REFRESH_COOKIE]: expired.refreshToken.secret },
    });
    expect(refreshed.body).toEqual({ data: { maybeMe: expired.userId } });
    expect(refreshed.cookies[REFRESH_COOKIE].value).not.toBe(expired.refreshToken.secret);
  });

  it('lets the interceptor clear a revoked session without failing the query', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    suite.emulator.revokeRefreshToken(session.refreshToken.secret);
    const res = await graphql('{ maybeMe }', {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.body).toEqual({ data: { maybeMe: null } });
    expect(isCleared(res.cookies[JWT_COOKIE])).toBe(true);
    expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
  });
});

describe("Crossmint auth in GraphQL resolvers with Nest's default context ({ req } only) and Apollo's cache headers off", () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: graphqlAppOptions(
        emulator,
        apollo({ plugins: [ApolloServerPluginCacheControl({ calculateHttpHeaders: false })] }),
      ),
    }),
  });

  it("still rotates the cookies (Express links the response from `req.res`) and keeps the module's Cache-Control", async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await graphqlRequest(suite.app.url, '{ me { userId } }', {
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
    expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
    expect(res.setCookies).toHaveLength(2);
    expect(res.headers.get('cache-control')).toBe('private, no-store');
  });
});
