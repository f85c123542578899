import { createParamDecorator, type ExecutionContext, type PipeTransform, type Type } from '@nestjs/common';
import type { CrossmintAuthUser } from '../interfaces/crossmint-session.interface.js';
import { getHttpContext } from '../platform/http-context.js';

/**
 * `request.user` as set by `CrossmintAuthGuard` or `CrossmintSessionInterceptor`; `@CurrentUser('userId')` for one field.
 * Typed explicitly: the inferred type names Nest 12's `ParameterDecoratorOptions`, which Nest 11 lacks.
 */
export const CurrentUser: (
  field?: keyof CrossmintAuthUser,
  ...pipes: (Type<PipeTransform> | PipeTransform)[]
) => ParameterDecorator = createParamDecorator(
  (field: keyof CrossmintAuthUser | undefined, context: ExecutionContext) => {
    const user = getHttpContext(context).request.user as CrossmintAuthUser | undefined;
    return field ? user?.[field] : user;
  },
);
