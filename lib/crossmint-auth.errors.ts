import { HttpException, HttpStatus } from '@nestjs/common';
import { DEFAULT_RETRY_AFTER_SEC } from './crossmint-auth.constants.js';

/** Credentials are missing, invalid, expired or revoked. Answers 401. */
export class CrossmintAuthenticationError extends HttpException {
  readonly code = 'CROSSMINT_AUTHENTICATION_FAILED';

  constructor(message = 'Authentication required') {
    super({ statusCode: HttpStatus.UNAUTHORIZED, message, error: 'Unauthorized' }, HttpStatus.UNAUTHORIZED);
  }
}

/** Crossmint is unreachable, timed out, answered 5xx/429 or something malformed, or refuses the API key. Answers 503. */
export class CrossmintServiceUnavailableError extends HttpException {
  readonly code = 'CROSSMINT_SERVICE_UNAVAILABLE';

  constructor(
    message = 'Crossmint authentication is temporarily unavailable',
    /** Seconds a client should wait before retrying; sent as `Retry-After`. */
    readonly retryAfterSec = DEFAULT_RETRY_AFTER_SEC,
  ) {
    super(
      { statusCode: HttpStatus.SERVICE_UNAVAILABLE, message, error: 'Service Unavailable' },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}

/** A bad option (of the module, or of `RedisRefreshStore`): thrown at boot, naming the option. */
export class CrossmintAuthOptionsError extends Error {
  readonly code = 'CROSSMINT_AUTH_INVALID_OPTIONS';

  constructor(
    message: string,
    /** The option at fault, e.g. `cookies.secure`. */
    readonly option?: string,
  ) {
    super(message);
    this.name = 'CrossmintAuthOptionsError';
  }
}

/** The guard or the interceptor used in a module that does not see `CrossmintAuthModule`: thrown at boot. */
export function moduleNotVisibleError(user: string): CrossmintAuthOptionsError {
  return new CrossmintAuthOptionsError(
    `${user} is used in a module that does not see CrossmintAuthModule: register ` +
      '`CrossmintAuthModule.forRoot(...)` (or `.forRootAsync(...)`) once with `isGlobal: true`, ' +
      'or add the module that registers it to this module’s `imports`.',
  );
}
