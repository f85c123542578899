import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { HttpContext } from '../interfaces/http-message.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { markStreamResponse } from '../platform/http-message.js';
import { sendToWsClient } from '../platform/socket-context.js';
import { closeSocketAtExpiry, endStreamAtExpiry, socketRefusal } from '../realtime/socket-lifetime.js';
import { loadWsErrors } from '../realtime/ws-exception.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';

/**
 * Lets a request through with a valid Crossmint session (refreshing it and rotating the cookies when needed)
 * and sets `request.user`; otherwise 401, or 503 when Crossmint cannot be reached. Its seams are protected
 * methods: `isPublic`, `getRequestResponse` and `setRequestUser`. On a WebSocket or a graphql-ws subscription it
 * reads the handshake, never refreshes, refuses with a `WsException` (`{ status, code, message }`) and closes the
 * socket when the JWT expires; an `@Sse()` stream ends then (`closeOnJwtExpiry`).
 */
@Injectable()
export class CrossmintAuthGuard implements CanActivate {
  /** `@Public()` as read once per route: metadata is set when classes are declared, and reflecting it costs more. */
  private readonly publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();
  /** Whether a handler is an `@Sse()` stream, read once per handler. */
  private readonly streams = new WeakMap<object, boolean>();

  constructor(
    protected readonly sessions: CrossmintSessionResolver,
    protected readonly reflector: Reflector,
    // Optional so that subclasses passing two arguments to `super` keep working (with the default, `true`).
    @Optional() @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options?: ResolvedCrossmintAuthOptions,
  ) {}

  /** Synchronous when the JWT was verified before (most requests), a promise otherwise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    if (context.getType() === 'ws') return this.canActivateSocket(context);
    const http = this.getRequestResponse(context);
    const stream = http.response !== undefined && this.isStream(context);
    if (stream) markStreamResponse(http.response!);
    const session = this.sessions.resolveRequest(http.request, http.response, http.connection ? 'socket' : 'guard');
    if (session instanceof Promise) return session.then((resolved) => this.admit(http, resolved, stream));
    return this.admit(http, session, stream);
  }

  /** A gateway message: the handshake's session, or a `WsException` the client receives as is. */
  private async canActivateSocket(context: ExecutionContext): Promise<boolean> {
    const { WsException, reachesWsClients } = await loadWsErrors();
    try {
      const http = this.getRequestResponse(context);
      return this.admit(http, await this.sessions.resolveRequest(http.request, undefined, 'socket'), false, true);
    } catch (error) {
      const refusal = socketRefusal(error);
      if (!reachesWsClients) sendToWsClient(context.getArgByIndex(0), refusal);
      throw new WsException(refusal);
    }
  }

  /**
   * Sets the user, then has a connection or an `@Sse()` stream end when the JWT expires. `notify`: tell a ws
   * client why before closing (a gateway's client; a graphql-ws client gets the close code only).
   */
  private admit(http: HttpContext, session: CrossmintSession, stream: boolean, notify = false): true {
    this.setRequestUser(http.request, session);
    if (this.options?.closeOnJwtExpiry === false) return true;
    if (http.connection) closeSocketAtExpiry(http.connection, session, notify);
    else if (stream) endStreamAtExpiry(http.response!, session);
    return true;
  }

  private isStream(context: ExecutionContext): boolean {
    const handler = context.getHandler();
    let isStream = this.streams.get(handler);
    if (isStream === undefined)
      this.streams.set(handler, (isStream = this.reflector.get(SSE_METADATA, handler) === true));
    return isStream;
  }

  /** Whether the route is open to all: `@Public()` on the handler or its controller. Override to widen it. */
  protected isPublic(context: ExecutionContext): boolean {
    const controller = context.getClass();
    const handler = context.getHandler();
    // Keyed by class, then handler: an inherited handler may be public in one controller and not in another.
    let handlers = this.publicRoutes.get(controller);
    if (!handlers) this.publicRoutes.set(controller, (handlers = new WeakMap()));
    let isPublic = handlers.get(handler);
    if (isPublic === undefined) {
      isPublic = this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [handler, controller]) === true;
      handlers.set(handler, isPublic);
    }
    return isPublic;
  }

  /** The request and response behind the context (HTTP and GraphQL). Override to support another transport. */
  protected getRequestResponse(context: ExecutionContext): HttpContext {
    return getHttpContext(context);
  }

  /** Puts the session on the request, as `request.user`. Override to put it elsewhere or in another shape. */
  protected setRequestUser(request: HttpContext['request'], session: CrossmintSession): true {
    request.user = toAuthUser(session);
    return true;
  }
}
