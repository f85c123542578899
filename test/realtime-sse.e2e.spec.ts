import { afterEach, describe, expect, it } from '@jest/globals';
import { Controller, Sse, UseGuards, type MessageEvent } from '@nestjs/common';
import { decodeJwt } from 'jose';
import { defer, finalize, interval, map, type Observable } from 'rxjs';
import { CrossmintAuthGuard, CurrentUser } from '../lib/index.js';
import { JWT_COOKIE, REFRESH_COOKIE, sessionCookies } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { cookieHeader, parseSetCookies } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

/** Streams being served: an ended stream must not keep its source running. */
let liveStreams = 0;

@Controller()
class StreamController {
  @Sse('events')
  @UseGuards(CrossmintAuthGuard)
  events(@CurrentUser('userId') userId: string): Observable<MessageEvent> {
    return defer(() => {
      liveStreams++;
      return interval(50).pipe(
        map((tick) => ({ data: { userId, tick } })),
        finalize(() => liveStreams--),
      );
    });
  }
}

/** An SSE response read as a stream: its status and headers, then its events one by one, then its end. */
interface EventStream {
  status: number;
  headers: Headers;
  /** The next `data:` payload, parsed; undefined once the server ended the stream. */
  next(): Promise<any>;
  abort(): void;
}

async function openStream(url: string, headers: Record<string, string>): Promise<EventStream> {
  const controller = new AbortController();
  const res = await fetch(url, { headers, signal: controller.signal });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  return {
    status: res.status,
    headers: res.headers,
    async next() {
      for (;;) {
        const end = buffer.indexOf('\n\n');
        if (end !== -1) {
          const event = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (data !== undefined) return JSON.parse(data);
          continue;
        }
        const { done, value } = await reader.read();
        if (done) return undefined;
        buffer += decoder.decode(value, { stream: true });
      }
    },
    abort: () => controller.abort(),
  };
}

describe.each(PLATFORM_VARIANTS)('Crossmint auth on @Sse() streams ($name)', ({ platform, cookiePlugin }) => {
  const suite = useEmulatorApps({
    apps: (emulator) => {
      const app = (extra = {}) => ({
        moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000, ...extra },
        controllers: [StreamController],
        platform,
        cookiePlugin,
      });
      return { app: app(), lenient: app({ closeOnJwtExpiry: false }) };
    },
    logs: 'no-errors',
  });
  const streams: EventStream[] = [];
  const open = async (headers: Record<string, string>, app = suite.app) => {
    const stream = await openStream(`${app.url}/events`, headers);
    streams.push(stream);
    return stream;
  };
  afterEach(() => streams.splice(0).forEach((stream) => stream.abort()));

  it('streams to a valid cookie, with @CurrentUser', async () => {
    const session = await suite.emulator.createSession();
    const stream = await open({ cookie: cookieHeader({ [JWT_COOKIE]: session.jwt }) });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(stream.headers.getSetCookie()).toEqual([]);
    expect(await stream.next()).toEqual({ userId: session.userId, tick: 0 });
  });

  it('streams to a valid Bearer token', async () => {
    const session = await suite.emulator.createSession();
    const stream = await open({ authorization: `Bearer ${session.jwt}` });
    expect((await stream.next()).userId).toBe(session.userId);
  });

  it('refreshes before the stream starts and rotates both cookies on the SSE response', async () => {
    const session = await suite.emulator.createSession({ expired: true });
    const stream = await open({ cookie: cookieHeader(sessionCookies(session)) });
    expect(stream.status).toBe(200);
    expect(suite.emulator.calls('refresh')).toBe(1);
    const cookies = parseSetCookies(stream.headers.getSetCookie());
    expect(cookies[JWT_COOKIE].value).toMatch(/^ey/);
    expect(cookies[JWT_COOKIE].value).not.toBe(session.jwt);
    expect(cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
    expect(stream.headers.getSetCookie()).toHaveLength(2);
    expect((await stream.next()).userId).toBe(session.userId);
  });

  it('answers 401 before any stream without credentials, or with a forged token', async () => {
    const none = await open({});
    expect(none.status).toBe(401);
    expect(none.headers.get('content-type')).toMatch(/^application\/json/);
    const session = await suite.emulator.createSession();
    const forged = await suite.emulator.signJwt(decodeJwt(session.jwt), { key: 'foreign' });
    expect((await open({ authorization: `Bearer ${forged}` })).status).toBe(401);
    expect(suite.emulator.calls('refresh')).toBe(0);
  });

  it('ends the stream when the JWT expires, and stops its source', async () => {
    const session = await suite.emulator.createSession({ jwtTtlSec: 2 });
    const stream = await open({ cookie: cookieHeader({ [JWT_COOKIE]: session.jwt }) });
    expect((await stream.next()).userId).toBe(session.userId);
    let last: unknown;
    while ((last = await stream.next()) !== undefined);
    // Not before the JWT expired (timers and Date.now() may differ by a few ms).
    expect(Date.now()).toBeGreaterThanOrEqual(decodeJwt(session.jwt).exp! * 1000 - 50);
    expect(last).toBeUndefined();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(liveStreams).toBe(0);
  });

  it('keeps the stream past the JWT expiry with closeOnJwtExpiry: false', async () => {
    const session = await suite.emulator.createSession({ jwtTtlSec: 1 });
    const stream = await open({ cookie: cookieHeader({ [JWT_COOKIE]: session.jwt }) }, suite.lenient);
    const after = (decodeJwt(session.jwt).exp! + 0.3) * 1000;
    let event: { tick: number } | undefined;
    do event = await stream.next();
    while (event && Date.now() < after);
    expect(event).toBeDefined();
  });
});
