export { CrossmintAuthModule } from './crossmint-auth.module.js';
export { CrossmintAuthService } from './crossmint-auth.service.js';
export { CrossmintAuthGuard } from './guards/crossmint-auth.guard.js';
export { CrossmintSessionInterceptor } from './interceptors/crossmint-session.interceptor.js';
export { CurrentUser } from './decorators/current-user.decorator.js';
export { CrossmintSocketAuth, type SocketIoMiddleware } from './realtime/crossmint-socket-auth.service.js';
export { Public, IS_PUBLIC_KEY } from './decorators/public.decorator.js';
export { OptionalAuth, IS_OPTIONAL_AUTH_KEY } from './decorators/optional-auth.decorator.js';
export { InjectCrossmintAuthOptions } from './decorators/inject-crossmint-auth-options.decorator.js';
export { CrossmintAuthHealthIndicator } from './health/crossmint-auth.health-indicator.js';
export { CrossmintAuthReason } from './crossmint-auth.reasons.js';
export {
  CrossmintAuthenticationError,
  CrossmintServiceUnavailableError,
  CrossmintAuthOptionsError,
  CrossmintUnsupportedContextError,
} from './crossmint-auth.errors.js';
export { CROSSMINT_AUTH_OPTIONS, CROSSMINT_HTTP_CLIENT } from './crossmint-auth.constants.js';
export { FetchCrossmintHttpClient } from './api/fetch-http-client.js';
export type { CrossmintApiKeyStatus } from './api/crossmint-api.js';
export { InMemoryRefreshStore, type InMemoryRefreshStoreOptions } from './refresh-store/in-memory-refresh-store.js';
export { RedisRefreshStore, type RedisRefreshStoreOptions } from './refresh-store/redis-refresh-store.js';
export type * from './interfaces/index.js';
export type { CrossmintCredentials } from './crossmint-auth.credentials.js';
/** What the guard and the interceptor are built on: a subclass with dependencies of its own passes it to `super`. */
export { CrossmintSessionResolver } from './session/crossmint-session.resolver.js';

// Deprecated, to be removed in 0.3.
/** @deprecated The raw, unvalidated options: inject `CROSSMINT_AUTH_OPTIONS` (`@InjectCrossmintAuthOptions()`) instead. */
export { CROSSMINT_AUTH_MODULE_OPTIONS } from './crossmint-auth.module-definition.js';
/** @deprecated The defaults are documented with each option; the resolved values are in `CROSSMINT_AUTH_OPTIONS`. */
export { CROSSMINT_AUTH_DEFAULTS } from './crossmint-auth.constants.js';
/** @deprecated An internal of option validation; `CROSSMINT_AUTH_OPTIONS` holds the project id it reads. */
export {
  parseCrossmintApiKey,
  type CrossmintApiKeyInfo,
  type CrossmintEnvironment,
} from './options/crossmint-api-key.js';
