import { SDK_ROUTES, type AppFacts, type NestAddOptions } from './nest-add.options.js';

/** The e2e test written to test/crossmint-auth.e2e-spec.ts: a guarded route against the emulator. */
export function e2eTest(options: NestAddOptions, facts: AppFacts): string {
  const testOptions = options.routes
    ? `, {
      // The app's own Crossmint options are replaced in tests: repeat the ones the tests rely on.
      routes: { refresh: '${SDK_ROUTES.refresh}', logout: '${SDK_ROUTES.logout}' },
    }`
    : '';
  return `import { Controller, Get, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import type { App } from 'supertest/types${facts.importSuffix}';
import { CrossmintAuthGuard, CurrentUser } from 'nestjs-crossmint-auth';
import { CrossmintAuthEmulator, overrideCrossmintAuth } from 'nestjs-crossmint-auth/testing';
import { AppModule } from '../${options.sourceRoot}/app.module${facts.importSuffix}';

// A guarded route for this test; guard your own routes the same way.
@Controller('crossmint-auth-e2e')
@UseGuards(CrossmintAuthGuard)
class WhoAmIController {
  @Get()
  whoAmI(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

describe('Crossmint Auth (e2e)', () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication<App>;

  beforeAll(async () => {
    // A local Crossmint (JWKS, refresh, logout, users) with real signed JWTs: no network, no API key.
    emulator = await CrossmintAuthEmulator.start();
    const builder = Test.createTestingModule({ imports: [AppModule], controllers: [WhoAmIController] });
    const moduleRef = await overrideCrossmintAuth(builder, emulator${testOptions}).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('lets a signed-in user through a guarded route', async () => {
    const session = await emulator.createSession({ email: 'alice@example.com' });
    await request(app.getHttpServer())
      .get('/crossmint-auth-e2e')
      .set('Cookie', \`crossmint-jwt=\${session.jwt}\`)
      .expect(200, { userId: session.userId });
  });

  it('answers 401 without a session', async () => {
    await request(app.getHttpServer()).get('/crossmint-auth-e2e').expect(401);
  });
${options.globalGuard ? publicRootTest : ''}${options.routes ? logoutTest : ''}});
`;
}

const publicRootTest = `
  it('keeps the @Public() root route open to signed-out users', async () => {
    await request(app.getHttpServer()).get('/').expect(200);
  });
`;

const logoutTest = `
  it('logs out through the browser SDK route', async () => {
    const session = await emulator.createSession();
    await request(app.getHttpServer())
      .post('${SDK_ROUTES.logout}')
      .set('Sec-Fetch-Site', 'same-origin')
      .set('Cookie', \`crossmint-jwt=\${session.jwt}; crossmint-refresh-token=\${session.refreshToken.secret}\`)
      .expect(200);
    expect(emulator.calls('logout')).toBe(1);
  });
`;
