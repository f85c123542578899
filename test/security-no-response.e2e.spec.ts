import { describe, expect, it } from '@jest/globals';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Body, Controller, Get, HttpCode, Post, Req } from '@nestjs/common';
import { GraphQLModule } from '@nestjs/graphql';
import { CrossmintAuthService } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { ViewerResolver, graphqlRequest } from './support/graphql.js';
import { request } from './support/http.js';
import { TestController } from './support/test-app.js';

@Controller()
class NoResponseController {
  constructor(private readonly auth: CrossmintAuthService) {}

  /** `getSession(req)` without a response: the caller gets the rotated material and must store it. */
  @Get('session/no-response')
  async session(@Req() req: any) {
    const { userId, refreshed, jwt, refreshToken } = await this.auth.getSession(req);
    return { userId, refreshed, jwt, refreshToken };
  }

  /** Whatever JSON the client sends, as explicit tokens. */
  @Post('session/explicit')
  @HttpCode(200)
  async explicit(@Body() body: any) {
    const { userId, refreshed } = await this.auth.getSession(body);
    return { userId, refreshed };
  }
}

/**
 * Refresh tokens are one-time: a refresh whose rotated material nobody stores logs the user out once the grace
 * window ends. The guard and the interceptor write it on the response, so without one they must not refresh.
 */
describe('security: refreshing with nowhere to write', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: {
        moduleOptions: { ...emulator.moduleOptions(), refreshResultTtlMs: 0 },
        imports: [
          GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            autoSchemaFile: true,
            graphiql: false,
            // A context built from the request's headers alone: no response to write cookies on.
            context: ({ req }: { req: { headers: unknown } }) => ({ req: { headers: req.headers } }),
          }),
        ],
        controllers: [TestController, NoResponseController],
        providers: [ViewerResolver],
      },
    }),
    logs: 'no-errors',
  });

  const graphql = (query: string, cookies: Record<string, string>) => graphqlRequest(suite.app.url, query, { cookies });

  it('the guard answers 401 without spending the refresh token, and warns once naming the fix', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    for (let i = 0; i < 3; i++) {
      const res = await graphql('{ me { userId } }', sessionCookies(session));
      expect(res.body.errors[0].extensions.code).toBe('UNAUTHENTICATED');
    }
    expect(suite.emulator.calls('refresh')).toBe(0);
    const warnings = suite.logs.entries.filter((entry) => entry.level === 'warn' && /no response/.test(entry.text));
    expect(warnings).toHaveLength(1);
    expect(warnings[0].text).toMatch(/context: \(\{ req, res \}\) => \(\{ req, res \}\)/);

    // The refresh token is still good where a response exists.
    const rest = await request(`${suite.app.url}/session/no-response`, { cookies: sessionCookies(session) });
    expect(rest.status).toBe(200);
    expect(rest.body.userId).toBe(session.userId);
  });

  it('the interceptor leaves the request anonymous without spending the refresh token', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await graphql('{ maybeMe }', sessionCookies(session));
    expect(res.body).toEqual({ data: { maybeMe: null } });
    expect(suite.emulator.calls('refresh')).toBe(0);
  });

  it('a valid JWT still passes the guard without a response', async () => {
    const session = await suite.emulator.createSession();
    const res = await graphql('{ me { userId } }', { [JWT_COOKIE]: session.jwt });
    expect(res.body).toEqual({ data: { me: { userId: session.userId } } });
  });

  it('getSession(req) without a response returns the rotated material, which works for the next request', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const res = await request(`${suite.app.url}/session/no-response`, { cookies: sessionCookies(session) });
    expect(res.status).toBe(200);
    expect(res.setCookies).toEqual([]);
    expect(res.body).toMatchObject({ userId: session.userId, refreshed: true, jwt: expect.stringMatching(/^ey/) });
    expect(res.body.refreshToken.secret).not.toBe(session.refreshToken.secret);
    expect(Date.parse(res.body.refreshToken.expiresAt)).toBeGreaterThan(Date.now());

    const next = await request(`${suite.app.url}/protected`, {
      cookies: { [JWT_COOKIE]: 'x', [REFRESH_COOKIE]: res.body.refreshToken.secret },
    });
    expect(next.status).toBe(200);
    expect(next.body.userId).toBe(session.userId);
  });

  describe('explicit tokens get the checks cookies get', () => {
    it.each<[string, unknown]>([
      ['a numeric refresh token', { refreshToken: 12345 }],
      ['a refresh token object with a numeric secret', { refreshToken: { secret: 42 } }],
      ['an array JWT', { jwt: ['a', 'b'] }],
      ['a numeric JWT with a refresh token', { jwt: 42, refreshToken: 'abc' }],
      ['a 5 KB refresh token', { refreshToken: 'a'.repeat(5 * 1024) }],
      ['a refresh token with a space', { refreshToken: 'a b' }],
      ['a 9 KB JWT', { jwt: 'e'.repeat(9 * 1024) }],
      ['an array', []],
      ['an object posing as a request, with a header that is no string', { headers: { cookie: { length: 5 } } }],
    ])('answers 401 to %s, never a 500, and sends nothing upstream', async (_, body) => {
      const res = await request(`${suite.app.url}/session/explicit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ statusCode: 401, message: expect.any(String), error: 'Unauthorized' });
      expect(suite.emulator.calls('refresh') + suite.emulator.calls('jwks')).toBe(0);
    });

    it('accepts valid explicit tokens', async () => {
      const session = await suite.emulator.createSession({ expired: true });
      const res = await request(`${suite.app.url}/session/explicit`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ jwt: session.jwt, refreshToken: session.refreshToken.secret }),
      });
      expect(res.body).toEqual({ userId: session.userId, refreshed: true });
    });
  });
});
