import {
  ForbiddenException,
  HttpException,
  HttpStatus,
  Inject,
  Injectable,
  InternalServerErrorException,
  Logger,
  type OnModuleInit,
} from '@nestjs/common';
import { ExternalContextCreator, HttpAdapterHost } from '@nestjs/core';
import { CrossmintAuthCookies } from '../cookies/crossmint-auth-cookies.js';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError } from '../crossmint-auth.errors.js';
import { CrossmintAuthService } from '../crossmint-auth.service.js';
import { Public } from '../decorators/public.decorator.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { RequestLike, ResponseLike } from '../interfaces/http-message.interface.js';
import { requestHeader } from '../platform/http-message.js';
import { isRefreshSecret } from '../crossmint-auth.credentials.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { isSameOriginRequest } from './same-origin.js';

type RouteRequest = RequestLike & { body?: unknown };
type RouteName = 'refresh' | 'logout';

/**
 * The browser SDK's `refreshRoute` and `logoutRoute` (option `routes`). They are registered on the HTTP
 * adapter itself, so their paths are exact (no global prefix), and the app's global guards (a throttler,
 * say) run in front of them. They are `@Public()`: a signed-out browser uses them to get its session back.
 */
@Injectable()
export class CrossmintAuthRoutes implements OnModuleInit {
  private readonly logger = new Logger('CrossmintAuth');

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly auth: CrossmintAuthService,
    private readonly sessions: CrossmintSessionResolver,
    private readonly cookies: CrossmintAuthCookies,
    private readonly adapterHost: HttpAdapterHost,
    private readonly contextCreator: ExternalContextCreator,
  ) {}

  onModuleInit(): void {
    const routes = this.options.routes;
    if (!routes) return;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) {
      this.logger.warn('`routes` is set but there is no HTTP adapter; the refresh and logout routes are not served');
      return;
    }
    if (routes.refresh) adapter.post(routes.refresh, this.serve('refresh'));
    if (routes.logout) adapter.post(routes.logout, this.serve('logout'));
  }

  /**
   * The session rules of every other door apply (cookies written, cleared on 401, `Retry-After` on 503). Right
   * after sign-in the body carries the login's one-time secret, so a secret in the body wins over the cookie.
   */
  @Public()
  async refresh(request: RouteRequest, response: ResponseLike): Promise<void> {
    const fromBody = readBodySecret(request);
    const cookie = this.cookies.readCookieCredentials(request);
    const credentials = fromBody
      ? { refreshSecret: fromBody, source: 'cookie' as const }
      : { ...cookie, jwt: undefined };
    let session;
    try {
      session = await this.sessions.resolveCredentials(credentials, { request, response }, 'caller');
    } catch (error) {
      // The cookies were just cleared, so the browser is logged out: the cookie's own token must not stay live.
      if (
        error instanceof CrossmintAuthenticationError &&
        fromBody &&
        cookie.refreshSecret &&
        cookie.refreshSecret !== fromBody
      ) {
        await this.auth.logout(request);
      }
      throw error;
    }
    const { jwt, refreshToken, user } = session;
    const exposed = this.options.cookies.httpOnlyRefreshToken ? { expiresAt: refreshToken?.expiresAt } : refreshToken;
    this.adapterHost.httpAdapter.reply(response, { jwt, refreshToken: exposed, user }, HttpStatus.OK);
  }

  @Public()
  async logout(request: RouteRequest, response: ResponseLike): Promise<void> {
    await this.auth.logout(request, response);
    this.adapterHost.httpAdapter.reply(response, {}, HttpStatus.OK);
  }

  /**
   * A route's handler behind the app's global guards, as Nest runs a controller method. Not the global
   * interceptors and filters: the routes answer the browser SDK's JSON contract themselves.
   */
  private serve(route: RouteName): (request: RouteRequest, response: ResponseLike) => Promise<void> {
    const method = this[route] as (...args: unknown[]) => unknown;
    const only = { guards: true, interceptors: false, filters: false };
    const handler = this.contextCreator.create(
      this,
      method,
      route,
      undefined,
      undefined,
      undefined,
      undefined,
      only,
      'http',
    );
    return async (request, response) => {
      try {
        // Before the guards, so that a cross-site page cannot spend its victim's rate limit.
        if (!isSameOriginRequest(request, this.options.routes!.allowedOrigins)) {
          throw new ForbiddenException('Cross-site request refused');
        }
        await handler(request, response);
      } catch (error) {
        this.replyError(response, error, route);
      }
    };
  }

  /** Nest's JSON error shape; headers a guard set (a throttler's `Retry-After`) stay on the response. */
  private replyError(response: ResponseLike, error: unknown, route: RouteName): void {
    if (!(error instanceof HttpException)) {
      this.logger.error(`Crossmint ${route} route failed: ${(error as Error)?.name ?? 'unknown error'}`);
      return this.replyError(response, new InternalServerErrorException(), route);
    }
    const status = error.getStatus();
    const body = error.getResponse();
    // A string response gets the shape Nest's own exception filter gives it.
    this.adapterHost.httpAdapter.reply(
      response,
      typeof body === 'object' ? body : { statusCode: status, message: body },
      status,
    );
  }
}

/**
 * The refresh secret of a JSON body. Only a JSON content type counts: a cross-site HTML form can send
 * urlencoded or text/plain bodies, never `application/json`.
 */
function readBodySecret(request: RouteRequest): string | undefined {
  const contentType = requestHeader(request, 'content-type');
  if (contentType?.split(';')[0].trim().toLowerCase() !== 'application/json') return undefined;
  const refresh = (request.body as { refresh?: unknown } | undefined)?.refresh;
  return isRefreshSecret(refresh) ? refresh : undefined;
}
