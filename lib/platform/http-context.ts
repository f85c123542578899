import type { ExecutionContext } from '@nestjs/common';
import type { HttpContext, ResponseLike } from '../interfaces/http-message.interface.js';

/** What a GraphQL context holds: Apollo's `{ req, res }`, Mercurius' `{ reply }` (and whatever the app adds). */
interface GraphqlContext {
  req?: HttpContext['request'] & { res?: ResponseLike };
  request?: HttpContext['request'] & { res?: ResponseLike };
  res?: ResponseLike;
  reply?: ResponseLike;
}

/**
 * The request and response behind an execution context: HTTP, or GraphQL (the request and response are taken
 * from the GraphQL context object, so `@nestjs/graphql` is not needed here). Other context types are refused
 * rather than waved through.
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
  }
  throw new Error(`Crossmint auth cannot read a request from a '${type}' execution context`);
}
