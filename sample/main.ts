import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { CrossmintAuthModuleOptions } from 'nestjs-crossmint-auth';
import { CrossmintAuthEmulator } from 'nestjs-crossmint-auth/testing';
import { AppModule } from './app.module.js';
import { configureDeployment, deploymentOptions } from './deployment.js';
import { remoteDevSessions, type DevSessions } from './dev-sessions.js';

async function bootstrap() {
  const logger = new Logger('Sample');
  const port = Number(process.env.PORT ?? 3000);
  const routes = { refresh: '/api/auth/refresh', logout: '/api/auth/logout' };

  let emulator: CrossmintAuthEmulator | undefined;
  let devSessions: DevSessions | undefined;
  let auth: CrossmintAuthModuleOptions;
  if (process.env.CROSSMINT_API_KEY) {
    auth = { apiKey: process.env.CROSSMINT_API_KEY, baseUrl: process.env.CROSSMINT_BASE_URL, routes };
    // An emulator shared by several instances (npm run demo:cluster) mints the dev sign-in's sessions.
    if (process.env.DEV_SESSIONS_URL) devSessions = remoteDevSessions(process.env.DEV_SESSIONS_URL);
  } else {
    emulator = await CrossmintAuthEmulator.start({ jwtTtlSec: Number(process.env.JWT_TTL_SEC ?? 60) });
    devSessions = emulator;
    auth = { ...emulator.moduleOptions(), routes };
  }
  auth = { ...auth, ...(await deploymentOptions()) };

  const app = await NestFactory.create<NestExpressApplication>(AppModule.register(auth, devSessions));
  configureDeployment(app);
  app.enableShutdownHooks();
  await app.listen(port, '127.0.0.1');
  const url = `http://localhost:${port}`;

  if (emulator) {
    const stop = () => emulator!.stop();
    process.once('SIGINT', stop).once('SIGTERM', stop);
    logger.log(`Crossmint emulator on ${emulator.baseUrl} (no CROSSMINT_API_KEY set)`);
    logger.log(`Browser:   open ${url}/sign-in`);
    logger.log(`Sign in:   curl -c jar.txt '${url}/dev/sign-in?email=alice@example.com'  (or open it in a browser)`);
    logger.log(`Then:      curl -b jar.txt -c jar.txt ${url}/me   |  ${url}/me/profile  |  ${url}/feed`);
  }
  logger.log(`Sample app on ${url}`);
}

bootstrap();
