import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import * as otel from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { MeterProvider, MetricReader, type MetricData } from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
  type ReadableSpan,
} from '@opentelemetry/sdk-trace-base';
import { Redis } from 'ioredis';
import { RedisRefreshStore } from '../lib/index.js';
import type { OtelApi } from '../lib/telemetry/otel-api.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request } from './support/http.js';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server.js';

// The module's own declaration of the OpenTelemetry API must fit the real one: this line fails the type check if not.
const fitsTheRealApi: OtelApi = otel;

/** A reader the test collects from when it wants. */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

// Registered before the apps boot, as an app registers its SDK before creating the Nest app.
const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const reader = new TestReader();
const meterProvider = new MeterProvider({ readers: [reader] });
otel.context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
otel.trace.setGlobalTracerProvider(tracerProvider);
otel.metrics.setGlobalMeterProvider(meterProvider);

/** Spans and metrics from a real OpenTelemetry SDK with in-memory exporters, over real HTTP against the emulator. */
describe('operations: OpenTelemetry spans and metrics', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({
      app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } },
      silent: { moduleOptions: { ...emulator.moduleOptions(), telemetry: false } },
    }),
    logs: 'clear',
  });
  afterAll(async () => {
    otel.trace.disable();
    otel.metrics.disable();
    otel.context.disable();
    await tracerProvider.shutdown();
    await meterProvider.shutdown();
  });

  const spans = (name?: string) => exporter.getFinishedSpans().filter((span) => !name || span.name === name);
  const attr = (span: ReadableSpan, key: string) => span.attributes[key];
  const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  async function metric(name: string): Promise<MetricData | undefined> {
    const { resourceMetrics } = await reader.collect();
    return resourceMetrics.scopeMetrics
      .filter((scope) => scope.scope.name === 'nestjs-crossmint-auth')
      .flatMap((scope) => scope.metrics)
      .find((data) => data.descriptor.name === name);
  }
  /** The value of the data point whose attributes include `attributes` (a sum, or a histogram's count). */
  async function valueOf(name: string, attributes: Record<string, unknown>): Promise<number> {
    const point = (await metric(name))?.dataPoints.find((point) =>
      Object.entries(attributes).every(([key, value]) => point.attributes[key] === value),
    );
    const value = point?.value as number | { count: number } | undefined;
    return typeof value === 'object' ? value.count : (value ?? 0);
  }

  it('a JWKS fetch is a client span with its status and outcome, and counted', async () => {
    exporter.reset();
    const { jwt } = await suite.emulator.createSession();
    expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } })).status).toBe(200);

    const [jwks] = spans('crossmint.jwks');
    expect(jwks.kind).toBe(otel.SpanKind.CLIENT);
    expect(attr(jwks, 'crossmint.call')).toBe('jwks');
    expect(attr(jwks, 'http.response.status_code')).toBe(200);
    expect(attr(jwks, 'crossmint_auth.outcome')).toBe('success');
    expect(await valueOf('crossmint_auth.jwks.fetches', { 'crossmint_auth.outcome': 'success' })).toBe(1);
    expect(await valueOf('crossmint_auth.crossmint.duration', { 'crossmint.call': 'jwks' })).toBe(1);
  });

  it('verified-token cache hits and misses are counted', async () => {
    const before = {
      hit: await valueOf('crossmint_auth.token_cache.lookups', { 'crossmint_auth.cache.result': 'hit' }),
      miss: await valueOf('crossmint_auth.token_cache.lookups', { 'crossmint_auth.cache.result': 'miss' }),
    };
    const { jwt } = await suite.emulator.createSession();
    for (let i = 0; i < 3; i++) await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } });

    expect(await valueOf('crossmint_auth.token_cache.lookups', { 'crossmint_auth.cache.result': 'miss' })).toBe(
      before.miss + 1,
    );
    expect(await valueOf('crossmint_auth.token_cache.lookups', { 'crossmint_auth.cache.result': 'hit' })).toBe(
      before.hit + 2,
    );
  });

  it('authentication failures are counted by reason and door', async () => {
    const jwt = await suite.emulator.mintJwt({ audience: 'another-project' });
    const labels = { 'crossmint_auth.reason': 'wrong_audience', 'crossmint_auth.door': 'guard' };
    const before = await valueOf('crossmint_auth.authentication.failures', labels);
    await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } });
    await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${jwt}` } });

    expect(await valueOf('crossmint_auth.authentication.failures', labels)).toBe(before + 2);
  });

  it('a refresh: leader with its Crossmint call as a child, a follower joining it, then a grace hit from the store', async () => {
    exporter.reset();
    const { refreshToken } = await suite.emulator.createSession();
    const cookies = { [REFRESH_COOKIE]: refreshToken.secret };
    suite.emulator.fault('refresh', { answerDelayMs: 200, times: 1 });
    const both = await Promise.all([
      request(`${suite.app.url}/protected`, { cookies }),
      request(`${suite.app.url}/protected`, { cookies }),
    ]);
    expect(both.map((response) => response.status)).toEqual([200, 200]);
    expect((await request(`${suite.app.url}/protected`, { cookies })).status).toBe(200);

    const refreshes = spans('crossmint_auth.refresh');
    expect(refreshes.map((span) => attr(span, 'crossmint_auth.refresh.role')).sort()).toEqual([
      'follower',
      'leader',
      'shared',
    ]);
    expect(refreshes.every((span) => attr(span, 'crossmint_auth.outcome') === 'success')).toBe(true);
    const leader = refreshes.find((span) => attr(span, 'crossmint_auth.refresh.role') === 'leader')!;
    const calls = spans('crossmint.refresh');
    expect(calls).toHaveLength(1);
    expect(parentOf(calls[0])).toBe(leader.spanContext().spanId);
    expect(attr(calls[0], 'http.response.status_code')).toBe(200);
    expect(await valueOf('crossmint_auth.refreshes', { 'crossmint_auth.refresh.role': 'leader' })).toBeGreaterThan(0);
  });

  it('a refused API key: the refresh span and its outcome say api_key_refused, the key check is a child span', async () => {
    exporter.reset();
    const { refreshToken } = await suite.emulator.createSession();
    suite.emulator.revokeApiKey();
    const response = await request(`${suite.app.url}/protected`, {
      cookies: { [REFRESH_COOKIE]: refreshToken.secret },
    });
    expect(response.status).toBe(503);

    const [refresh] = spans('crossmint_auth.refresh');
    expect(attr(refresh, 'crossmint_auth.outcome')).toBe('api_key_refused');
    expect(refresh.status.code).toBe(otel.SpanStatusCode.ERROR);
    const [call] = spans('crossmint.refresh');
    expect(attr(call, 'crossmint_auth.outcome')).toBe('api_key_refused');
    expect(attr(call, 'http.response.status_code')).toBe(401);
    const [check] = spans('crossmint.user');
    expect(parentOf(check)).toBe(call.spanContext().spanId);
    expect(
      await valueOf('crossmint_auth.refreshes', {
        'crossmint_auth.refresh.role': 'leader',
        'crossmint_auth.outcome': 'api_key_refused',
      }),
    ).toBe(1);
  });

  it('no token, refresh secret or API key in any span attribute or event', async () => {
    exporter.reset();
    const session = await suite.emulator.createSession();
    await request(`${suite.app.url}/protected`, { cookies: { [REFRESH_COOKIE]: session.refreshToken.secret } });
    await request(`${suite.app.url}/logout`, {
      method: 'POST',
      cookies: { [JWT_COOKIE]: session.jwt, [REFRESH_COOKIE]: session.refreshToken.secret },
    });
    await request(`${suite.app.url}/users/${session.userId}`);

    const names = spans().map((span) => span.name);
    expect(names).toEqual(expect.arrayContaining(['crossmint.refresh', 'crossmint.logout', 'crossmint.user']));
    const recorded = JSON.stringify(spans().map((span) => [span.name, span.attributes, span.events]));
    const secrets = [session.jwt, session.refreshToken.secret, suite.emulator.moduleOptions().apiKey];
    for (const secret of secrets) expect(recorded).not.toContain(secret);
    // The refreshed material too: every value is a short label, a number or a boolean.
    for (const span of spans())
      for (const value of Object.values(span.attributes))
        expect(typeof value === 'string' ? value.length < 40 : true).toBe(true);
  });

  it('telemetry: false makes no span and no metric', async () => {
    exporter.reset();
    const before = await valueOf('crossmint_auth.authentication.failures', {
      'crossmint_auth.reason': 'no_credentials',
    });
    const { refreshToken } = await suite.emulator.createSession();
    await request(`${suite.silent.url}/protected`, { cookies: { [REFRESH_COOKIE]: refreshToken.secret } });
    await request(`${suite.silent.url}/protected`);

    expect(spans()).toEqual([]);
    expect(await valueOf('crossmint_auth.authentication.failures', { 'crossmint_auth.reason': 'no_credentials' })).toBe(
      before,
    );
  });

  const describeRedis = findRedisServer() || process.env.CI ? describe : describe.skip;
  describeRedis('with a Redis refresh store', () => {
    let redisServer: RedisServer;
    let redis: Redis;
    // Before the apps are made: their module options take the client.
    beforeAll(async () => {
      redisServer = await startRedisServer();
      redis = new Redis({ host: '127.0.0.1', port: redisServer.port, maxRetriesPerRequest: 1 });
    });
    const redisSuite = useEmulatorApps({
      apps: (emulator) => ({
        app: { moduleOptions: { ...emulator.moduleOptions(), refreshStore: new RedisRefreshStore(redis) } },
      }),
    });
    afterAll(async () => {
      redis.disconnect();
      await redisServer.kill();
    });

    it('the refresh span carries how the Redis election ended', async () => {
      exporter.reset();
      const { refreshToken } = await redisSuite.emulator.createSession();
      const cookies = { [REFRESH_COOKIE]: refreshToken.secret };
      expect((await request(`${redisSuite.app.url}/protected`, { cookies })).status).toBe(200);

      const [refresh] = spans('crossmint_auth.refresh');
      expect(attr(refresh, 'crossmint_auth.refresh.role')).toBe('leader');
      expect(refresh.events.map((event) => [event.name, event.attributes?.['crossmint_auth.redis.result']])).toEqual([
        ['crossmint_auth.redis.election', 'elected'],
      ]);
    });
  });

  it('the module fits the real API', () => {
    expect(typeof fitsTheRealApi.trace.getTracer).toBe('function');
  });
});
