import { Inject, Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { SSE_METADATA } from '@nestjs/common/constants.js';
import { Reflector } from '@nestjs/core';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import { moduleNotVisibleError } from '../crossmint-auth.errors.js';
import { IS_OPTIONAL_AUTH_KEY } from '../decorators/optional-auth.decorator.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { HttpContext } from '../interfaces/http-message.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { markStreamResponse } from '../platform/http-message.js';
import { markSignedOut } from '../platform/signed-out-requests.js';
import { sendToWsClient } from '../platform/socket-context.js';
import { closeSocketAtExpiry, endStreamAtExpiry, socketRefusal } from '../realtime/socket-lifetime.js';
import { loadWsErrors } from '../realtime/ws-exception.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';

/** What the decorators say of a route. */
interface RouteAccess {
  isPublic: boolean;
  isOptional: boolean;
  isStream: boolean;
}

/**
 * Lets a request through with a valid Crossmint session (refreshing it and rotating the cookies when needed)
 * and sets `request.user`; otherwise 401, or 503 when Crossmint cannot be reached. `@Public()` routes pass
 * unchecked; `@OptionalAuth()` routes pass signed out too, with `request.user` set when the session is valid.
 * Its seams are protected methods: `isPublic`, `isOptional`, `getRequestResponse` and `setRequestUser`.
 * On a WebSocket or a graphql-ws subscription it reads the handshake, never refreshes, refuses with a `WsException`
 * (`{ status, code, message }`) and closes the socket when the JWT expires; an `@Sse()` stream ends then
 * (`closeOnJwtExpiry`).
 */
@Injectable()
export class CrossmintAuthGuard implements CanActivate {
  /** Route metadata as read once per route: it is set when classes are declared, and reflecting it costs more. */
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAccess>>();

  constructor(
    // Optional so that a module that cannot see CrossmintAuthModule gets a message saying so, not Nest's.
    @Optional() protected readonly sessions: CrossmintSessionResolver,
    protected readonly reflector: Reflector,
    // Optional so that subclasses passing two arguments to `super` keep working (with the default, `true`).
    @Optional() @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options?: ResolvedCrossmintAuthOptions,
  ) {
    if (!sessions) throw moduleNotVisibleError(new.target.name);
  }

  /** Synchronous when the JWT was verified before (most requests), a promise otherwise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    if (context.getType() === 'ws') return this.canActivateSocket(context);
    const http = this.getRequestResponse(context);
    const stream = http.response !== undefined && this.routeAccess(context).isStream;
    if (stream) markStreamResponse(http.response!);
    if (this.isOptional(context)) return this.authenticateOptionally(http, stream);
    const session = this.sessions.resolveRequest(http.request, http.response, http.connection ? 'socket' : 'guard');
    if (session instanceof Promise) return session.then((resolved) => this.admit(http, resolved, stream));
    return this.admit(http, session, stream);
  }

  /** Whether the route is open to all: `@Public()` on the handler or its controller. Override to widen it. */
  protected isPublic(context: ExecutionContext): boolean {
    return this.routeAccess(context).isPublic;
  }

  /** Whether signing in is optional on the route: `@OptionalAuth()` on the handler or its controller. */
  protected isOptional(context: ExecutionContext): boolean {
    return this.routeAccess(context).isOptional;
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

  /** A gateway message: the handshake's session, or a `WsException` the client receives as is. */
  private async canActivateSocket(context: ExecutionContext): Promise<boolean> {
    const { WsException, reachesWsClients } = await loadWsErrors();
    const http = this.getRequestResponse(context);
    try {
      return this.admit(http, await this.sessions.resolveRequest(http.request, undefined, 'socket'), false, true);
    } catch (error) {
      if (this.isOptional(context)) return this.passSignedOut(http);
      const refusal = socketRefusal(error);
      if (!reachesWsClients) sendToWsClient(context.getArgByIndex(0), refusal);
      throw new WsException(refusal);
    }
  }

  /**
   * The interceptor's rules: refresh when it can, never reject, signed out while Crossmint is unavailable. A
   * connection (a graphql-ws subscription) is never refreshed; its refusals let it through signed out.
   */
  private authenticateOptionally(http: HttpContext, stream: boolean): boolean | Promise<boolean> {
    const pass = (resolved: CrossmintSession | undefined) =>
      resolved ? this.admit(http, resolved, stream) : this.passSignedOut(http);
    if (!http.connection) {
      const session = this.sessions.resolveRequest(http.request, http.response, 'interceptor');
      return session instanceof Promise ? session.then(pass) : pass(session);
    }
    return Promise.resolve()
      .then(() => this.sessions.resolveRequest(http.request, undefined, 'socket'))
      .then(pass, () => this.passSignedOut(http));
  }

  private passSignedOut(http: HttpContext): true {
    markSignedOut(http.request);
    return true;
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

  private routeAccess(context: ExecutionContext): RouteAccess {
    const controller = context.getClass();
    const handler = context.getHandler();
    // Keyed by class, then handler: an inherited handler may be public in one controller and not in another.
    let handlers = this.routes.get(controller);
    if (!handlers) this.routes.set(controller, (handlers = new WeakMap()));
    let access = handlers.get(handler);
    if (!access) {
      const targets = [handler, controller];
      access = {
        isPublic: this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, targets) === true,
        isOptional: this.reflector.getAllAndOverride<boolean>(IS_OPTIONAL_AUTH_KEY, targets) === true,
        isStream: this.reflector.get(SSE_METADATA, handler) === true,
      };
      handlers.set(handler, access);
    }
    return access;
  }
}
