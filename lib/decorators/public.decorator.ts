import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_KEY = 'nestjs-crossmint-auth:public';

/** Opts a route or a controller out of a global `CrossmintAuthGuard`. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_KEY, true);
