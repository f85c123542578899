import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { HttpContext } from '../interfaces/http-message.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';

/**
 * Lets a request through with a valid Crossmint session (refreshing it and rotating the cookies when needed)
 * and sets `request.user`; otherwise 401, or 503 when Crossmint cannot be reached. Its seams are protected
 * methods: `isPublic`, `getRequestResponse` and `setRequestUser`.
 */
@Injectable()
export class CrossmintAuthGuard implements CanActivate {
  /** `@Public()` as read once per route: metadata is set when classes are declared, and reflecting it costs more. */
  private readonly publicRoutes = new WeakMap<object, WeakMap<object, boolean>>();

  constructor(
    protected readonly sessions: CrossmintSessionResolver,
    protected readonly reflector: Reflector,
  ) {}

  /** Synchronous when the JWT was verified before (most requests), a promise otherwise. */
  canActivate(context: ExecutionContext): boolean | Promise<boolean> {
    if (this.isPublic(context)) return true;
    const { request, response } = this.getRequestResponse(context);
    const session = this.sessions.resolveRequest(request, response, 'guard');
    if (session instanceof Promise) return session.then((resolved) => this.setRequestUser(request, resolved));
    return this.setRequestUser(request, session);
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
