import type { DocumentBuilder } from '@nestjs/swagger';
import { CROSSMINT_SWAGGER_SECURITY, DEFAULT_JWT_COOKIE } from '../crossmint-auth.constants.js';
import type { CrossmintAuthModuleOptions } from '../interfaces/crossmint-auth-options.interface.js';

/**
 * Adds the security schemes `@ApiCrossmintAuth()` refers to, as `options` (the module's options) set the guard:
 * the JWT cookie under its configured name, and a Bearer JWT unless `acceptBearerToken` is false. Returns the
 * builder.
 */
export function addCrossmintAuth(
  builder: DocumentBuilder,
  options: Pick<CrossmintAuthModuleOptions, 'cookies' | 'acceptBearerToken'> = {},
): DocumentBuilder {
  const cookieName = options.cookies?.jwt ?? DEFAULT_JWT_COOKIE;
  builder.addCookieAuth(
    cookieName,
    { type: 'apiKey', in: 'cookie', description: 'The Crossmint session JWT, set by the browser SDK.' },
    CROSSMINT_SWAGGER_SECURITY.cookie,
  );
  if (options.acceptBearerToken === false) return builder;
  return builder.addBearerAuth(
    { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Crossmint session JWT.' },
    CROSSMINT_SWAGGER_SECURITY.bearer,
  );
}
