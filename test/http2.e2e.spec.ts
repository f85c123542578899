import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Module } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { connect, type ClientHttp2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { CrossmintAuthModule } from '../lib/index.js';
import { CrossmintAuthEmulator } from '../lib/testing/index.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { cookieHeader, parseSetCookies } from './support/http.js';
import { TestController } from './support/test-app.js';

/**
 * HTTP/2 (cleartext, Fastify's `http2: true`): the request has no `Host` header, only `:authority`, which the
 * same-origin check of the routes and `secure: 'auto'` must read instead.
 */
describe('HTTP/2 on Fastify', () => {
  let emulator: CrossmintAuthEmulator;
  let app: NestFastifyApplication;
  let origin: string;
  let client: ClientHttp2Session;

  beforeAll(async () => {
    emulator = await CrossmintAuthEmulator.start();
    const routes = { refresh: '/api/auth/refresh', logout: '/api/auth/logout' };
    @Module({
      imports: [CrossmintAuthModule.forRoot({ ...emulator.moduleOptions(), routes })],
      controllers: [TestController],
    })
    class Http2Module {}
    const moduleRef = await Test.createTestingModule({ imports: [Http2Module] }).compile();
    app = moduleRef.createNestApplication<NestFastifyApplication>(new FastifyAdapter({ http2: true }), {
      logger: false,
    });
    await app.listen(0, '127.0.0.1');
    origin = `http://127.0.0.1:${(app.getHttpServer().address() as AddressInfo).port}`;
    client = connect(origin);
  });
  afterAll(async () => {
    client.close();
    await app.close();
    await emulator.stop();
  });

  function send(path: string, headers: Record<string, string> = {}, method = 'GET', body?: string) {
    return new Promise<{ status: number; headers: IncomingHttpHeaders; body: string }>((resolve, reject) => {
      const stream = client.request({ ':method': method, ':path': path, ...headers });
      let text = '';
      let response: IncomingHttpHeaders = {};
      stream.setEncoding('utf8');
      stream.on('response', (received) => (response = received));
      stream.on('data', (chunk: string) => (text += chunk));
      stream.on('end', () => resolve({ status: Number(response[':status']), headers: response, body: text }));
      stream.on('error', reject);
      stream.end(body);
    });
  }

  const setCookies = (headers: IncomingHttpHeaders) => parseSetCookies([headers['set-cookie'] ?? []].flat());

  it('guards a route and rotates the cookies, without Secure on a local :authority', async () => {
    const valid = await emulator.createSession();
    const ok = await send('/protected', { cookie: cookieHeader({ [JWT_COOKIE]: valid.jwt }) });
    expect(ok.status).toBe(200);
    expect(JSON.parse(ok.body).userId).toBe(valid.userId);

    const expired = await emulator.createSession({ expired: true });
    const rotated = await send('/protected', {
      cookie: cookieHeader({ [JWT_COOKIE]: expired.jwt, [REFRESH_COOKIE]: expired.refreshToken.secret }),
    });
    expect(rotated.status).toBe(200);
    const cookies = setCookies(rotated.headers);
    expect(cookies[JWT_COOKIE].value).not.toBe(expired.jwt);
    expect(cookies[JWT_COOKIE].attributes.secure).toBeUndefined();
    expect(cookies[REFRESH_COOKIE].attributes.secure).toBeUndefined();
  });

  it('takes :authority as the host in the same-origin check of the refresh route', async () => {
    const session = await emulator.createSession();
    const headers = {
      'content-type': 'application/json',
      cookie: cookieHeader({ [REFRESH_COOKIE]: session.refreshToken.secret }),
    };
    const sameOrigin = await send('/api/auth/refresh', { ...headers, origin }, 'POST', '{}');
    expect(sameOrigin.status).toBe(200);
    expect(JSON.parse(sameOrigin.body).user.id).toBe(session.userId);

    const crossSite = await send('/api/auth/refresh', { ...headers, origin: 'http://127.0.0.1:1' }, 'POST', '{}');
    expect(crossSite.status).toBe(403);
    expect(crossSite.headers['set-cookie']).toBeUndefined();
  });
});
