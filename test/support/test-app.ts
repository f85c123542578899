import {
  Controller,
  Get,
  Inject,
  Module,
  Param,
  Post,
  Req,
  Res,
  UseGuards,
  UseInterceptors,
  type DynamicModule,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import fastifyCookie, { type FastifyCookieOptions } from '@fastify/cookie';
import cookieParser from 'cookie-parser';
import {
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintAuthService,
  CrossmintSessionInterceptor,
  CurrentUser,
  CROSSMINT_AUTH_OPTIONS,
  type CrossmintAuthModuleOptions,
  type ResolvedCrossmintAuthOptions,
  type CrossmintAuthUser,
} from '../../lib/index.js';

@Controller()
export class TestController {
  constructor(
    private readonly auth: CrossmintAuthService,
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
  ) {}

  @Get('public')
  public() {
    return { ok: true };
  }

  @Get('protected')
  @UseGuards(CrossmintAuthGuard)
  protected(@CurrentUser() user: CrossmintAuthUser, @CurrentUser('userId') userId: string) {
    return { userId, sameUser: user.userId === userId, sub: user.claims.sub, hasJwt: typeof user.jwt === 'string' };
  }

  /** The guard writes first, then the handler adds its own cookies. */
  @Get('protected/with-cookie')
  @UseGuards(CrossmintAuthGuard)
  withCookie(@Res({ passthrough: true }) res: any) {
    setCookie(res, 'theme', 'dark');
    appendSetCookie(res, 'other=1; Path=/');
    return { ok: true };
  }

  /** The handler sets its cookies first, then `getSession` writes the auth cookies. */
  @Get('session/with-cookie')
  async sessionWithCookie(@Req() req: any, @Res({ passthrough: true }) res: any) {
    setCookie(res, 'theme', 'dark');
    appendSetCookie(res, 'other=1; Path=/');
    const session = await this.auth.getSession(req, res);
    return { userId: session.userId, refreshed: session.refreshed };
  }

  @Get('optional')
  @UseInterceptors(CrossmintSessionInterceptor)
  optional(@CurrentUser('userId') userId?: string) {
    return { userId: userId ?? null };
  }

  @Get('session')
  async session(@Req() req: any, @Res({ passthrough: true }) res: any) {
    const session = await this.auth.getSession(req, res);
    return { userId: session.userId, refreshed: session.refreshed };
  }

  /** The handler clears the auth cookies through the platform's cookie API, then `getSession` writes new ones. */
  @Get('session/after-clear')
  async sessionAfterClear(@Req() req: any, @Res({ passthrough: true }) res: any) {
    const { jwt, refreshToken } = this.options.cookies;
    setCookie(res, jwt, '');
    setCookie(res, refreshToken, '');
    const session = await this.auth.getSession(req, res);
    return { userId: session.userId, refreshed: session.refreshed };
  }

  @Get('users/:id')
  user(@Param('id') id: string) {
    return this.auth.getUser(id);
  }

  @Post('logout')
  async logout(@Req() req: any, @Res({ passthrough: true }) res: any) {
    await this.auth.logout(req, res);
    return { ok: true };
  }
}

/** Fastify's reply carries the Node response as `raw`; Express's response is the Node response. */
function isFastifyReply(res: any): boolean {
  return typeof res.raw === 'object' && res.raw !== null && typeof res.code === 'function';
}

/** The platform's own way to set a cookie: `res.cookie` (Express), `reply.setCookie` (@fastify/cookie) or a bare header. */
function setCookie(res: any, name: string, value: string): void {
  if (!isFastifyReply(res)) res.cookie(name, value);
  else if (typeof res.setCookie === 'function') res.setCookie(name, value, { path: '/' });
  else res.header('set-cookie', `${name}=${value}; Path=/`);
}

function appendSetCookie(res: any, cookie: string): void {
  if (isFastifyReply(res)) res.header('set-cookie', cookie);
  else res.append('Set-Cookie', cookie);
}

export type TestPlatform = 'express' | 'fastify';

/** The four ways the module must work : each platform with and without its cookie plugin. */
export const PLATFORM_VARIANTS: Array<{ name: string; platform: TestPlatform; cookiePlugin: boolean }> = [
  { name: 'express', platform: 'express', cookiePlugin: false },
  { name: 'express + cookie-parser', platform: 'express', cookiePlugin: true },
  { name: 'fastify', platform: 'fastify', cookiePlugin: false },
  { name: 'fastify + @fastify/cookie', platform: 'fastify', cookiePlugin: true },
];

export interface TestApp {
  app: INestApplication;
  url: string;
  close(): Promise<void>;
}

export interface TestAppOptions {
  /** Defaults to `CrossmintAuthModule.forRoot(moduleOptions)`. */
  auth?: DynamicModule;
  moduleOptions?: CrossmintAuthModuleOptions;
  controllers?: Type[];
  providers?: Provider[];
  imports?: Array<Type | DynamicModule>;
  /** Default `'express'`. */
  platform?: TestPlatform;
  /** Register `cookie-parser` (Express) or `@fastify/cookie` (Fastify). Default `false`. */
  cookiePlugin?: boolean;
  /** Options for `@fastify/cookie` when `cookiePlugin` is on. */
  fastifyCookieOptions?: FastifyCookieOptions;
  /** Runs before `listen`, e.g. to set a WebSocket adapter. */
  configure?: (app: INestApplication) => void;
}

/** A real Nest app on 127.0.0.1:0 (Express or Fastify), the way a user wires the module. */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const auth = options.auth ?? CrossmintAuthModule.forRoot(options.moduleOptions!);
  @Module({
    imports: [auth, ...(options.imports ?? [])],
    controllers: options.controllers ?? [TestController],
    providers: options.providers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  let app: INestApplication;
  if (options.platform === 'fastify') {
    const fastify = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter(), { logger: false });
    if (options.cookiePlugin) await fastify.register(fastifyCookie, options.fastifyCookieOptions);
    app = fastify;
  } else {
    app = moduleRef.createNestApplication({ logger: false });
    if (options.cookiePlugin) app.use(cookieParser());
  }
  options.configure?.(app);
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}
