import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService, TerminusModule } from '@nestjs/terminus';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { CrossmintAuthHealthIndicator, RedisRefreshStore } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request } from './support/http.js';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server.js';
import { TestController } from './support/test-app.js';

/** The way README's operations guide wires it: a Terminus `/health` with the module's indicator. */
@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly crossmint: CrossmintAuthHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.crossmint.isHealthy('crossmint')]);
  }
}

const MAX_AGE_MS = 1500;

/** Terminus 12 has a `degraded` status (a 200 `degraded` check); terminus 11 (Nest 11) reports a degraded state as `up`. */
const HAS_DEGRADED = 'degraded' in new HealthIndicatorService().check('probe');
const DEGRADED = HAS_DEGRADED ? { check: 'degraded', status: 'degraded' } : { check: 'ok', status: 'up' };

/** `CrossmintAuthHealthIndicator` behind a real Terminus endpoint, against the emulator with faults injected. */
describe('operations: Terminus health of the Crossmint side', () => {
  let redisServer: RedisServer | undefined;
  let redis: Redis | undefined;
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: {
        moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000, jwksMaxAgeMs: MAX_AGE_MS, jwksCooldownMs: 0 },
        imports: [TerminusModule],
        controllers: [TestController, HealthController],
      },
    }),
    appsPerTest: true,
    logs: 'clear',
  });

  const health = () => request(`${suite.app.url}/health`);
  const signIn = async () => {
    const { jwt } = await suite.emulator.createSession();
    expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } })).status).toBe(200);
  };
  const refresh = async () => {
    const { refreshToken } = await suite.emulator.createSession();
    return request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: refreshToken.secret } });
  };

  it('up: fresh keys, no refresh failing', async () => {
    await signIn();
    expect((await refresh()).status).toBe(200);
    const response = await health();

    expect(response.status).toBe(200);
    expect(response.body.status).toBe('ok');
    expect(response.body.details.crossmint).toEqual({
      status: 'up',
      state: 'up',
      problems: [],
      keys: { ageSec: expect.any(Number), stale: false },
      apiKey: 'unknown',
      refreshes: { recent: 1, failing: 0 },
    });
  });

  it('degraded, not down: serving stale keys while the JWKS endpoint fails', async () => {
    await signIn();
    suite.emulator.fault('jwks', { status: 503 });
    await sleep(MAX_AGE_MS + 50);
    await signIn(); // served with the stale keys; their refetch fails in the background
    await sleep(50);
    const response = await health();

    expect(response.status).toBe(200);
    expect(response.body.status).toBe(DEGRADED.check);
    expect(response.body.details.crossmint).toMatchObject({
      status: DEGRADED.status,
      state: 'degraded',
      problems: ['keys_stale'],
      keys: { stale: true, lastError: 'upstream_unavailable' },
    });
  });

  it('down: Crossmint refuses the API key', async () => {
    await signIn();
    suite.emulator.revokeApiKey();
    expect((await refresh()).status).toBe(503);
    const response = await health();

    expect(response.status).toBe(503);
    expect(response.body.status).toBe('error');
    expect(response.body.error.crossmint).toMatchObject({
      status: 'down',
      state: 'down',
      problems: ['api_key_refused', 'refreshes_failing'],
      apiKey: 'refused',
      refreshes: { recent: 1, failing: 1, lastFailure: 'api_key_refused' },
    });
  });

  it('down: no usable keys after a failed fetch', async () => {
    suite.emulator.fault('jwks', { status: 500 });
    const { jwt } = await suite.emulator.createSession();
    expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } })).status).toBe(503);
    const response = await health();

    expect(response.status).toBe(503);
    expect(response.body.error.crossmint).toMatchObject({ state: 'down', problems: ['keys_unavailable'] });
  });

  it('degraded: most recent refreshes fail upstream (refused refresh tokens do not count)', async () => {
    await signIn();
    suite.emulator.fault('refresh', { status: 502, times: 3 });
    for (let i = 0; i < 3; i++) expect((await refresh()).status).toBe(503);
    expect((await refresh()).status).toBe(200);
    const { refreshToken } = await suite.emulator.createSession();
    suite.emulator.revokeRefreshToken(refreshToken.secret);
    await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: refreshToken.secret } });
    const response = await health();

    expect(response.status).toBe(200);
    expect(response.body.details.crossmint).toMatchObject({
      state: 'degraded',
      problems: ['refreshes_failing'],
      refreshes: { recent: 5, failing: 3, lastFailure: 'upstream_unavailable' },
    });
  });

  const describeRedis = findRedisServer() || process.env.CI ? describe : describe.skip;
  describeRedis('with a Redis refresh store', () => {
    // Before the apps are made: their module options take the client.
    beforeAll(async () => {
      redisServer = await startRedisServer();
      redis = new Redis({
        host: '127.0.0.1',
        port: redisServer.port,
        maxRetriesPerRequest: 1,
        retryStrategy: () => 200,
        // A reconnect to the stopped server never closes: without this, ioredis' 2 s timer outlives the suite.
        disconnectTimeout: 50,
      });
      redis.on('error', () => undefined);
    });
    const redisSuite = useEmulatorApps({
      apps: (emulator) => ({
        app: {
          moduleOptions: {
            ...emulator.moduleOptions(),
            refreshStore: new RedisRefreshStore(redis!, { commandTimeoutMs: 200 }),
          },
          imports: [TerminusModule],
          controllers: [TestController, HealthController],
        },
      }),
      logs: 'clear',
    });
    afterAll(async () => {
      redis?.disconnect();
      await redisServer?.kill();
    });

    it('reports Redis reachable, then degraded (not down) once the server is stopped', async () => {
      const up = await request(`${redisSuite.app.url}/health`);
      expect(up.status).toBe(200);
      expect(up.body.details.crossmint).toMatchObject({ state: 'up', refreshStore: { reachable: true } });

      await redisServer!.kill();
      redisServer = undefined;
      const degraded = await request(`${redisSuite.app.url}/health`);
      expect(degraded.status).toBe(200);
      expect(degraded.body.status).toBe(DEGRADED.check);
      expect(degraded.body.details.crossmint).toMatchObject({
        status: DEGRADED.status,
        state: 'degraded',
        problems: ['refresh_store_unreachable'],
        refreshStore: { reachable: false },
      });
    });
  });
});
