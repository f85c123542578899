import { Inject, Injectable } from '@nestjs/common';
import type { SerializeOptions } from 'cookie';
import { CROSSMINT_AUTH_OPTIONS, DEFAULT_JWT_COOKIE, DEFAULT_REFRESH_COOKIE, MAX_REFRESH_SECRET_LENGTH } from '../crossmint-auth.constants.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import type { CrossmintRefreshToken } from '../http/crossmint-api.js';
import { MAX_JWT_LENGTH } from '../jwt/crossmint-jwt-verifier.js';
import {
  headerValue,
  isLocalPlainHttp,
  requestHeader,
  requestOf,
  setResponseCookies,
  setResponseHeader,
  type RequestLike,
  type ResponseCookie,
  type ResponseLike,
} from './http-message.js';
import { readCookies } from './read-cookies.js';

/** The credentials a request carries. `source` decides what a failure may touch: only cookies get cleared. */
export interface CrossmintCredentials {
  jwt?: string;
  refreshToken?: string;
  source: 'cookie' | 'bearer' | 'explicit';
}

export interface CrossmintAuthMaterial {
  jwt: string;
  refreshToken: CrossmintRefreshToken;
}

/** Any Bearer header counts, malformed or not: a bad one must not fall back to the cookies. */
const BEARER = /^\s*Bearer(?:\s+(.*))?$/is;

/** Reads credentials from requests and writes or clears the auth cookies on responses. */
@Injectable()
export class CrossmintAuthCookies {
  private readonly jwtNames: string[];
  private readonly refreshNames: string[];
  /** Both lists in one, so that the Cookie header is read in a single pass. */
  private readonly authNames: string[];

  constructor(@Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions) {
    const { cookies, projectId } = options;
    // Newer browser SDKs write project-scoped names; read those first, then the configured (legacy) ones.
    this.jwtNames = unique([`${DEFAULT_JWT_COOKIE}-${projectId}`, cookies.jwt]);
    this.refreshNames = unique([`${DEFAULT_REFRESH_COOKIE}-${projectId}`, cookies.refreshToken]);
    this.authNames = [...this.jwtNames, ...this.refreshNames];
  }

  /** A Bearer token, when accepted and present, is the only credential looked at; otherwise the cookies. */
  readCredentials(request: RequestLike): CrossmintCredentials {
    const { headers } = request;
    if (this.options.acceptBearerToken) {
      const authorization = headerValue(headers, 'authorization');
      const match = authorization && BEARER.exec(authorization);
      if (match) return { jwt: match[1]?.trim() || undefined, source: 'bearer' };
    }
    const [jwt, refreshToken] = this.readAuthCookies(headerValue(headers, 'cookie'));
    return { jwt, refreshToken, source: 'cookie' };
  }

  /** The refresh secret from the cookies, whatever the Authorization header says. */
  readRefreshToken(request: RequestLike): string | undefined {
    return this.readAuthCookies(requestHeader(request, 'cookie'))[1];
  }

  /**
   * Sets both auth cookies under the configured names, and under the project-scoped names the request carried:
   * those are read first, so left stale they would shadow the new material. Earlier auth Set-Cookie headers are
   * replaced, everyone else's kept.
   */
  write(response: ResponseLike, material: CrossmintAuthMaterial): void {
    const request = requestOf(response);
    const { cookies } = this.options;
    const expires = new Date(material.refreshToken.expiresAt);
    const { jwtNames, refreshNames } = this.namesToWrite(request);
    const jwt = this.attributes(request, { expires, httpOnly: false });
    const refresh = this.attributes(request, { expires, httpOnly: cookies.httpOnlyRefreshToken });
    this.setCookies(response, [
      ...jwtNames.map((name) => ({ name, value: material.jwt, options: jwt })),
      ...refreshNames.map((name) => ({ name, value: material.refreshToken.secret, options: refresh })),
    ]);
  }

  /** Expires the auth cookies: the configured names and any project-scoped ones the request carried. */
  clear(response: ResponseLike): void {
    const request = requestOf(response);
    const { jwtNames, refreshNames } = this.namesToWrite(request);
    const expired = this.attributes(request, { expires: new Date(0), maxAge: 0 });
    this.setCookies(response, [...jwtNames, ...refreshNames].map((name) => ({ name, value: '', options: expired })));
  }

  /** The JWT and the refresh secret from a `Cookie` header, decoded: for each, the first of its names the header carries. */
  private readAuthCookies(header: string | undefined): [string | undefined, string | undefined] {
    if (!header) return [undefined, undefined];
    const values = readCookies(header, this.authNames);
    const jwtCount = this.jwtNames.length;
    return [pick(values, 0, jwtCount, isJwtCandidate), pick(values, jwtCount, values.length, isRefreshCandidate)];
  }

  /** The configured names, plus the project-scoped ones the request carried. */
  private namesToWrite(request: RequestLike | undefined): { jwtNames: string[]; refreshNames: string[] } {
    const header = request && requestHeader(request, 'cookie');
    const carried = (names: string[]) => {
      const values = header ? readCookies(header, names) : [];
      return names.filter((_, i) => values[i] !== undefined);
    };
    return {
      jwtNames: unique([this.options.cookies.jwt, ...carried(this.jwtNames)]),
      refreshNames: unique([this.options.cookies.refreshToken, ...carried(this.refreshNames)]),
    };
  }

  private attributes(request: RequestLike | undefined, extra: SerializeOptions): SerializeOptions {
    const { domain, path, secure, sameSite } = this.options.cookies;
    return {
      domain,
      path,
      sameSite,
      secure: secure === 'auto' ? !isLocalPlainHttp(request) : secure,
      ...extra,
    };
  }

  private setCookies(response: ResponseLike, cookies: ResponseCookie[]): void {
    setResponseCookies(response, cookies);
    setResponseHeader(response, 'Cache-Control', 'private, no-store');
  }
}

/** The first non-empty of `values[from, to)`, decoded; undefined when it is not `usable`. */
function pick(values: Array<string | undefined>, from: number, to: number, usable: (value: string) => boolean): string | undefined {
  for (let i = from; i < to; i++) {
    const encoded = values[i];
    if (encoded) {
      const value = decode(encoded);
      return usable(value) ? value : undefined;
    }
  }
  return undefined;
}

/** Only the length: the verifier checks the format, and only after a miss in its cache of verified tokens. */
function isJwtCandidate(value: string): boolean {
  return value.length <= MAX_JWT_LENGTH;
}

function isRefreshCandidate(value: string): boolean {
  return value.length <= MAX_REFRESH_SECRET_LENGTH && !/[\s;,]/.test(value);
}

/** How the `cookie` package decodes a value: URI-decoded when it can be, as is otherwise. */
function decode(value: string): string {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
