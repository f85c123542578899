import { applyDecorators, HttpStatus } from '@nestjs/common';
import { ApiBearerAuth, ApiCookieAuth, ApiServiceUnavailableResponse, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { CROSSMINT_SWAGGER_SECURITY } from '../crossmint-auth.constants.js';
import type { CrossmintAuthModuleOptions } from '../interfaces/crossmint-auth-options.interface.js';

/** Nest's error body (`statusCode`, `message`, `error`), as the guard answers it. */
function errorBody(statusCode: number, error: string) {
  return {
    type: 'object' as const,
    required: ['statusCode', 'message', 'error'],
    properties: {
      statusCode: { type: 'number' as const, example: statusCode },
      message: { type: 'string' as const },
      error: { type: 'string' as const, example: error },
    },
  };
}

/**
 * Documents a controller or route guarded by `CrossmintAuthGuard`: the session cookie or a Bearer JWT (either
 * one; the cookie only when `options.acceptBearerToken` is false, as in the module's options), a 401 without a
 * valid session and a 503 with `Retry-After` while Crossmint cannot be reached. The schemes themselves are added
 * to the document by `addCrossmintAuth(new DocumentBuilder(), options)`.
 */
export function ApiCrossmintAuth(
  options: Pick<CrossmintAuthModuleOptions, 'acceptBearerToken'> = {},
): ClassDecorator & MethodDecorator {
  const bearer = options.acceptBearerToken === false ? [] : [ApiBearerAuth(CROSSMINT_SWAGGER_SECURITY.bearer)];
  return applyDecorators(
    ApiCookieAuth(CROSSMINT_SWAGGER_SECURITY.cookie),
    ...bearer,
    ApiUnauthorizedResponse({
      description: 'No valid Crossmint session (missing, expired and not refreshable, or revoked).',
      schema: errorBody(HttpStatus.UNAUTHORIZED, 'Unauthorized'),
    }),
    ApiServiceUnavailableResponse({
      description: 'Crossmint could not be reached to check or refresh the session; retry later.',
      schema: errorBody(HttpStatus.SERVICE_UNAVAILABLE, 'Service Unavailable'),
      headers: { 'Retry-After': { description: 'Seconds to wait before retrying.', schema: { type: 'integer' } } },
    }),
  );
}
