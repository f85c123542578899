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
