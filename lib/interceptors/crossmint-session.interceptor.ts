import { Injectable, Optional, type CallHandler, type ExecutionContext, type NestInterceptor } from '@nestjs/common';
import { from, switchMap, type Observable } from 'rxjs';
import { moduleNotVisibleError } from '../crossmint-auth.errors.js';
import type { CrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { HttpContext } from '../interfaces/http-message.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { markSignedOut } from '../platform/signed-out-requests.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { toAuthUser } from '../session/sessions.js';

/**
 * Optional authentication: sets `request.user` when the session is valid, refreshes and rotates the cookies
 * when needed, clears them when the session is definitively invalid, and never rejects the request. Its seams
 * are protected methods: `getRequestResponse` and `setRequestUser`.
 */
@Injectable()
export class CrossmintSessionInterceptor implements NestInterceptor {
  // Optional so that a module that cannot see CrossmintAuthModule gets a message saying so, not Nest's.
  constructor(@Optional() protected readonly sessions: CrossmintSessionResolver) {
    if (!sessions) throw moduleNotVisibleError(new.target.name);
  }

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    const { request, response } = this.getRequestResponse(context);
    const proceed = (session: CrossmintSession | undefined) => {
      if (session) this.setRequestUser(request, session);
      else markSignedOut(request);
      return next.handle();
    };
    const session = this.sessions.resolveRequest(request, response, 'interceptor');
    return session instanceof Promise ? from(session).pipe(switchMap(proceed)) : proceed(session);
  }

  /** The request and response behind the context (HTTP and GraphQL). Override to support another transport. */
  protected getRequestResponse(context: ExecutionContext): HttpContext {
    return getHttpContext(context);
  }

  /** Puts the session on the request, as `request.user`. Override to put it elsewhere or in another shape. */
  protected setRequestUser(request: HttpContext['request'], session: CrossmintSession): void {
    request.user = toAuthUser(session);
  }
}
