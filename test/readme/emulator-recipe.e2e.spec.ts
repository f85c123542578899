import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CrossmintAuthEmulator, overrideCrossmintAuth } from 'nestjs-crossmint-auth/testing';
import { CrossmintAuthGuard, CrossmintAuthModule, CurrentUser } from 'nestjs-crossmint-auth';

@Controller('me')
@UseGuards(CrossmintAuthGuard)
class MeController {
  @Get()
  me(@CurrentUser('userId') userId: string) {
    return { userId };
  }
}

// The app as in "Register the module", unchanged (in your project: import { AppModule } from '../src/app.module.js').
@Module({
  imports: [CrossmintAuthModule.forRoot({ apiKey: process.env.CROSSMINT_API_KEY!, isGlobal: true })],
  controllers: [MeController],
})
class AppModule {}

describe('GET /me', () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    const moduleRef = await overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] }), emulator, {
      // The app's own Crossmint options are replaced, not merged: repeat here the ones the tests rely on.
      cookies: { sameSite: 'lax' },
    }).compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app?.close(); // both, or jest waits for open handles
    await emulator?.stop();
  });

  it('passes with a session, and answers 401 without', async () => {
    const session = await emulator.createSession({ email: 'alice@example.com' });
    await request(app.getHttpServer()).get('/me').set('Cookie', `crossmint-jwt=${session.jwt}`).expect(200);
    await request(app.getHttpServer()).get('/me').expect(401);
  });
});
