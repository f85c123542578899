import type { DocumentBuilder } from '@nestjs/swagger';
import { CROSSMINT_SWAGGER_SECURITY, DEFAULT_JWT_COOKIE } from '../crossmint-auth.constants.js';
import type { CrossmintAuthModuleOptions } from '../interfaces/crossmint-auth-options.interface.js';

/**
 * Adds the security schemes `@ApiCrossmintAuth()` refers to: the JWT cookie (under the cookie name of `options`,
 * the module's options) and a Bearer JWT. Returns the builder.
 */
export function addCrossmintAuth(
  builder: DocumentBuilder,
  options: Pick<CrossmintAuthModuleOptions, 'cookies'> = {},
): DocumentBuilder {
  const cookieName = options.cookies?.jwt ?? DEFAULT_JWT_COOKIE;
  return builder
    .addCookieAuth(
      cookieName,
      { type: 'apiKey', in: 'cookie', description: 'The Crossmint session JWT, set by the browser SDK.' },
      CROSSMINT_SWAGGER_SECURITY.cookie,
    )
    .addBearerAuth(
      { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'A Crossmint session JWT.' },
      CROSSMINT_SWAGGER_SECURITY.bearer,
    );
}
