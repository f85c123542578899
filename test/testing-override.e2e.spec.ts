import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import {
  Controller,
  Get,
  Injectable,
  Module,
  UseGuards,
  type ExecutionContext,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import request from 'supertest';
import {
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintAuthOptionsError,
  CurrentUser,
  type CrossmintAuthUser,
} from 'nestjs-crossmint-auth';
import { CrossmintAuthEmulator, overrideCrossmintAuth } from 'nestjs-crossmint-auth/testing';
import { encodeBase58 } from '../lib/utils/base58.js';

/** Stands in for `@nestjs/config` (not installed here): `getOrThrow` throws when the variable is unset. */
@Injectable()
class ConfigService {
  getOrThrow(name: string): string {
    const value = process.env[name];
    if (value === undefined) throw new TypeError(`Configuration key "${name}" does not exist`);
    return value;
  }
  get(name: string): string | undefined {
    return process.env[name];
  }
}

@Module({ providers: [ConfigService], exports: [ConfigService] })
class ConfigModule {}

@Controller('me')
@UseGuards(CrossmintAuthGuard)
class MeController {
  @Get()
  me(@CurrentUser() user: CrossmintAuthUser) {
    return { userId: user.userId };
  }
}

// The AppModules of README's "Register the module", declared when called: `process.env` is read at declaration.
function forRootAppModule(): Type {
  @Module({
    imports: [
      CrossmintAuthModule.forRoot({
        apiKey: process.env.CROSSMINT_API_KEY!,
        isGlobal: true,
      }),
    ],
    controllers: [MeController],
  })
  class AppModule {}
  return AppModule;
}

function forRootAsyncAppModule(): Type {
  @Module({
    imports: [
      CrossmintAuthModule.forRootAsync({
        imports: [ConfigModule],
        inject: [ConfigService],
        useFactory: (config: ConfigService) => ({
          apiKey: config.getOrThrow('CROSSMINT_API_KEY'),
          cookies: { domain: config.get('COOKIE_DOMAIN') },
        }),
        isGlobal: true,
      }),
    ],
    controllers: [MeController],
  })
  class AppModule {}
  return AppModule;
}

/** Well formed, production environment, another project: the real Crossmint would be called with it. */
const REAL_LOOKING_KEY = `sk_production_${encodeBase58(new TextEncoder().encode('real-project.key:c2lnbmF0dXJl'))}`;

const VARIANTS = [
  { name: 'forRoot, CROSSMINT_API_KEY unset', appModule: forRootAppModule, apiKey: undefined },
  {
    name: 'forRoot, CROSSMINT_API_KEY set to a real-looking key',
    appModule: forRootAppModule,
    apiKey: REAL_LOOKING_KEY,
  },
  { name: 'forRootAsync, CROSSMINT_API_KEY unset', appModule: forRootAsyncAppModule, apiKey: undefined },
  {
    name: 'forRootAsync, CROSSMINT_API_KEY set to a real-looking key',
    appModule: forRootAsyncAppModule,
    apiKey: REAL_LOOKING_KEY,
  },
];

describe('overrideCrossmintAuth: an unchanged AppModule against the emulator', () => {
  const savedKey = process.env.CROSSMINT_API_KEY;
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
  });
  beforeEach(() => emulator.reset());
  afterEach(async () => {
    await app?.close();
    app = undefined;
    if (savedKey === undefined) delete process.env.CROSSMINT_API_KEY;
    else process.env.CROSSMINT_API_KEY = savedKey;
  });
  afterAll(() => emulator.stop());

  async function start(appModule: Type, options?: Parameters<typeof overrideCrossmintAuth>[2]) {
    const moduleRef = await overrideCrossmintAuth(
      Test.createTestingModule({ imports: [appModule] }),
      emulator,
      options,
    ).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    return app;
  }

  describe.each(VARIANTS)('$name', ({ appModule, apiKey }) => {
    beforeEach(() => {
      if (apiKey === undefined) delete process.env.CROSSMINT_API_KEY;
      else process.env.CROSSMINT_API_KEY = apiKey;
    });

    it('passes a guarded route with an emulator session, verified with the emulator keys', async () => {
      const app = await start(appModule());
      const session = await emulator.createSession({ email: 'alice@example.com' });
      const response = await request(app.getHttpServer())
        .get('/me')
        .set('Cookie', `crossmint-jwt=${session.jwt}`)
        .expect(200);
      expect(response.body).toEqual({ userId: session.userId });
      expect(emulator.calls('jwks')).toBe(1);
    });

    it('refreshes an expired session at the emulator', async () => {
      const app = await start(appModule());
      const session = await emulator.createSession({ expired: true });
      await request(app.getHttpServer())
        .get('/me')
        .set('Cookie', `crossmint-jwt=${session.jwt}; crossmint-refresh-token=${session.refreshToken.secret}`)
        .expect(200);
      expect(emulator.calls('refresh')).toBe(1);
    });

    it('answers 401 without a session, and calls nobody', async () => {
      const app = await start(appModule());
      await request(app.getHttpServer()).get('/me').expect(401);
      expect(emulator.calls('jwks') + emulator.calls('refresh')).toBe(0);
    });
  });

  it('applies the options passed to it (here a cookie name), not the app’s', async () => {
    const app = await start(forRootAppModule(), { cookies: { jwt: 'my-jwt' } });
    const session = await emulator.createSession();
    await request(app.getHttpServer()).get('/me').set('Cookie', `my-jwt=${session.jwt}`).expect(200);
    await request(app.getHttpServer()).get('/me').set('Cookie', `crossmint-jwt=${session.jwt}`).expect(401);
  });

  it('validates the effective options at boot', async () => {
    const boot = overrideCrossmintAuth(Test.createTestingModule({ imports: [forRootAppModule()] }), emulator, {
      cookies: { sameSite: 'sideways' as 'lax' },
    }).compile();
    await expect(boot).rejects.toThrow(CrossmintAuthOptionsError);
    await expect(boot).rejects.toThrow('cookies.sameSite');
  });
});

