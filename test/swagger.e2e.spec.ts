import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get, Module, UseGuards, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { CrossmintAuthGuard, CrossmintAuthModule, type CrossmintAuthModuleOptions } from '../lib/index.js';
import { addCrossmintAuth, ApiCrossmintAuth } from '../lib/swagger/index.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';

// @nestjs/swagger is a devDependency here and an optional peer of the package.
const COOKIES = { jwt: 'session-jwt' };

@Controller('wallets')
@UseGuards(CrossmintAuthGuard)
@ApiCrossmintAuth()
class WalletsController {
  @Get()
  list() {
    return [];
  }
}

@Controller('posts')
class PostsController {
  @Get()
  list() {
    return [];
  }

  @Get('mine')
  @UseGuards(CrossmintAuthGuard)
  @ApiCrossmintAuth()
  mine() {
    return [];
  }
}

describe('Swagger: @ApiCrossmintAuth() and addCrossmintAuth()', () => {
  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;
  let url: string;
  let document: any;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    ({ app, url, document } = await startDocumentedApp({ ...emulator.moduleOptions(), cookies: COOKIES }, [
      WalletsController,
      PostsController,
    ]));
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('defines the cookie scheme under the configured cookie name, and the Bearer scheme', () => {
    expect(document.components.securitySchemes).toEqual({
      'crossmint-cookie': expect.objectContaining({ type: 'apiKey', in: 'cookie', name: 'session-jwt' }),
      'crossmint-bearer': expect.objectContaining({ type: 'http', scheme: 'bearer', bearerFormat: 'JWT' }),
    });
  });

  it('requires the cookie or the Bearer JWT on a decorated controller and a decorated route only', () => {
    const either = [{ 'crossmint-bearer': [] }, { 'crossmint-cookie': [] }];
    const securityOf = (path: string) => document.paths[path].get.security;
    expect(securityOf('/wallets')).toEqual(expect.arrayContaining(either));
    expect(securityOf('/wallets')).toHaveLength(2);
    expect(securityOf('/posts/mine')).toEqual(expect.arrayContaining(either));
    expect(securityOf('/posts')).toBeUndefined();
    expect(document.paths['/posts'].get.responses['401']).toBeUndefined();
  });

  it('requires only schemes the document defines', () => {
    const defined = Object.keys(document.components.securitySchemes);
    expect(new Set(requiredSchemes(document))).toEqual(new Set(['crossmint-cookie', 'crossmint-bearer']));
    expect(defined).toEqual(expect.arrayContaining(requiredSchemes(document)));
  });

  it('documents the 401 and the 503 (with Retry-After) in Nest error shape', () => {
    const responses = document.paths['/wallets'].get.responses;
    const body = (status: string) => responses[status].content['application/json'].schema;
    expect(body('401')).toEqual(
      expect.objectContaining({
        required: ['statusCode', 'message', 'error'],
        properties: expect.objectContaining({ statusCode: expect.objectContaining({ example: 401 }) }),
      }),
    );
    expect(body('503').properties.error).toEqual(expect.objectContaining({ example: 'Service Unavailable' }));
    expect(responses['503'].headers['Retry-After']).toBeDefined();
  });

  it('documents the bodies the guard really answers', async () => {
    const unauthorized = await fetch(`${url}/wallets`);
    expect(unauthorized.status).toBe(401);
    const documented = document.paths['/wallets'].get.responses['401'].content['application/json'].schema;
    expect(Object.keys(await unauthorized.json()).sort()).toEqual([...documented.required].sort());

    const session = await emulator.createSession();
    emulator.fault('jwks', { status: 503 });
    const unavailable = await fetch(`${url}/posts/mine`, { headers: { cookie: `session-jwt=${session.jwt}` } });
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(Object.keys(await unavailable.json()).sort()).toEqual(['error', 'message', 'statusCode']);
  });
});

/** An app with the module and `controllers`, serving the document `addCrossmintAuth` describes at /docs-json. */
async function startDocumentedApp(options: CrossmintAuthModuleOptions, controllers: Type[]) {
  @Module({ imports: [CrossmintAuthModule.forRoot(options)], controllers })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const config = addCrossmintAuth(new DocumentBuilder().setTitle('API'), options).build();
  SwaggerModule.setup('docs', app, SwaggerModule.createDocument(app, config));
  await app.listen(0, '127.0.0.1');
  const url = await app.getUrl();
  return { app, url, document: await (await fetch(`${url}/docs-json`)).json() };
}

/** Every security requirement of every operation, as the scheme names it lists. */
function requiredSchemes(document: any): string[] {
  const operations = Object.values(document.paths).flatMap((path: any) => Object.values(path));
  return operations.flatMap((operation: any) => (operation.security ?? []).flatMap(Object.keys));
}

describe('Swagger with acceptBearerToken: false', () => {
  const AUTH = { acceptBearerToken: false };

  @Controller('wallets')
  @UseGuards(CrossmintAuthGuard)
  @ApiCrossmintAuth(AUTH)
  class CookieOnlyWalletsController {
    @Get()
    list() {
      return [];
    }
  }

  let emulator: CrossmintAuthEmulator;
  let app: INestApplication;
  let url: string;
  let document: any;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    ({ app, url, document } = await startDocumentedApp({ ...emulator.moduleOptions(), ...AUTH }, [
      CookieOnlyWalletsController,
    ]));
  });

  afterAll(async () => {
    await app?.close();
    await emulator?.stop();
  });

  it('has no Bearer scheme and requires the cookie only', () => {
    expect(Object.keys(document.components.securitySchemes)).toEqual(['crossmint-cookie']);
    expect(document.paths['/wallets'].get.security).toEqual([{ 'crossmint-cookie': [] }]);
  });

  it('requires only schemes the document defines', () => {
    expect(requiredSchemes(document)).toEqual(['crossmint-cookie']);
  });

  it('matches the guard: a Bearer JWT is refused, the cookie is accepted', async () => {
    const session = await emulator.createSession();
    const bearer = await fetch(`${url}/wallets`, { headers: { authorization: `Bearer ${session.jwt}` } });
    expect(bearer.status).toBe(401);
    const cookie = await fetch(`${url}/wallets`, { headers: { cookie: `crossmint-jwt=${session.jwt}` } });
    expect(cookie.status).toBe(200);
  });
});
