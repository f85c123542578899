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
import { HttpAdapterHost } from '@nestjs/core';
import { CrossmintAuthCookies } from '../cookies/crossmint-auth-cookies.js';
import type { RequestLike, ResponseLike } from '../cookies/http-message.js';
import { CROSSMINT_AUTH_OPTIONS, MAX_REFRESH_SECRET_LENGTH } from '../crossmint-auth.constants.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import { CrossmintAuthService } from '../crossmint-auth.service.js';
import { CrossmintSessionResolver } from '../session/crossmint-session.resolver.js';
import { isSameOriginRequest } from './same-origin.js';

type RouteRequest = RequestLike & { body?: unknown };

/**
 * The browser SDK's `refreshRoute` and `logoutRoute` (option `routes`). They are registered on the HTTP
 * adapter itself, so their paths are exact (no global prefix) and a global guard does not stand in front
 * of them: they are how a signed-out browser gets its session back.
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
  ) {}

  onModuleInit(): void {
    const routes = this.options.routes;
    if (!routes) return;
    const adapter = this.adapterHost?.httpAdapter;
    if (!adapter) {
      this.logger.warn('`routes` is set but there is no HTTP adapter; the refresh and logout routes are not served');
      return;
    }
    if (routes.refresh) adapter.post(routes.refresh, (req: RouteRequest, res: ResponseLike) => this.handle(req, res, 'refresh'));
    if (routes.logout) adapter.post(routes.logout, (req: RouteRequest, res: ResponseLike) => this.handle(req, res, 'logout'));
  }

  private async handle(request: RouteRequest, response: ResponseLike, route: 'refresh' | 'logout'): Promise<void> {
    const adapter = this.adapterHost.httpAdapter;
    try {
      if (!isSameOriginRequest(request, this.options.routes!.allowedOrigins)) {
        throw new ForbiddenException('Cross-site request refused');
      }
      if (route === 'logout') {
        await this.auth.logout(request, response);
        return adapter.reply(response, {}, HttpStatus.OK);
      }
      const { jwt, refreshToken, user } = await this.refresh(request, response);
      const exposed = this.options.cookies.httpOnlyRefreshToken ? { expiresAt: refreshToken?.expiresAt } : refreshToken;
      adapter.reply(response, { jwt, refreshToken: exposed, user }, HttpStatus.OK);
    } catch (error) {
      if (error instanceof HttpException) return adapter.reply(response, error.getResponse(), error.getStatus());
      this.logger.error(`Crossmint ${route} route failed: ${(error as Error)?.name ?? 'unknown error'}`);
      const internal = new InternalServerErrorException();
      adapter.reply(response, internal.getResponse(), internal.getStatus());
    }
  }

  /**
   * The session rules of every other door apply (cookies written, cleared on 401, `Retry-After` on 503). Right
   * after sign-in the body carries the login's one-time secret, so a secret in the body wins over the cookie.
   */
  private refresh(request: RouteRequest, response: ResponseLike) {
    const body = request.body as { refresh?: unknown } | undefined;
    const fromBody =
      typeof body?.refresh === 'string' && body.refresh !== '' && body.refresh.length <= MAX_REFRESH_SECRET_LENGTH ? body.refresh : undefined;
    const refreshToken = fromBody ?? this.cookies.readRefreshToken(request);
    return this.sessions.resolveCredentials({ refreshToken, source: 'cookie' }, response);
  }
}
