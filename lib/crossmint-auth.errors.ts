import { HttpException, HttpStatus } from '@nestjs/common';
import { DEFAULT_RETRY_AFTER_SEC } from './crossmint-auth.constants.js';
import { CrossmintAuthReason } from './crossmint-auth.reasons.js';

/** Credentials are missing, invalid, expired or revoked. Answers 401. */
export class CrossmintAuthenticationError extends HttpException {
  readonly code = 'CROSSMINT_AUTHENTICATION_FAILED';

  constructor(
    message = 'Authentication required',
    /** Why: logged at debug and counted, never sent to the client. */
    readonly reason: CrossmintAuthReason = CrossmintAuthReason.NoCredentials,
  ) {
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
    /** Why: logged and counted, never sent to the client. */
    readonly reason: CrossmintAuthReason = CrossmintAuthReason.UpstreamUnavailable,
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

/**
 * An execution context the module cannot read a session from (a microservice's `rpc`, an unknown transport):
 * refused rather than waved through. Extend the guard's `getRequestResponse` to serve another transport.
 */
export class CrossmintUnsupportedContextError extends Error {
  readonly code = 'CROSSMINT_AUTH_UNSUPPORTED_CONTEXT';

  constructor(
    /** The execution context's type, e.g. `rpc`. */
    readonly contextType: string,
    detail = 'override getRequestResponse to serve it',
  ) {
    super(`Crossmint auth cannot read a request from a '${contextType}' execution context: ${detail}`);
    this.name = 'CrossmintUnsupportedContextError';
  }
}
