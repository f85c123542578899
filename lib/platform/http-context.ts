import type { ExecutionContext } from '@nestjs/common';
import { CrossmintUnsupportedContextError } from '../crossmint-auth.errors.js';
import type { HttpContext, RequestLike, ResponseLike } from '../interfaces/http-message.interface.js';
import { socketRequest } from './socket-context.js';

/**
 * What a GraphQL context holds: Apollo's `{ req, res }`, Mercurius' `{ reply }`; over graphql-ws, its `extra`
 * (the socket and the upgrade request) and `connectionParams` (and whatever the app adds).
 */
interface GraphqlContext {
  req?: HttpContext['request'] & { res?: ResponseLike };
  request?: HttpContext['request'] & { res?: ResponseLike };
  res?: ResponseLike;
  reply?: ResponseLike;
  extra?: { socket?: object; request?: RequestLike };
  connectionParams?: Record<string, unknown>;
}

/**
 * The request and response behind an execution context: HTTP, GraphQL (the request and response are taken
 * from the GraphQL context object, so `@nestjs/graphql` is not needed here), a WebSocket message or a graphql-ws
 * subscription (the handshake, with the socket as `connection`). Other context types are refused rather than
 * waved through.
 */
export function getHttpContext(context: ExecutionContext): HttpContext {
  const type = context.getType<string>();
  // What switchToHttp().getRequest() / getResponse() return, without the three closures it assigns to the context.
  if (type === 'http') return { request: context.getArgByIndex(0), response: context.getArgByIndex(1) };
  if (type === 'graphql') {
    const gqlContext = context.getArgByIndex<GraphqlContext | undefined>(2) ?? {};
    const request = gqlContext.req ?? gqlContext.request;
    const response = gqlContext.res ?? gqlContext.reply ?? request?.res;
    if (request?.headers) return { request, response };
    const ws = graphqlWsContext(gqlContext);
    if (ws) return ws;
  }
  if (type === 'ws') {
    const client = context.getArgByIndex<object>(0);
    const request = socketRequest(client);
    if (request) return { request, connection: client };
    throw new CrossmintUnsupportedContextError(
      type,
      "this ws client's handshake is unknown: call CrossmintSocketAuth.authenticate(client, request) in handleConnection",
    );
  }
  throw new CrossmintUnsupportedContextError(type);
}

/** A graphql-ws subscription: the upgrade request's cookies, or a token in `connectionParams`. */
function graphqlWsContext({ extra, connectionParams }: GraphqlContext): HttpContext | undefined {
  if (!extra?.socket || !extra.request?.headers) return undefined;
  const request = socketRequest(extra.socket, extra.request, connectionToken(connectionParams));
  return request && { request, connection: extra.socket };
}

/** `{ token }`, or `{ authorization: 'Bearer …' }` (either case) as a browser cannot set headers on a WebSocket. */
function connectionToken(params: Record<string, unknown> | undefined): unknown {
  if (!params) return undefined;
  const authorization = params.authorization ?? params.Authorization;
  if (typeof authorization === 'string') return /^\s*Bearer\s+(.*)$/is.exec(authorization)?.[1]?.trim() ?? '';
  return params.token;
}