describe('a guarded route without the emulator: the guard overridden', () => {
  const user: CrossmintAuthUser = { userId: 'user-1', jwt: 'unused', claims: { sub: 'user-1', exp: 0 } };
  const standIn = {
    canActivate: (context: ExecutionContext) => {
      context.switchToHttp().getRequest().user = user;
      return true;
    },
  };
  const savedKey = process.env.CROSSMINT_API_KEY;
  beforeEach(() => {
    delete process.env.CROSSMINT_API_KEY;
  });
  afterEach(() => {
    if (savedKey !== undefined) process.env.CROSSMINT_API_KEY = savedKey;
  });

  async function expectStandInUser(moduleRef: TestingModule): Promise<void> {
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    try {
      await request(app.getHttpServer()).get('/me').expect(200, { userId: 'user-1' });
    } finally {
      await app.close();
    }
  }

  it('@UseGuards(CrossmintAuthGuard): overrideGuard, the module booting offline', async () => {
    const moduleRef = await overrideCrossmintAuth(Test.createTestingModule({ imports: [forRootAppModule()] }))
      .overrideGuard(CrossmintAuthGuard)
      .useValue(standIn)
      .compile();
    await expectStandInUser(moduleRef);
  });

  it('a global guard registered with useExisting: overrideProvider', async () => {
    @Controller('me')
    class GlobalMeController {
      @Get()
      me(@CurrentUser('userId') userId: string) {
        return { userId };
      }
    }
    @Module({
      imports: [CrossmintAuthModule.forRoot({ apiKey: process.env.CROSSMINT_API_KEY!, isGlobal: true })],
      controllers: [GlobalMeController],
      providers: [CrossmintAuthGuard, { provide: APP_GUARD, useExisting: CrossmintAuthGuard }],
    })
    class AppModule {}
    const moduleRef = await overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] }))
      .overrideProvider(CrossmintAuthGuard)
      .useValue(standIn)
      .compile();
    await expectStandInUser(moduleRef);
  });
});
