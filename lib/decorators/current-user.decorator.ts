import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import type { CrossmintAuthUser } from '../interfaces/crossmint-session.interface.js';
import { getHttpContext } from '../platform/http-context.js';
import { isMarkedSignedOut } from '../platform/signed-out-requests.js';

/**
 * `request.user` as set by `CrossmintAuthGuard` or `CrossmintSessionInterceptor`; `@CurrentUser('userId')` for one field.
 * Typed explicitly: the inferred type names Nest 12's `ParameterDecoratorOptions`, which Nest 11 lacks.
 */
export const CurrentUser: (
  field?: keyof CrossmintAuthUser,
  ...pipes: (Type<PipeTransform> | PipeTransform)[]
) => ParameterDecorator = createParamDecorator(
  (field: keyof CrossmintAuthUser | undefined, context: ExecutionContext) => {
    const { request } = getHttpContext(context);
    const user = request.user as CrossmintAuthUser | undefined;
    if (user === undefined && !isMarkedSignedOut(request)) {
      throw new Error(
        '@CurrentUser() is used on a route that neither CrossmintAuthGuard nor CrossmintSessionInterceptor checked ' +
          '(the guard skips @Public() routes): add @UseGuards(CrossmintAuthGuard) or a global guard, and for ' +
          'optional sign-in @OptionalAuth() instead of @Public(), or @UseInterceptors(CrossmintSessionInterceptor).',
      );
    }
    return field ? user?.[field] : user;
  },
);
