import { serialize, type SerializeOptions } from 'cookie';
import type { RequestLike, ResponseLike } from '../interfaces/http-message.interface.js';

// Reading requests and writing responses the same way on Express, Fastify and bare Node. Fastify's reply
// keeps its own header list, so it is written through its API.

interface FastifyReplyLike extends ResponseLike {
  raw: { headersSent?: boolean };
  header(name: string, value: unknown): unknown;
  removeHeader(name: string): unknown;
  request?: RequestLike;
  /** Present when @fastify/cookie is registered. */
  setCookie?(name: string, value: string, options: Record<string, unknown>): unknown;
}

export interface ResponseCookie {
  name: string;
  value: string;
  options: SerializeOptions;
}

interface NodeResponseLike extends ResponseLike {
  setHeader(name: string, value: string | string[]): unknown;
  headersSent?: boolean;
  req?: RequestLike;
}

function isFastifyReply(response: ResponseLike): response is FastifyReplyLike {
  const { raw, header } = response as Partial<FastifyReplyLike>;
  return typeof raw === 'object' && raw !== null && typeof header === 'function';
}

export function requestHeader(request: RequestLike, name: string): string | undefined {
  return headerValue(request.headers, name);
}

/** A header from a request's `headers`, for callers that read several: on Express, each `request.headers` costs. */
export function headerValue(headers: RequestLike['headers'] | undefined, name: string): string | undefined {
  const value = headers?.[name];
  if (typeof value === 'string') return value;
  // Anything else than a string or Node's array of strings is no header (an object passed as a request, say).
  return Array.isArray(value) && value.every((item) => typeof item === 'string') ? value.join('; ') : undefined;
}

export function requestOf(response: ResponseLike): RequestLike | undefined {
  return isFastifyReply(response) ? response.request : (response as NodeResponseLike).req;
}

export function headersSent(response: ResponseLike): boolean {
  return Boolean(isFastifyReply(response) ? response.raw.headersSent : (response as NodeResponseLike).headersSent);
}

/** The request's host; HTTP/2 carries it as `:authority`. */
export function requestHost(request: RequestLike): string | undefined {
  return requestHeader(request, 'host') ?? requestHeader(request, ':authority');
}

export function setResponseHeader(response: ResponseLike, name: string, value: string | string[]): void {
  if (headersSent(response)) return;
  if (isFastifyReply(response)) {
    response.removeHeader(name);
    response.header(name, value);
  } else {
    (response as NodeResponseLike).setHeader(name, value);
  }
}

/** Responses that stream (`@Sse()`): written straight to the Node response, they never run Fastify's onSend hooks. */
const streams = new WeakSet<ResponseLike>();

/**
 * Marks a response as a stream, before anything is written on it: @fastify/cookie appends its cookies in an onSend
 * hook, which a stream never runs, so a stream's cookies go in the header list, where the stream's headers come from.
 */
export function markStreamResponse(response: ResponseLike): void {
  streams.add(response);
}

/**
 * Sets cookies, replacing earlier Set-Cookie headers of the same names and keeping everyone else's.
 * @fastify/cookie keeps `reply.setCookie` cookies aside and appends them in an onSend hook, after the header
 * list, so with it registered the cookies go through `setCookie` too: one entry per name, the last write wins.
 */
export function setResponseCookies(response: ResponseLike, cookies: ResponseCookie[]): void {
  if (headersSent(response)) return;
  const names = new Set(cookies.map((cookie) => cookie.name));
  const others = responseSetCookies(response).filter(
    (cookie) => !names.has(cookie.slice(0, cookie.indexOf('=')).trim()),
  );
  if (isFastifyReply(response) && typeof response.setCookie === 'function' && !streams.has(response)) {
    response.removeHeader('set-cookie');
    if (others.length > 0) response.header('set-cookie', others);
    for (const { name, value, options } of cookies)
      response.setCookie(name, value, { ...FASTIFY_COOKIE_DEFAULTS_OFF, ...options });
  } else {
    setResponseHeader(response, 'Set-Cookie', [
      ...others,
      ...cookies.map(({ name, value, options }) => serialize(name, value, options)),
    ]);
  }
}

/** @fastify/cookie merges its `parseOptions` into every cookie; none of them may change an auth cookie (e.g. `signed`). */
const FASTIFY_COOKIE_DEFAULTS_OFF = {
  domain: undefined,
  path: undefined,
  expires: undefined,
  maxAge: undefined,
  httpOnly: false,
  secure: false,
  partitioned: false,
  priority: undefined,
  signed: false,
  encode: undefined,
};

function responseSetCookies(response: ResponseLike): string[] {
  const value = response.getHeader('set-cookie');
  if (value === undefined || value === null) return [];
  return Array.isArray(value) ? value.map(String) : [String(value)];
}

/**
 * Plain http to a loopback host, with no sign of a proxy: the one case where `secure: 'auto'` leaves `Secure`
 * off. A TLS proxy in front (nginx's `proxy_pass http://localhost:3000`) forwards a loopback `Host` over plain
 * http; its `X-Forwarded-*` or `Forwarded` header gives it away even where the app does not trust it.
 */
export function isLocalPlainHttp(request: RequestLike | undefined): boolean {
  if (!request) return false;
  const encrypted = (request.socket as { encrypted?: boolean } | null | undefined)?.encrypted;
  const protocol = typeof request.protocol === 'string' ? request.protocol : encrypted ? 'https' : 'http';
  if (protocol !== 'http' || encrypted || isForwarded(request.headers)) return false;
  const host = (requestHost(request) ?? '').toLowerCase().replace(/:\d+$/, '');
  return host === 'localhost' || host.endsWith('.localhost') || host === '127.0.0.1' || host === '[::1]';
}

function isForwarded(headers: RequestLike['headers']): boolean {
  for (const name in headers) {
    if (name === 'forwarded' || name.startsWith('x-forwarded-')) return true;
  }
  return false;
}
