import { Module } from '@nestjs/common';
import { CrossmintApi } from './api/crossmint-api.js';
import { FetchCrossmintHttpClient } from './api/fetch-http-client.js';
import { CrossmintAuthCookies } from './cookies/crossmint-auth-cookies.js';
import { CROSSMINT_AUTH_OPTIONS, CROSSMINT_HTTP_CLIENT } from './crossmint-auth.constants.js';
import { CROSSMINT_AUTH_MODULE_OPTIONS, ConfigurableCrossmintAuthModule } from './crossmint-auth.module-definition.js';
import { CrossmintAuthService } from './crossmint-auth.service.js';
import { CrossmintAuthGuard } from './guards/crossmint-auth.guard.js';
import { CrossmintSessionInterceptor } from './interceptors/crossmint-session.interceptor.js';
import type { ResolvedCrossmintAuthOptions } from './interfaces/crossmint-auth-options.interface.js';
import { CrossmintJwtVerifier } from './jwt/crossmint-jwt-verifier.js';
import { JwksKeyStore } from './jwt/jwks-key-store.js';
import { resolveCrossmintAuthOptions } from './options/resolve-crossmint-auth-options.js';
import { CrossmintAuthRoutes } from './routes/crossmint-auth.routes.js';
import { CrossmintSessionRefresher } from './session/crossmint-session.refresher.js';
import { CrossmintSessionResolver } from './session/crossmint-session.resolver.js';

/**
 * `CrossmintAuthModule.forRoot(options)` or `.forRootAsync({ imports, inject, useFactory | useClass | useExisting })`;
 * pass `isGlobal: true` to use the guard and the service everywhere without importing the module again.
 */
@Module({
  providers: [
    {
      provide: CROSSMINT_AUTH_OPTIONS,
      useFactory: resolveCrossmintAuthOptions,
      // Optional so that importing the bare class fails with a message saying what to import instead.
      inject: [{ token: CROSSMINT_AUTH_MODULE_OPTIONS, optional: true }],
    },
    {
      provide: CROSSMINT_HTTP_CLIENT,
      useFactory: (options: ResolvedCrossmintAuthOptions) => options.httpClient ?? new FetchCrossmintHttpClient(),
      inject: [CROSSMINT_AUTH_OPTIONS],
    },
    CrossmintApi,
    JwksKeyStore,
    CrossmintJwtVerifier,
    CrossmintSessionRefresher,
    CrossmintAuthCookies,
    CrossmintSessionResolver,
    CrossmintAuthService,
    CrossmintAuthGuard,
    CrossmintSessionInterceptor,
    CrossmintAuthRoutes,
  ],
  exports: [
    CROSSMINT_AUTH_OPTIONS,
    CROSSMINT_HTTP_CLIENT,
    CrossmintAuthService,
    CrossmintSessionResolver,
    CrossmintAuthGuard,
    CrossmintSessionInterceptor,
  ],
})
export class CrossmintAuthModule extends ConfigurableCrossmintAuthModule {}
