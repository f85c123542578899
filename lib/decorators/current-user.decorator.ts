import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { CrossmintAuthUser } from '../interfaces/crossmint-session.interface.js';
import { getHttpContext } from '../platform/http-context.js';

/** `request.user` as set by `CrossmintAuthGuard` or `CrossmintSessionInterceptor`; `@CurrentUser('userId')` for one field. */
export const CurrentUser = createParamDecorator(
  (field: keyof CrossmintAuthUser | undefined, context: ExecutionContext) => {
    const user = getHttpContext(context).request.user as CrossmintAuthUser | undefined;
    return field ? user?.[field] : user;
  },
);
