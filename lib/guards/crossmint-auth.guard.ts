import { Injectable, Optional, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { moduleNotVisibleError } from '../crossmint-auth.errors.js';
import { IS_OPTIONAL_AUTH_KEY } from '../decorators/optional-auth.decorator.js';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { HttpContext } from '../interfaces/http-message.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { markSignedOut } from '../platform/signed-out-requests.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';

/** What the decorators say of a route. */
interface RouteAccess {
  isPublic: boolean;
  isOptional: boolean;
}

/**
 * Lets a request through with a valid Crossmint session (refreshing it and rotating the cookies when needed)
 * and sets `request.user`; otherwise 401, or 503 when Crossmint cannot be reached. `@Public()` routes pass
 * unchecked; `@OptionalAuth()` routes pass signed out too, with `request.user` set when the session is valid.
 * Its seams are protected methods: `isPublic`, `isOptional`, `getRequestResponse` and `setRequestUser`.
 */
@Injectable()
export class CrossmintAuthGuard implements CanActivate {
  /** Route metadata as read once per route: it is set when classes are declared, and reflecting it costs more. */
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAccess>>();

  constructor(
    // Optional so that a module that cannot see CrossmintAuthModule gets a message saying so, not Nest's.
    @Optional() protected readonly sessions: CrossmintSessionResolver,
    protected readonly reflector: Reflector,
  ) {
    if (!sessions) throw moduleNotVisibleError(new.target.name);
  }

  /** Synchronous when the JWT was verified before (most requests), a promise otherwise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    const { request, response } = this.getRequestResponse(context);
    if (this.isOptional(context)) return this.authenticateOptionally(request, response);
    const session = this.sessions.resolveRequest(request, response, 'guard');
    if (session instanceof Promise) return session.then((resolved) => this.setRequestUser(request, resolved));
    return this.setRequestUser(request, session);
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

  /** The interceptor's rules: refresh when it can, never reject, signed out while Crossmint is unavailable. */
  private authenticateOptionally(request: HttpContext['request'], response: HttpContext['response']) {
    const session = this.sessions.resolveRequest(request, response, 'interceptor');
    const pass = (resolved: CrossmintSession | undefined) => {
      if (resolved) return this.setRequestUser(request, resolved);
      markSignedOut(request);
      return true;
    };
    return session instanceof Promise ? session.then(pass) : pass(session);
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
      };
      handlers.set(handler, access);
    }
    return access;
  }
}
