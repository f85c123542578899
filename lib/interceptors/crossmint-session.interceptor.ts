import { Injectable, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, switchMap, type Observable } from 'rxjs';
import { toAuthUser, type CrossmintSession } from '../session/crossmint-session.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { getHttpContext, type HttpContext } from '../utils/http-context.js';

/**
 * Optional authentication: sets `request.user` when the session is valid, refreshes and rotates the cookies
 * when needed, clears them when the session is definitively invalid, and never rejects the request.
 */
@Injectable()
export class CrossmintSessionInterceptor implements NestInterceptor {
  constructor(protected readonly sessions: CrossmintSessionResolver) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { request, response } = this.getRequestResponse(context);
    const proceed = (session: CrossmintSession | undefined) => {
      if (session) request.user = toAuthUser(session);
      return next.handle();
    };
    const session = this.sessions.resolveOptionalRequest(request, response);
    return session instanceof Promise ? from(session).pipe(switchMap(proceed)) : proceed(session);
  }

  /** Override to support another transport. */
  protected getRequestResponse(context: ExecutionContext): HttpContext {
    return getHttpContext(context);
  }
}
