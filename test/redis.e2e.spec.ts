import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { Logger, type LoggerService } from '@nestjs/common';
import { Redis } from 'ioredis';
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisRefreshStore } from '../lib/index.js';
import { sealRefreshOutcome } from '../lib/refresh-store/refresh-outcome-cipher.js';
import { CrossmintAuthEmulator, type EmulatorSession } from '../lib/testing/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { isCleared, request, type TestResponse } from './support/http.js';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server.js';
import { createTestApp, type TestApp } from './support/test-app.js';

const PREFIX = 'test:crossmint-refresh:';
const INSTANCES = 3;

const redisServerBinary = findRedisServer();
// Locally the suite may be skipped without redis-server; under CI it must run, so it fails with a clear message.
const describeRedis = redisServerBinary || process.env.CI ? describe : describe.skip;

describeRedis('RedisRefreshStore: refresh coordination across app instances (real redis-server)', () => {
  let redisServer: RedisServer | undefined;
  let emulator: CrossmintAuthEmulator;
  const clients: Redis[] = [];
  const apps: TestApp[] = [];
  let inspector: Redis;
  const logs: string[] = [];

  beforeAll(async () => {
    if (!redisServerBinary) {
      throw new Error(
        'redis-server is not on PATH and CI requires this suite: install it with `apt-get install -y redis-server`',
      );
    }
    redisServer = await startRedisServer({ binary: redisServerBinary });
    emulator = await CrossmintAuthEmulator.start();
    for (let i = 0; i < INSTANCES; i++) {
      const client = connect(redisServer.port);
      clients.push(client);
      // Outcomes outlive any test step, so no assertion depends on how fast this machine is.
      const refreshStore = new RedisRefreshStore(client, {
        keyPrefix: PREFIX,
        resultTtlMs: 10_000,
        unavailableTtlMs: 10_000,
      });
      apps.push(await createTestApp({ moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 2000, refreshStore } }));
    }
    inspector = connect(redisServer.port);
    // Apps are created with `logger: false`; from here on Nest's Logger writes to this collector.
    Logger.overrideLogger(collector(logs));
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    for (const client of [...clients, inspector]) client?.disconnect();
    await emulator?.stop();
    await redisServer?.kill();
  });

  beforeEach(() => emulator.reset());

  /** The key the store writes for a secret, as docs/redis.md describes it: an HMAC under a key derived from the API key. */
  function keyOf(secret: string, kind: '' | 'attempt:' | 'revoked:' = ''): string {
    const hashKey = Buffer.from(
      hkdfSync('sha256', emulator.moduleOptions().apiKey, '', 'nestjs-crossmint-auth/refresh-secret-hash/v1', 32),
    );
    return PREFIX + kind + createHmac('sha256', hashKey).update(secret).digest('base64url');
  }

  /** Polls `check` every 5 ms until it holds (at most 5 s): waits on what the instances do, never on the clock. */
  async function until(check: () => Promise<boolean> | boolean, what: string): Promise<void> {
    for (const deadline = Date.now() + 5000; !(await check()); await sleep(5)) {
      if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    }
  }

  /** Request `i` goes to instance `i % 3`, as a load balancer would spread one browser's requests. */
  function spread(count: number, session: EmulatorSession, path = '/protected'): Promise<TestResponse[]> {
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    return Promise.all(
      Array.from({ length: count }, (_, i) => request(`${apps[i % INSTANCES].url}${path}`, { cookies })),
    );
  }

  it('60 concurrent requests with one expired session, spread over three instances, make exactly one upstream refresh', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.fault('refresh', { delayMs: 150 });
    const results = await spread(60, session);

    expect(results.map((r) => r.status)).toEqual(Array(60).fill(200));
    expect(emulator.calls('refresh')).toBe(1);
    expect(results.every((r) => r.body.userId === session.userId)).toBe(true);
    const jwts = new Set(results.map((r) => r.cookies[JWT_COOKIE]?.value));
    const secrets = new Set(results.map((r) => r.cookies[REFRESH_COOKIE]?.value));
    expect(jwts.size).toBe(1);
    expect(secrets.size).toBe(1);
    expect([...jwts][0]).toMatch(/^ey/);
    expect([...jwts][0]).not.toBe(session.jwt);
    expect([...secrets][0]).not.toBe(session.refreshToken.secret);
  });

  it('a late request on another instance with the consumed secret gets the same material from Redis', async () => {
    const session = await emulator.createSession({ expired: true });
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    const first = await request(`${apps[0].url}/protected`, { cookies });
    expect(first.status).toBe(200);

    const late = await Promise.all([
      request(`${apps[1].url}/protected`, { cookies }),
      request(`${apps[2].url}/protected`, { cookies }),
    ]);
    expect(late.map((r) => r.status)).toEqual([200, 200]);
    expect(emulator.calls('refresh')).toBe(1);
    for (const res of late) {
      expect(res.cookies[JWT_COOKIE].value).toBe(first.cookies[JWT_COOKIE].value);
      expect(res.cookies[REFRESH_COOKIE].value).toBe(first.cookies[REFRESH_COOKIE].value);
    }
  });

  it('stores neither the new JWT nor any secret in plaintext, under keyed-hash keys that expire', async () => {
    await inspector.flushall();
    const session = await emulator.createSession({ expired: true, user: { email: 'plaintext-check@example.com' } });
    const [res] = await spread(3, session);
    expect(res.status).toBe(200);
    const newJwt = res.cookies[JWT_COOKIE].value;
    const newSecret = res.cookies[REFRESH_COOKIE].value;

    const keys = (await inspector.keys('*')).sort();
    expect(keys).toEqual([keyOf(session.refreshToken.secret), keyOf(session.refreshToken.secret, 'attempt:')].sort());
    const value = (await inspector.get(keyOf(session.refreshToken.secret)))!;
    expect(value).toMatch(/^v1:[A-Za-z0-9_-]+$/);
    expect(await inspector.get(keyOf(session.refreshToken.secret, 'attempt:'))).toBe('1');
    for (const key of keys) {
      const ttl = await inspector.pttl(key);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(10_000);
    }

    const stored = keys.join('\n') + '\n' + value;
    const jwtPayload = newJwt.split('.')[1];
    for (const plaintext of [
      newJwt,
      jwtPayload,
      newSecret,
      session.refreshToken.secret,
      session.userId,
      'plaintext-check@example.com',
    ]) {
      expect(stored.includes(plaintext)).toBe(false);
    }
    // Nor in the encodings a careless store would use.
    expect(Buffer.from(value.slice(3), 'base64url').toString('latin1').includes(session.userId)).toBe(false);
  });

  it('a refresh token Crossmint refuses is refused once for all instances: every request answers 401 and clears the cookies', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.revokeRefreshToken(session.refreshToken.secret);
    emulator.fault('refresh', { delayMs: 150 });
    const results = await spread(30, session);

    expect(results.map((r) => r.status)).toEqual(Array(30).fill(401));
    expect(emulator.calls('refresh')).toBe(1);
    expect(results.every((r) => isCleared(r.cookies[JWT_COOKIE]) && isCleared(r.cookies[REFRESH_COOKIE]))).toBe(true);

    // Later requests with that secret learn it from Redis, without calling Crossmint.
    const late = await spread(3, session);
    expect(late.map((r) => r.status)).toEqual([401, 401, 401]);
    expect(emulator.calls('refresh')).toBe(1);
  });

  it('a Crossmint outage met by the elected refresher is shared as 503 with its Retry-After (cookies kept); once it expires, a request refreshes', async () => {
    const session = await emulator.createSession({ expired: true });
    emulator.fault('refresh', { status: 503, delayMs: 150, times: 1, headers: { 'retry-after': '42' } });
    const results = await spread(30, session);

    expect(results.map((r) => r.status)).toEqual(Array(30).fill(503));
    expect(emulator.calls('refresh')).toBe(1);
    expect(results.map((r) => r.headers.get('retry-after'))).toEqual(Array(30).fill('42'));
    expect(results.every((r) => r.setCookies.length === 0)).toBe(true);

    // The outage is shared for `unavailableTtlMs`; expire it now instead of waiting.
    const key = keyOf(session.refreshToken.secret);
    const ttl = await inspector.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(10_000);
    await inspector.del(key);

    const [retried] = await spread(1, session);
    expect(retried.status).toBe(200);
    expect(emulator.calls('refresh')).toBe(2);
  });

  it('a value planted in Redis never becomes a session: not plaintext, not garbage, not a sealed JWT that does not verify', async () => {
    const forgedJwt = await emulator.signJwt(
      { sub: 'attacker', aud: 'whatever', exp: nowSec() + 600 },
      { key: 'foreign' },
    );
    const validOtherUser = await emulator.createSession();
    const plants: Array<(secret: string, keyHash: string) => string> = [
      () =>
        JSON.stringify({
          ok: true,
          result: {
            jwt: validOtherUser.jwt,
            refreshToken: validOtherUser.refreshToken,
            user: { id: validOtherUser.userId },
          },
        }),
      () => 'v1:' + Buffer.alloc(80, 7).toString('base64url'),
      // Sealed with the right secret (as only a holder of it could), but the JWT is signed by a foreign key.
      (secret, keyHash) =>
        sealRefreshOutcome(secret, keyHash, {
          ok: true,
          result: {
            jwt: forgedJwt,
            refreshToken: { secret: 'forged', expiresAt: new Date(Date.now() + 60_000).toISOString() },
            user: { id: 'attacker' },
          },
        }),
    ];
    for (const plant of plants) {
      const session = await emulator.createSession({ expired: true });
      const key = keyOf(session.refreshToken.secret);
      await inspector.set(key, plant(session.refreshToken.secret, key.slice(PREFIX.length)), 'PX', 10_000);

      const results = await spread(3, session);
      expect(results.map((r) => r.status)).toEqual([503, 503, 503]);
      expect(results.every((r) => r.setCookies.length === 0)).toBe(true);
    }
    expect(emulator.calls('refresh')).toBe(0);
  });

  it('a Redis reader who knows a secret cannot find its key by a bare SHA-256 of it', async () => {
    await inspector.flushall();
    const session = await emulator.createSession({ expired: true });
    const [res] = await spread(3, session);
    expect(res.status).toBe(200);
    const secret = session.refreshToken.secret;

    const keys = await inspector.keys('*');
    expect(keys.length).toBe(2);
    for (const encoding of ['base64url', 'base64', 'hex'] as const) {
      const bare = createHash('sha256').update(secret).digest(encoding);
      for (const key of keys) expect(key.includes(bare)).toBe(false);
      expect(await inspector.exists(PREFIX + bare)).toBe(0);
    }
    // Nor by an HMAC under a key they could guess without the API key.
    for (const guess of ['', PREFIX, 'crossmint-auth']) {
      const guessed = createHmac('sha256', guess).update(secret).digest('base64url');
      for (const key of keys) expect(key.endsWith(guessed)).toBe(false);
    }
  });

  describe('logout ends the grace window on every instance', () => {
    /** Refreshes an expired session on instance 0: the consumed secret S0 and the new cookies (S1). */
    async function refreshedOnInstance0() {
      const session = await emulator.createSession({ expired: true });
      const res = await request(`${apps[0].url}/protected`, {
        cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
      });
      expect(res.status).toBe(200);
      return {
        consumed: session.refreshToken.secret,
        next: { [JWT_COOKIE]: res.cookies[JWT_COOKIE].value, [REFRESH_COOKIE]: res.cookies[REFRESH_COOKIE].value },
      };
    }

    it('logout with the new secret on instance 1: the consumed secret gets 401 on every instance, from its own memory or from Redis', async () => {
      const { consumed, next } = await refreshedOnInstance0();
      // Within the window, instance 2 hands out the result (and keeps it in memory too) before the logout.
      expect((await request(`${apps[2].url}/protected`, { cookies: { [REFRESH_COOKIE]: consumed } })).status).toBe(200);

      const logout = await request(`${apps[1].url}/logout`, { method: 'POST', cookies: next });
      expect(logout.status).toBe(201);
      expect(emulator.calls('logout')).toBe(1);

      // Instances 0 and 2 hold the result in memory; instance 1 reads it from Redis.
      for (const app of apps) {
        const replay = await request(`${app.url}/protected`, { cookies: { [REFRESH_COOKIE]: consumed } });
        expect(replay.status).toBe(401);
        expect(isCleared(replay.cookies[REFRESH_COOKIE])).toBe(true);
      }
      expect(emulator.calls('refresh')).toBe(1);
    });

    it('logout with the consumed secret on instance 1: it is refused everywhere, and the secret its result handed out is revoked at Crossmint', async () => {
      const { consumed, next } = await refreshedOnInstance0();
      const logout = await request(`${apps[1].url}/logout`, {
        method: 'POST',
        cookies: { [REFRESH_COOKIE]: consumed },
      });
      expect(logout.status).toBe(201);
      expect(emulator.calls('logout')).toBe(2);

      for (const app of [apps[0], apps[2]]) {
        expect((await request(`${app.url}/protected`, { cookies: { [REFRESH_COOKIE]: consumed } })).status).toBe(401);
      }
      expect(emulator.calls('refresh')).toBe(1);
      expect(
        (await request(`${apps[2].url}/protected`, { cookies: { [REFRESH_COOKIE]: next[REFRESH_COOKIE] } })).status,
      ).toBe(401);
      expect(emulator.calls('refresh')).toBe(2);
    });
  });

  it('an election key evicted mid-refresh: the request that takes over and is refused answers 503 and keeps the cookies', async () => {
    await inspector.flushall();
    const session = await emulator.createSession({ expired: true });
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    // Both refresh calls are slow: instance 0's consumes the secret, then instance 1's is refused.
    emulator.fault('refresh', { delayMs: 1000, times: 2 });

    const first = request(`${apps[0].url}/protected`, { cookies });
    const lockKey = keyOf(session.refreshToken.secret);
    await until(
      async () => (await inspector.get(lockKey))?.startsWith('lock:') === true && emulator.calls('refresh') === 1,
      'instance 0 holds the election and called Crossmint',
    );

    await inspector.config('RESETSTAT');
    const second = request(`${apps[1].url}/protected`, { cookies });
    // Instance 1 lost the election and polls the key (only it sends GETs now).
    await until(
      async () => /cmdstat_get:calls=[1-9]/.test(await inspector.info('commandstats')),
      'instance 1 waits on the election',
    );

    // Evict the lock, only if it is still instance 0's (its refresh has not finished).
    const evicted = await inspector.eval(
      "if string.sub(redis.call('GET', KEYS[1]) or '', 1, 5) == 'lock:' then return redis.call('DEL', KEYS[1]) end return 0",
      1,
      lockKey,
    );
    expect(evicted).toBe(1);

    const [winner, loser] = await Promise.all([first, second]);
    expect(winner.status).toBe(200);
    expect(emulator.calls('refresh')).toBe(2);
    expect(loser.status).toBe(503);
    expect(loser.setCookies).toEqual([]);
    expect(loser.headers.get('retry-after')).toMatch(/^\d+$/);

    // The browser keeps instance 0's new session; a late request with the old cookies gets it too.
    const late = await request(`${apps[2].url}/protected`, { cookies });
    expect(late.status).toBe(200);
    expect(late.cookies[JWT_COOKIE].value).toBe(winner.cookies[JWT_COOKIE].value);
    expect(emulator.calls('refresh')).toBe(2);
  });

  it('an election key evicted mid-refresh: a request arriving afterwards, refused by Crossmint, answers 503 and keeps the cookies', async () => {
    await inspector.flushall();
    const session = await emulator.createSession({ expired: true });
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    // Crossmint consumes the secret at once; instance 0's answer arrives late.
    emulator.fault('refresh', { answerDelayMs: 1000, times: 1 });

    const first = request(`${apps[0].url}/protected`, { cookies });
    const lockKey = keyOf(session.refreshToken.secret);
    await until(
      async () => (await inspector.get(lockKey))?.startsWith('lock:') === true && emulator.calls('refresh') === 1,
      'instance 0 called Crossmint',
    );
    // Evicted (or lost in a failover): nobody is waiting on it.
    expect(await inspector.del(lockKey)).toBe(1);

    const second = await request(`${apps[1].url}/protected`, { cookies });
    expect(emulator.calls('refresh')).toBe(2);
    expect(second.status).toBe(503);
    expect(second.setCookies).toEqual([]);
    expect((await first).status).toBe(200);
  });

  it('a logout on instance 1 while instance 0 refreshes wins on every instance, and no refresh token stays live', async () => {
    await inspector.flushall();
    const session = await emulator.createSession({ expired: true });
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    emulator.fault('refresh', { answerDelayMs: 500, times: 1 });

    const refreshing = request(`${apps[0].url}/protected`, { cookies });
    await until(() => emulator.calls('refresh') === 1, 'instance 0 called Crossmint');
    const logout = await request(`${apps[1].url}/logout`, { method: 'POST', cookies });
    expect(logout.status).toBe(201);

    const res = await refreshing;
    expect(res.status).toBe(401);
    expect(isCleared(res.cookies[REFRESH_COOKIE])).toBe(true);
    for (const app of apps) expect((await request(`${app.url}/protected`, { cookies })).status).toBe(401);
    expect(emulator.liveRefreshTokens(session.userId)).toBe(0);
  });

  it('Redis that stops answering: requests fall back after `commandTimeoutMs`, and the outcome lands in Redis once it answers', async () => {
    const session = await emulator.createSession({ expired: true });
    const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
    const mark = logs.length;
    redisServer!.pause();
    let results: TestResponse[];
    try {
      results = await Promise.all(Array.from({ length: 5 }, () => request(`${apps[0].url}/protected`, { cookies })));
    } finally {
      redisServer!.resume();
    }
    expect(results.map((r) => r.status)).toEqual(Array(5).fill(200));
    expect(emulator.calls('refresh')).toBe(1);
    expect(logs.slice(mark).some((line) => line.startsWith('warn: Redis is unreachable (command timed out)'))).toBe(
      true,
    );

    // Instance 0's late `SET NX` lock and then its result reach Redis in order: the result is what stays.
    const key = keyOf(session.refreshToken.secret);
    let stored: string | null = null;
    for (let attempt = 0; attempt < 100 && !stored?.startsWith('v1:'); attempt++) {
      if (attempt > 0) await sleep(50);
      stored = await inspector.get(key);
    }
    expect(stored).toMatch(/^v1:/);
    const late = await request(`${apps[1].url}/protected`, { cookies });
    expect(late.status).toBe(200);
    expect(late.cookies[JWT_COOKIE].value).toBe(results[0].cookies[JWT_COOKIE].value);
    expect(emulator.calls('refresh')).toBe(1);
  });

  it('Redis killed mid-test: requests are still served through the local path, and a warning is logged', async () => {
    // Refreshed by instance 0 while Redis is up: instance 0 remembers the result itself.
    const before = await emulator.createSession({ expired: true });
    const beforeCookies = { [JWT_COOKIE]: before.jwt, [REFRESH_COOKIE]: before.refreshToken.secret };
    const refreshedBefore = await request(`${apps[0].url}/protected`, { cookies: beforeCookies });
    expect(refreshedBefore.status).toBe(200);
    const mark = logs.length;

    await redisServer!.kill();
    emulator.resetCalls();

    const valid = await emulator.createSession();
    const validResults = await Promise.all(
      apps.map((app) => request(`${app.url}/protected`, { cookies: { [JWT_COOKIE]: valid.jwt } })),
    );
    expect(validResults.map((r) => r.status)).toEqual([200, 200, 200]);

    // Each instance still collapses its own concurrent requests into one refresh.
    for (const app of apps) {
      const session = await emulator.createSession({ expired: true });
      emulator.fault('refresh', { delayMs: 100 });
      const cookies = { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret };
      const results = await Promise.all(Array.from({ length: 20 }, () => request(`${app.url}/protected`, { cookies })));
      expect(results.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(results.map((r) => r.cookies[JWT_COOKIE].value)).size).toBe(1);
    }
    expect(emulator.calls('refresh')).toBe(INSTANCES);

    const late = await request(`${apps[0].url}/protected`, { cookies: beforeCookies });
    expect(late.status).toBe(200);
    expect(late.cookies[JWT_COOKIE].value).toBe(refreshedBefore.cookies[JWT_COOKIE].value);
    expect(emulator.calls('refresh')).toBe(INSTANCES);

    expect(logs.slice(mark).some((line) => line.startsWith('warn: Redis is unreachable'))).toBe(true);
    const logged = logs.join('\n');
    for (const secret of [before.refreshToken.secret, before.jwt, valid.jwt])
      expect(logged.includes(secret)).toBe(false);
  });

  it('once Redis is back, the instances coordinate through it again', async () => {
    const mark = logs.length;
    redisServer = await startRedisServer({ binary: redisServerBinary, port: redisServer!.port });
    for (let attempt = 0; attempt < 100 && !clients.every((client) => client.status === 'ready'); attempt++)
      await sleep(100);
    expect(clients.map((client) => client.status)).toEqual(Array(INSTANCES).fill('ready'));

    const session = await emulator.createSession({ expired: true });
    emulator.fault('refresh', { delayMs: 150 });
    const results = await spread(30, session);
    expect(results.map((r) => r.status)).toEqual(Array(30).fill(200));
    expect(new Set(results.map((r) => r.cookies[JWT_COOKIE].value)).size).toBe(1);
    expect(emulator.calls('refresh')).toBe(1);
    expect(logs.slice(mark).some((line) => line.startsWith('log: Redis is reachable again'))).toBe(true);
  });
});

function connect(port: number): Redis {
  const client = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: 1, retryStrategy: () => 200 });
  client.on('error', () => undefined); // reconnection errors once the server is killed
  return client;
}

function collector(logs: string[]): LoggerService {
  const to = (level: string) => (message: unknown) => void logs.push(`${level}: ${String(message)}`);
  return { log: to('log'), error: to('error'), warn: to('warn'), debug: to('debug'), verbose: to('verbose') };
}
