import type { NestExpressApplication } from '@nestjs/platform-express';
import type { CrossmintAuthModuleOptions } from 'nestjs-crossmint-auth';
import { RedisRefreshStore } from 'nestjs-crossmint-auth';

/**
 * Settings for several instances behind a TLS proxy (`npm run demo:cluster` sets them); `npm start` needs none.
 * - `REDIS_URL`: coordinate refreshes across instances with a `RedisRefreshStore`.
 * - `CROSSMINT_COOKIE_PREFIX=__Host-`: prefixed cookie names, which a sibling subdomain cannot set.
 * - `TRUST_PROXY`: Express's `trust proxy` (e.g. `loopback`), so `req.ip` and `req.protocol` are the browser's.
 * - `INSTANCE_ID`: sent back as `X-Instance`, to see which instance answered.
 */
export async function deploymentOptions(env = process.env): Promise<Partial<CrossmintAuthModuleOptions>> {
  const options: Partial<CrossmintAuthModuleOptions> = {};
  if (env.REDIS_URL) {
    // ioredis is an optional peer: loaded only when a Redis is configured.
    const { Redis } = await import('ioredis');
    const redis = new Redis(env.REDIS_URL, {
      maxRetriesPerRequest: 1,
      retryStrategy: (times) => Math.min(times * 100, 1000),
    });
    redis.on('error', () => undefined); // the store logs outages itself
    options.refreshStore = new RedisRefreshStore(redis, { keyPrefix: 'sample:crossmint-refresh:' });
  }
  const prefix = env.CROSSMINT_COOKIE_PREFIX;
  if (prefix) options.cookies = { jwt: `${prefix}crossmint-jwt`, refreshToken: `${prefix}crossmint-refresh-token` };
  return options;
}

export function configureDeployment(app: NestExpressApplication, env = process.env): void {
  if (env.TRUST_PROXY) app.set('trust proxy', env.TRUST_PROXY);
  const instance = env.INSTANCE_ID;
  if (instance)
    app.use((_req: unknown, res: { setHeader(name: string, value: string): void }, next: () => void) => {
      res.setHeader('X-Instance', instance);
      next();
    });
}
