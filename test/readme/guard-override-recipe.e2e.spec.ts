import { afterAll, beforeAll, describe, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type ExecutionContext, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { CrossmintAuthGuard, CrossmintAuthModule, CurrentUser, type CrossmintAuthUser } from 'nestjs-crossmint-auth';
import { overrideCrossmintAuth } from 'nestjs-crossmint-auth/testing';

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

const user: CrossmintAuthUser = { userId: 'user-1', jwt: 'unused', claims: { sub: 'user-1', exp: 0 } };

describe('GET /me, guard overridden', () => {
  let app: INestApplication;

  beforeAll(async () => {
    const moduleRef = await overrideCrossmintAuth(Test.createTestingModule({ imports: [AppModule] }))
      .overrideGuard(CrossmintAuthGuard)
      .useValue({
        canActivate: (context: ExecutionContext) => {
          context.switchToHttp().getRequest().user = user;
          return true;
        },
      })
      .compile();
    app = moduleRef.createNestApplication();
    await app.init();
  });

  afterAll(async () => {
    await app?.close();
  });

  it('answers with the user the test guard set', async () => {
    await request(app.getHttpServer()).get('/me').expect(200, { userId: 'user-1' });
  });
});
