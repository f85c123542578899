import { Inject, Injectable, Logger } from '@nestjs/common';
import type { SerializeOptions } from 'cookie';
import { decodeJwt } from 'jose';
import { CROSSMINT_AUTH_OPTIONS, DEFAULT_JWT_COOKIE, DEFAULT_REFRESH_COOKIE } from '../crossmint-auth.constants.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintAuthMaterial } from '../interfaces/crossmint-session.interface.js';
import type { RequestLike, ResponseLike } from '../interfaces/http-message.interface.js';
import {
  headersSent,
  headerValue,
  isLocalPlainHttp,
  requestHeader,
  requestOf,
  setResponseCookies,
  setResponseHeader,
  type ResponseCookie,
} from '../platform/http-message.js';
import { isJwtCandidate, isRefreshSecret, type CrossmintCredentials } from '../crossmint-auth.credentials.js';
import { isPrefixedCookieName, projectScopedCookieNames } from './cookie-names.js';
import { readCookies } from './read-cookies.js';

/** The names of each auth cookie, in the order they are read (the first one a request carries wins). */
interface CookieNames {
  jwt: string[];
  refresh: string[];
}

/** Any Bearer header counts, malformed or not: a bad one must not fall back to the cookies. */
const BEARER = /^\s*Bearer(?:\s+(.*))?$/is;

/** Reads credentials from requests and writes or clears the auth cookies on responses. */
@Injectable()
export class CrossmintAuthCookies {
  private readonly logger = new Logger('CrossmintAuth');
  private readonly primary: CookieNames;
  /** Unprefixed names, read only when a request carries no prefixed auth cookie (`cookies.readUnprefixed`). */
  private readonly fallback?: CookieNames;
  /** Every name above, primary first, so that the Cookie header is read in a single pass. */
  private readonly readNames: string[];
  private warnedInsecure = false;
  private warnedHeadersSent = false;

  constructor(@Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions) {
    const { cookies, projectId } = options;
    const scoped = projectScopedCookieNames(projectId);
    if (isPrefixedCookieName(cookies.jwt)) {
      // A sibling subdomain or a plain-http page can plant unprefixed cookies: they never outrank prefixed ones.
      this.primary = { jwt: [cookies.jwt], refresh: [cookies.refreshToken] };
      if (cookies.readUnprefixed) {
        this.fallback = { jwt: [scoped.jwt, DEFAULT_JWT_COOKIE], refresh: [scoped.refresh, DEFAULT_REFRESH_COOKIE] };
      }
    } else {
      // Newer browser SDKs write project-scoped names; read those first, then the configured (legacy) ones.
      this.primary = {
        jwt: unique([scoped.jwt, cookies.jwt]),
        refresh: unique([scoped.refresh, cookies.refreshToken]),
      };
    }
    const fallbackNames = this.fallback ? [...this.fallback.jwt, ...this.fallback.refresh] : [];
    this.readNames = [...this.primary.jwt, ...this.primary.refresh, ...fallbackNames];
  }

  /** A Bearer token, when accepted and present, is the only credential looked at; otherwise the cookies. */
  readCredentials(request: RequestLike): CrossmintCredentials {
    const { headers } = request;
    if (this.options.acceptBearerToken) {
      const authorization = headerValue(headers, 'authorization');
      const match = authorization && BEARER.exec(authorization);
      if (match) return { jwt: match[1]?.trim() || undefined, source: 'bearer' };
    }
    return this.readAuthCookies(headerValue(headers, 'cookie'));
  }

  /** The credentials in the cookies, whatever the Authorization header says. */
  readCookieCredentials(request: RequestLike): CrossmintCredentials {
    return this.readAuthCookies(requestHeader(request, 'cookie'));
  }

  /**
   * Sets both auth cookies under the configured names, and under the project-scoped names the request carried:
   * those are read first, so left stale they would shadow the new material. Under `cookies.readUnprefixed`, the
   * unprefixed cookies the request carried are expired: the session has moved to the prefixed names. Earlier
   * auth Set-Cookie headers are replaced, everyone else's kept.
   */
  write(response: ResponseLike, material: CrossmintAuthMaterial, request = requestOf(response)): void {
    const { primary, fallback } = this.namesFor(request);
    const jwt = this.attributes(request, { maxAge: secondsUntilExpiry(material.jwt), httpOnly: false });
    const refresh = this.attributes(request, {
      expires: new Date(material.refreshToken.expiresAt),
      httpOnly: this.options.cookies.httpOnlyRefreshToken,
    });
    this.setCookies(response, [
      ...primary.jwt.map((name) => ({ name, value: material.jwt, options: jwt })),
      ...primary.refresh.map((name) => ({ name, value: material.refreshToken.secret, options: refresh })),
      ...this.expired(request, fallback),
    ]);
  }

