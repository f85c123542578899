// The app under load: a Nest app on Express or Fastify with the module, started by run.mjs / soak.mjs in
// its own process (node --expose-gc bench/app.mjs <express|fastify>). Plain JS, so the decorators are
// applied by hand; the library's own classes carry their compiled DI metadata in dist/.
import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Req, UseGuards, UseInterceptors } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { createLocalJWKSet, jwtVerify } from 'jose';
import {
  CrossmintAuthGuard,
  CrossmintAuthModule,
  CrossmintSessionInterceptor,
  CurrentUser,
} from '../dist/esm/index.js';

const platform = process.argv[2] ?? 'express';
const moduleOptions = JSON.parse(process.env.BENCH_MODULE_OPTIONS ?? '{}');
// For the bare-jose route of bench:scale's cold burst: the emulator's keys and the checks the library asks for.
const keySet = process.env.BENCH_JWKS ? createLocalJWKSet(JSON.parse(process.env.BENCH_JWKS)) : undefined;
const JWT_COOKIE = /(?:^|; )crossmint-jwt=([^;]*)/;

// The floor for any auth guard: Nest's guard machinery and setting `request.user`, nothing else. (Setting a
// property on Express's request object is not free: it is most of this floor on Express.)
class FloorGuard {
  canActivate(context) {
    context.switchToHttp().getRequest().user = { userId: 'floor', jwt: '', claims: {} };
    return true;
  }
}
Reflect.decorate([Injectable()], FloorGuard);

// And the same for interceptors: one that only passes the call on.
class PassThroughInterceptor {
  intercept(context, next) {
    return next.handle();
  }
}
Reflect.decorate([Injectable()], PassThroughInterceptor);

// The routes run the same handler; only the guard or the interceptor differs.
class BenchController {
  open(request) {
    return { userId: request.user?.userId ?? null };
  }
  floor(request) {
    return { userId: request.user?.userId ?? null };
  }
  guarded(request) {
    return { userId: request.user?.userId ?? null };
  }
  optional(request) {
    return { userId: request.user?.userId ?? null };
  }
  passthrough(request) {
    return { userId: request.user?.userId ?? null };
  }
  // bench:scale: the guarded route as an app writes it, with the user decorator.
  me(userId) {
    return { userId: userId ?? null };
  }
  // bench:scale: the JWT cookie checked by bare jose, as a guard without a cache would.
  async jose(request) {
    const token = JWT_COOKIE.exec(request.headers.cookie ?? '')?.[1] ?? '';
    const { payload } = await jwtVerify(token, keySet, {
      algorithms: ['ES256', 'RS256'],
      audience: process.env.BENCH_PROJECT_ID,
      clockTolerance: 5,
      requiredClaims: ['exp', 'sub'],
    });
    return { userId: payload.sub };
  }
}

const route = (name, ...decorators) => {
  const withRequest = (target, key) => Req()(target, key, 0);
  const descriptor = Object.getOwnPropertyDescriptor(BenchController.prototype, name);
  Reflect.decorate([Get(name), withRequest, ...decorators], BenchController.prototype, name, descriptor);
};
route('open');
route('floor', UseGuards(FloorGuard));
route('guarded', UseGuards(CrossmintAuthGuard));
route('optional', UseInterceptors(CrossmintSessionInterceptor));
route('passthrough', UseInterceptors(PassThroughInterceptor));
route('jose');
{
  const descriptor = Object.getOwnPropertyDescriptor(BenchController.prototype, 'me');
  const withUser = (target, key) => CurrentUser('userId')(target, key, 0);
  Reflect.decorate([Get('me'), withUser, UseGuards(CrossmintAuthGuard)], BenchController.prototype, 'me', descriptor);
}
Reflect.decorate([Controller('bench')], BenchController);

class BenchModule {}
Reflect.decorate(
  [Module({ imports: [CrossmintAuthModule.forRoot(moduleOptions)], controllers: [BenchController] })],
  BenchModule,
);

async function createApp() {
  const options = { logger: ['error', 'warn'] };
  if (platform === 'express') return NestFactory.create(BenchModule, options);
  if (platform === 'fastify') {
    const { FastifyAdapter } = await import('@nestjs/platform-fastify');
    return NestFactory.create(BenchModule, new FastifyAdapter(), options);
  }
  throw new Error(`unknown platform ${platform}`);
}

const app = await createApp();
await app.listen(0, '127.0.0.1');
const { port } = app.getHttpServer().address();

// Bench-only control channel over IPC, so no extra route is exposed: full GC + memory report, CPU time, exit.
process.on('message', async (message) => {
  if (message?.type === 'gc') {
    for (let i = 0; i < 3; i++) {
      global.gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
    process.send({ type: 'memory', ...process.memoryUsage() });
  } else if (message?.type === 'cpu') {
    process.send({ type: 'cpu', ...process.cpuUsage() });
  } else if (message?.type === 'exit') {
    await app.close();
    process.exit(0);
  }
});
process.on('disconnect', () => process.exit(0));
process.send({ type: 'ready', url: `http://127.0.0.1:${port}` });
