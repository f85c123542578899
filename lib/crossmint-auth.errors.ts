import { HttpException, HttpStatus } from '@nestjs/common';

/** Credentials are missing, invalid, expired or revoked. Answers 401. */
export class CrossmintAuthenticationError extends HttpException {
  readonly code = 'CROSSMINT_AUTHENTICATION_FAILED';

  constructor(message = 'Authentication required') {
    super({ statusCode: HttpStatus.UNAUTHORIZED, message, error: 'Unauthorized' }, HttpStatus.UNAUTHORIZED);
  }
}

/** Crossmint is unreachable, timed out, answered 5xx/429 or something malformed. Answers 503. */
export class CrossmintServiceUnavailableError extends HttpException {
  readonly code = 'CROSSMINT_SERVICE_UNAVAILABLE';

  constructor(
    message = 'Crossmint authentication is temporarily unavailable',
    /** Seconds a client should wait before retrying; sent as `Retry-After`. */
    readonly retryAfterSec = 5,
  ) {
    super(
      { statusCode: HttpStatus.SERVICE_UNAVAILABLE, message, error: 'Service Unavailable' },
      HttpStatus.SERVICE_UNAVAILABLE,
    );
  }
}
