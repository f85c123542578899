import { SetMetadata } from '@nestjs/common';

export const IS_OPTIONAL_AUTH_KEY = 'nestjs-crossmint-auth:optional-auth';

/**
 * Under `CrossmintAuthGuard` (on the route, or global): let signed-out users through, and set `request.user` for
 * signed-in ones, as `CrossmintSessionInterceptor` does.
 */
export const OptionalAuth = (): MethodDecorator & ClassDecorator => SetMetadata(IS_OPTIONAL_AUTH_KEY, true);
