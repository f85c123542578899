import { afterEach, describe, expect, it } from '@jest/globals';
import { UseGuards } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { Field, Int, ObjectType, Resolver, Subscription, GraphQLModule } from '@nestjs/graphql';
import { createClient, type Client } from 'graphql-ws';
import { decodeJwt } from 'jose';
import WebSocket from 'ws';
import { CrossmintAuthGuard, CurrentUser } from '../lib/index.js';
import { hasExpiryTimer } from '../lib/platform/connection-expiry.js';
import { JWT_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { graphqlAppOptions } from './support/graphql.js';
import { cookieHeader } from './support/http.js';

@ObjectType()
class Tick {
  @Field()
  userId!: string;

  @Field(() => Int)
  n!: number;
}

/** Sockets whose subscriptions are being served, for checks of what a closed one left behind. */
const serverSockets: object[] = [];

@Resolver()
class TickResolver {
  @Subscription(() => Tick)
  @UseGuards(CrossmintAuthGuard)
  ticks(@CurrentUser('userId') userId: string): AsyncIterableIterator<{ ticks: Tick }> {
    return ticksOf(userId);
  }
}

async function* ticksOf(userId: string): AsyncIterableIterator<{ ticks: Tick }> {
  for (let n = 0; ; n++) {
    yield { ticks: { userId, n } };
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** graphql-ws's context: the upgrade request and the socket (`extra`) and `connectionParams`, beside HTTP's req/res. */
type ContextInput = { req?: unknown; res?: unknown; extra?: { socket?: object }; connectionParams?: unknown };
const context = ({ req, res, extra, connectionParams }: ContextInput) => {
  if (extra?.socket) serverSockets.push(extra.socket);
  return { req, res, extra, connectionParams };
};

const QUERY = 'subscription { ticks { userId n } }';

interface Outcome {
  values: Array<{ userId: string; n: number }>;
  error?: any;
}

describe('Crossmint auth on GraphQL subscriptions over graphql-ws (Apollo on Express)', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => {
      const app = (extra = {}) => {
        const options = graphqlAppOptions(
          emulator,
          GraphQLModule.forRoot<ApolloDriverConfig>({
            driver: ApolloDriver,
            autoSchemaFile: true,
            graphiql: false,
            subscriptions: { 'graphql-ws': true },
            context,
          }),
        );
        return {
          ...options,
          moduleOptions: { ...options.moduleOptions!, ...extra },
          providers: [...options.providers!, TickResolver],
        };
      };
      return { app: app(), lenient: app({ closeOnJwtExpiry: false }) };
    },
    logs: 'clear',
  });
  const clients: Client[] = [];
  afterEach(async () => {
    await Promise.all(clients.splice(0).map((client) => client.dispose()));
  });

  /** A graphql-ws client whose upgrade request carries `cookies`. */
  function client(
    init: { cookies?: Record<string, string>; connectionParams?: Record<string, unknown> },
    app = suite.app,
  ) {
    const headers = init.cookies ? { cookie: cookieHeader(init.cookies) } : {};
    class CookieWebSocket extends WebSocket {
      constructor(url: string, protocols?: string | string[]) {
        super(url, protocols, { headers });
      }
    }
    const created = createClient({
      url: `${app.url.replace(/^http/, 'ws')}/graphql`,
      webSocketImpl: CookieWebSocket,
      connectionParams: init.connectionParams,
      retryAttempts: 0,
    });
    clients.push(created);
    return created;
  }

  /** Subscribes, collects `take` values (then leaves), or runs until the server ends or refuses it. */
  function subscribe(graphqlClient: Client, take = Infinity): Promise<Outcome> {
    const outcome: Outcome = { values: [] };
    return new Promise((resolve) => {
      const unsubscribe = graphqlClient.subscribe<{ ticks: { userId: string; n: number } }>(
        { query: QUERY },
        {
          next: ({ data, errors }) => {
            if (errors) outcome.error = errors;
            if (data) outcome.values.push(data.ticks);
            if (outcome.values.length >= take) {
              unsubscribe();
              resolve(outcome);
            }
          },
          error: (error) => resolve({ ...outcome, error }),
          complete: () => resolve(outcome),
        },
      );
    });
  }

  it('takes the session from the upgrade request cookies, with @CurrentUser', async () => {
    const session = await suite.emulator.createSession();
    const outcome = await subscribe(client({ cookies: { [JWT_COOKIE]: session.jwt } }), 2);
    expect(outcome).toEqual({
      values: [
        { userId: session.userId, n: 0 },
        { userId: session.userId, n: 1 },
      ],
    });
  });

  it('takes the session from connectionParams (authorization or token)', async () => {
    const session = await suite.emulator.createSession();
    const bearer = await subscribe(client({ connectionParams: { authorization: `Bearer ${session.jwt}` } }), 1);
    expect(bearer.values).toEqual([{ userId: session.userId, n: 0 }]);
    const token = await subscribe(client({ connectionParams: { token: session.jwt } }), 1);
    expect(token.values).toEqual([{ userId: session.userId, n: 0 }]);
  });

  it('refuses a subscription without credentials, or with a forged token, and never refreshes', async () => {
    const none = await subscribe(client({}));
    expect(none.values).toEqual([]);
    expect(none.error).toEqual([expect.objectContaining({ message: 'Authentication required' })]);

    const session = await suite.emulator.createSession();
    const forged = await suite.emulator.signJwt(decodeJwt(session.jwt), { key: 'foreign' });
    const refused = await subscribe(client({ connectionParams: { token: forged } }));
    expect(refused.error).toEqual([expect.objectContaining({ message: 'Invalid or expired token' })]);

    const expired = await suite.emulator.createSession({ expired: true });
    const stale = await subscribe(client({ cookies: sessionCookies(expired) }));
    expect(stale.error).toEqual([expect.objectContaining({ message: 'Invalid or expired token' })]);
    expect(suite.emulator.calls('refresh')).toBe(0);
  });

  it('closes the socket (4401) when the JWT expires, and leaves no timer behind a socket that closed first', async () => {
    const session = await suite.emulator.createSession({ jwtTtlSec: 2 });
    const outcome = await subscribe(client({ cookies: { [JWT_COOKIE]: session.jwt } }));
    expect(outcome.values.length).toBeGreaterThan(0);
    expect(outcome.error).toMatchObject({ code: 4401, reason: 'Session expired' });
    // Not before the JWT expired (timers and Date.now() may differ by a few ms).
    expect(Date.now()).toBeGreaterThanOrEqual(decodeJwt(session.jwt).exp! * 1000 - 50);

    const long = await suite.emulator.createSession();
    const other = client({ cookies: { [JWT_COOKIE]: long.jwt } });
    await subscribe(other, 1);
    const socket = serverSockets.at(-1)!;
    expect(hasExpiryTimer(socket)).toBe(true);
    await other.dispose();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(hasExpiryTimer(socket)).toBe(false);
  });

  it('keeps the subscription past the JWT expiry with closeOnJwtExpiry: false', async () => {
    const session = await suite.emulator.createSession({ jwtTtlSec: 1 });
    const graphqlClient = client({ cookies: { [JWT_COOKIE]: session.jwt } }, suite.lenient);
    const take = Math.ceil(((decodeJwt(session.jwt).exp! + 0.3) * 1000 - Date.now()) / 50) + 1;
    const outcome = await subscribe(graphqlClient, take);
    expect(outcome.error).toBeUndefined();
    expect(outcome.values).toHaveLength(take);
  });
});
