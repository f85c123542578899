import { beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, UseInterceptors, type DynamicModule, type Type } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test } from '@nestjs/testing';
import {
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintAuthOptionsError,
  CrossmintSessionInterceptor,
  CurrentUser,
  Public,
  type CrossmintAuthModuleOptions,
} from 'nestjs-crossmint-auth';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request } from './support/http.js';

/** Compiles and starts an app of these imports; what it throws is what the user would see at boot. */
async function boot(imports: Array<Type | DynamicModule>): Promise<unknown> {
  try {
    const moduleRef = await Test.createTestingModule({ imports }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    await app.close();
  } catch (error) {
    return error;
  }
  throw new Error('the app booted');
}

@Controller('guarded')
@UseGuards(CrossmintAuthGuard)
class GuardedController {
  @Get()
  get() {
    return {};
  }
}

@Controller('intercepted')
@UseInterceptors(CrossmintSessionInterceptor)
class InterceptedController {
  @Get()
  get() {
    return {};
  }
}

@Controller('unchecked')
class UncheckedController {
  @Get()
  me(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

@Controller('checked')
class CheckedController {
  @Get('public')
  @Public()
  @UseGuards(CrossmintAuthGuard)
  open(@CurrentUser('userId') userId?: string) {
    return { userId: userId ?? null };
  }

  @Get('optional')
  @UseInterceptors(CrossmintSessionInterceptor)
  optional(@CurrentUser('userId') userId?: string) {
    return { userId: userId ?? null };
  }
}

describe('errors that say what to do', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: emulator.moduleOptions(), controllers: [UncheckedController, CheckedController] },
    }),
    logs: 'clear',
  });
  const forRoot = (options: Record<string, unknown>) =>
    CrossmintAuthModule.forRoot({ ...suite.emulator.moduleOptions(), ...options } as CrossmintAuthModuleOptions);

  describe('the module not visible where its guard or interceptor is used', () => {
    it.each([
      ['CrossmintAuthGuard', GuardedController],
      ['CrossmintSessionInterceptor', InterceptedController],
    ])('%s in a module that does not import it: names CrossmintAuthModule and isGlobal', async (name, controller) => {
      @Module({ controllers: [controller] })
      class FeatureModule {}
      const error = await boot([forRoot({}), FeatureModule]);
      expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
      expect(String(error)).toContain(`${name} is used in a module that does not see CrossmintAuthModule`);
      expect(String(error)).toContain('isGlobal: true');
    });

    it('the guard as APP_GUARD where the module is not registered at all', async () => {
      @Module({ providers: [{ provide: APP_GUARD, useClass: CrossmintAuthGuard }] })
      class AppModule {}
      expect(String(await boot([AppModule]))).toContain('does not see CrossmintAuthModule');
    });

    it('the bare module class: names forRoot', async () => {
      const error = await boot([CrossmintAuthModule]);
      expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
      expect(String(error)).toContain('import `CrossmintAuthModule.forRoot(options)` or `.forRootAsync(...)`');
    });
  });

  describe('unknown option keys fail the boot, naming the key', () => {
    it.each([
      [{ cookie: { jwt: 'a' } }, 'option `cookie` is not a known option; did you mean `cookies`?'],
      [{ cookies: { sameSit: 'lax' } }, 'option `cookies.sameSit` is not a known option'],
      [
        { cookies: { Domain: 'example.com' } },
        'option `cookies.Domain` is not a known option; did you mean `cookies.domain`?',
      ],
      [{ routes: { refersh: '/auth/refresh' } }, 'option `routes.refersh` is not a known option'],
    ])('forRoot(%j)', async (options, message) => {
      const error = await boot([forRoot(options)]);
      expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
      expect(String(error)).toContain(message);
    });

    it('`isGlobal` in the result of a forRootAsync factory', async () => {
      const module = CrossmintAuthModule.forRootAsync({
        useFactory: () => ({ ...suite.emulator.moduleOptions(), isGlobal: true }) as CrossmintAuthModuleOptions,
      });
      const error = await boot([module]);
      expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
      expect(String(error)).toContain('`isGlobal` is not a module option: pass it beside the factory');
    });

    it('`isGlobal` beside the factory is fine', async () => {
      const module = CrossmintAuthModule.forRootAsync({
        useFactory: () => suite.emulator.moduleOptions(),
        isGlobal: true,
      });
      await expect(boot([module])).rejects.toThrow('the app booted');
    });
  });

  it('a garbled API key is told to check the key, and the key is not in the message', async () => {
    const garbled = 'sk_production_0OIl+/this-is-not-base58';
    const error = await boot([CrossmintAuthModule.forRoot({ apiKey: garbled })]);
    expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
    expect((error as CrossmintAuthOptionsError).option).toBe('apiKey');
    expect(String(error)).toContain('check the key');
    expect(String(error)).not.toContain('project id could not be read');
    expect(String(error)).not.toContain(garbled);
  });

  it('the options error is exported from the package root, for instanceof', async () => {
    const error = await boot([forRoot({ timeoutMs: -1 })]);
    expect(error).toBeInstanceOf(CrossmintAuthOptionsError);
    expect(error).toMatchObject({ code: 'CROSSMINT_AUTH_INVALID_OPTIONS', option: 'timeoutMs' });
  });

  describe('@CurrentUser()', () => {
    // Nest's logger is static, and the apps booted above replaced it.
    beforeAll(() => suite.app.app.useLogger(suite.logs));

    it('on a route neither the guard nor the interceptor checked: a 500 whose logged error names the fix', async () => {
      const res = await request(`${suite.app.url}/unchecked`);
      expect(res.status).toBe(500);
      expect(res.text).not.toContain('CurrentUser');
      const logged = suite.logs.errors().map((entry) => entry.text);
      expect(logged.join('\n')).toContain(
        '@CurrentUser() is used on a route that neither CrossmintAuthGuard nor CrossmintSessionInterceptor checked',
      );
      expect(logged.join('\n')).toContain('@UseGuards(CrossmintAuthGuard)');
    });

    it('on a @Public() route: the same 500, pointing to @OptionalAuth()', async () => {
      expect((await request(`${suite.app.url}/checked/public`)).status).toBe(500);
      expect(suite.logs.text()).toContain('for optional sign-in @OptionalAuth() instead of @Public()');
    });

    it('signed out on a route the interceptor checked: undefined, no error', async () => {
      expect((await request(`${suite.app.url}/checked/optional`)).body).toEqual({ userId: null });
      expect(suite.logs.errors()).toEqual([]);
    });
  });
});
