export { CrossmintAuthModule } from './crossmint-auth.module.js';
export { CROSSMINT_AUTH_MODULE_OPTIONS } from './crossmint-auth.module-definition.js';
export { CrossmintAuthService, type CrossmintTokens } from './crossmint-auth.service.js';
export { CrossmintAuthGuard } from './guards/crossmint-auth.guard.js';
export { CrossmintSessionInterceptor } from './interceptors/crossmint-session.interceptor.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { Public, IS_PUBLIC_KEY } from './decorators/public.decorator.js';
export { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from './crossmint-auth.errors.js';
export { CROSSMINT_AUTH_OPTIONS, CROSSMINT_HTTP_CLIENT } from './crossmint-auth.constants.js';
export {
  CROSSMINT_AUTH_DEFAULTS,
  type CrossmintAuthModuleOptions,
  type CrossmintAuthCookieOptions,
  type CrossmintAuthRoutesOptions,
  type ResolvedCrossmintAuthOptions,
} from './crossmint-auth.options.js';
export { parseCrossmintApiKey, type CrossmintApiKeyInfo, type CrossmintEnvironment } from './crossmint-api-key.js';
export type { CrossmintHttpClient, CrossmintHttpRequest, CrossmintHttpResponse } from './http/crossmint-http-client.interface.js';
export { FetchCrossmintHttpClient } from './http/fetch-http-client.js';
export type { CrossmintUser, CrossmintRefreshToken, CrossmintApiKeyStatus } from './http/crossmint-api.js';
export type { CrossmintJwtPayload } from './jwt/crossmint-jwt-verifier.js';
export type { CrossmintAuthMaterial } from './cookies/crossmint-auth-cookies.js';
export type { CrossmintSession, CrossmintAuthUser, RefreshedCrossmintSession } from './session/crossmint-session.js';
export { CrossmintSessionResolver } from './session/crossmint-session.resolver.js';
export type { CrossmintRefreshStore, CrossmintRefreshResult } from './refresh-store/crossmint-refresh-store.interface.js';
export { InMemoryRefreshStore, type InMemoryRefreshStoreOptions } from './refresh-store/in-memory-refresh-store.js';
export { RedisRefreshStore, type RedisRefreshStoreOptions } from './refresh-store/redis-refresh-store.js';
export type { RedisRefreshStoreClient } from './refresh-store/redis-refresh-store-client.interface.js';
