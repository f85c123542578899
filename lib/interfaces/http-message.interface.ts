/**
 * The few things the module reads from a request: Express's `Request`, Fastify's `FastifyRequest` or a bare
 * Node `IncomingMessage` all fit.
 */
export interface RequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly protocol?: string;
  readonly socket?: object | null;
}

/** Express's `Response`, Fastify's `FastifyReply` or a Node `ServerResponse`. */
export interface ResponseLike {
  getHeader(name: string): unknown;
}

/** The request and response behind an execution context, as the guard's and interceptor's seams see them. */
export interface HttpContext {
  request: RequestLike & { user?: unknown };
  /** Missing where the transport has none (a GraphQL context without `res`): then there is no refresh. */
  response?: ResponseLike;
  /**
   * The long-lived connection the request came on: a socket.io or ws client, a graphql-ws socket. A session is
   * never refreshed over it (there are no cookies to rotate), and it is closed when the JWT expires.
   */
  connection?: object;
}