  /**
   * Expires the auth cookies: the configured names and the other auth names the request carried. For credentials
   * read from unprefixed names (`cookies.readUnprefixed`), only those: they must not take prefixed cookies down.
   */
  clear(response: ResponseLike, credentials?: CrossmintCredentials, request = requestOf(response)): void {
    const { primary, fallback } = this.namesFor(request);
    const names = credentials?.unprefixed ? fallback : [...primary.jwt, ...primary.refresh, ...fallback];
    if (names.length > 0) this.setCookies(response, this.expired(request, names));
  }

  /** The JWT and the refresh secret from a `Cookie` header, decoded: for each, the first of its names the header carries. */
  private readAuthCookies(header: string | undefined): CrossmintCredentials {
    if (!header) return { source: 'cookie' };
    const values = readCookies(header, this.readNames);
    const jwtEnd = this.primary.jwt.length;
    const primaryEnd = jwtEnd + this.primary.refresh.length;
    if (!this.fallback || hasValue(values, 0, primaryEnd)) {
      return {
        jwt: pick(values, 0, jwtEnd, isJwtCandidate),
        refreshSecret: pick(values, jwtEnd, primaryEnd, isRefreshSecret),
        source: 'cookie',
      };
    }
    const fallbackJwtEnd = primaryEnd + this.fallback.jwt.length;
    return {
      jwt: pick(values, primaryEnd, fallbackJwtEnd, isJwtCandidate),
      refreshSecret: pick(values, fallbackJwtEnd, values.length, isRefreshSecret),
      source: 'cookie',
      unprefixed: hasValue(values, primaryEnd, values.length),
    };
  }

  /** The names to write: the configured ones plus the primary ones the request carried; and the unprefixed ones it carried. */
  private namesFor(request: RequestLike | undefined): { primary: CookieNames; fallback: string[] } {
    const header = request && requestHeader(request, 'cookie');
    const carried = (names: string[]) => {
      const values = header ? readCookies(header, names) : [];
      return names.filter((_, i) => values[i] !== undefined);
    };
    const { cookies } = this.options;
    return {
      primary: {
        jwt: unique([cookies.jwt, ...carried(this.primary.jwt)]),
        refresh: unique([cookies.refreshToken, ...carried(this.primary.refresh)]),
      },
      fallback: this.fallback ? carried([...this.fallback.jwt, ...this.fallback.refresh]) : [],
    };
  }

  private expired(request: RequestLike | undefined, names: string[]): ResponseCookie[] {
    const options = this.attributes(request, { expires: new Date(0), maxAge: 0 });
    return names.map((name) => ({ name, value: '', options }));
  }

  private attributes(request: RequestLike | undefined, extra: SerializeOptions): SerializeOptions {
    const { domain, path, secure, sameSite } = this.options.cookies;
    return { domain, path, sameSite, secure: secure === 'auto' ? this.autoSecure(request) : secure, ...extra };
  }

  /** `secure: 'auto'`: `Secure` unless the request is plain http to a loopback host and nothing says https. */
  private autoSecure(request: RequestLike | undefined): boolean {
    if (!isLocalPlainHttp(request)) return true;
    if (!this.warnedInsecure && process.env.NODE_ENV === 'production') {
      this.warnedInsecure = true;
      this.logger.warn(
        "Auth cookies written without Secure (cookies.secure: 'auto'): the request was plain http to a loopback host " +
          'with no X-Forwarded-Proto or Forwarded header. Behind a TLS proxy, have it send X-Forwarded-Proto, or set cookies.secure: true',
      );
    }
    return false;
  }

  /** A refresh after the response went out (a stream, say) spent the old refresh token: say so, once. */
  private warnHeadersSent(): void {
    if (this.warnedHeadersSent) return;
    this.warnedHeadersSent = true;
    this.logger.warn(
      'Auth cookies could not be written: the response headers were already sent. Resolve the session before streaming',
    );
  }

  private setCookies(response: ResponseLike, cookies: ResponseCookie[]): void {
    if (headersSent(response)) return this.warnHeadersSent();
    setResponseCookies(response, cookies);
    setResponseHeader(response, 'Cache-Control', 'private, no-store');
  }
}

/** True when one of `values[from, to)` is non-empty. */
function hasValue(values: Array<string | undefined>, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (values[i]) return true;
  return false;
}

/** The first non-empty of `values[from, to)`, decoded; undefined when it is not `usable`. */
function pick(
  values: Array<string | undefined>,
  from: number,
  to: number,
  usable: (value: string) => boolean,
): string | undefined {
  for (let i = from; i < to; i++) {
    const encoded = values[i];
    if (encoded) {
      const value = decode(encoded);
      return usable(value) ? value : undefined;
    }
  }
  return undefined;
}

/**
 * The JWT cookie lives as long as the JWT, as the browser SDK stores it: Max-Age up to the JWT's `exp`, counted
 * on the server's clock rather than the browser's. A JWT without a readable `exp` gets a session cookie.
 */
function secondsUntilExpiry(jwt: string): number | undefined {
  let exp: unknown;
  try {
    exp = decodeJwt(jwt).exp;
  } catch {
    return undefined;
  }
  return typeof exp === 'number' && Number.isFinite(exp) ? Math.max(0, Math.ceil(exp - Date.now() / 1000)) : undefined;
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
