import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { IS_PUBLIC_KEY } from '../decorators/public.decorator.js';
import { toAuthUser } from '../session/crossmint-session.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { getHttpContext, type HttpContext } from '../utils/http-context.js';

/**
 * Lets a request through with a valid Crossmint session (refreshing it and rotating the cookies when needed)
 * and sets `request.user`; otherwise 401, or 503 when Crossmint cannot be reached.
 */
@Injectable()
export class CrossmintAuthGuard implements CanActivate {
  constructor(
    protected readonly sessions: CrossmintSessionResolver,
    protected readonly reflector: Reflector,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    if (this.isPublic(context)) return true;
    const { request, response } = this.getRequestResponse(context);
    const session = await this.sessions.resolveRequest(request, response);
    request.user = toAuthUser(session);
    return true;
  }

  protected isPublic(context: ExecutionContext): boolean {
    return this.reflector.getAllAndOverride<boolean>(IS_PUBLIC_KEY, [context.getHandler(), context.getClass()]) === true;
  }

  /** Override to support another transport. */
  protected getRequestResponse(context: ExecutionContext): HttpContext {
    return getHttpContext(context);
  }
}
