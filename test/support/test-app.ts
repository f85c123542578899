import { Controller, Get, Module, Param, Post, Req, Res, UseGuards, UseInterceptors, type DynamicModule, type INestApplication, type Provider, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintAuthService,
  CrossmintSessionInterceptor,
  CurrentUser,
  type CrossmintAuthModuleOptions,
  type CrossmintAuthUser,
} from '../../lib/index.js';

@Controller()
export class TestController {
  constructor(private readonly auth: CrossmintAuthService) {}

  @Get('public')
  public() {
    return { ok: true };
  }

  @Get('protected')
  @UseGuards(CrossmintAuthGuard)
  protected(@CurrentUser() user: CrossmintAuthUser, @CurrentUser('userId') userId: string) {
    return { userId, sameUser: user.userId === userId, sub: user.claims.sub, hasJwt: typeof user.jwt === 'string' };
  }

  @Get('protected/with-cookie')
  @UseGuards(CrossmintAuthGuard)
  withCookie(@Res({ passthrough: true }) res: any) {
    res.cookie('theme', 'dark');
    res.append('Set-Cookie', 'other=1; Path=/');
    return { ok: true };
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
}

/** A real Nest app on 127.0.0.1:0 (Express), the way a user wires the module. */
export async function createTestApp(options: TestAppOptions): Promise<TestApp> {
  const auth = options.auth ?? CrossmintAuthModule.forRoot(options.moduleOptions!);
  @Module({
    imports: [auth, ...(options.imports ?? [])],
    controllers: options.controllers ?? [TestController],
    providers: options.providers ?? [],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.listen(0, '127.0.0.1');
  const url = (await app.getUrl()).replace('[::1]', '127.0.0.1');
  return { app, url, close: () => app.close() };
}
