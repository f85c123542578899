import { Injectable, Logger, Optional } from '@nestjs/common';
import { CrossmintAuthCookies } from '../cookies/crossmint-auth-cookies.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { CrossmintSession, RefreshedCrossmintSession } from '../interfaces/crossmint-session.interface.js';
import type { RequestLike, ResponseLike } from '../interfaces/http-message.interface.js';
import { CrossmintJwtVerifier } from '../jwt/crossmint-jwt-verifier.js';
import { setResponseHeader } from '../platform/http-message.js';
import { CrossmintAuthTelemetry, reasonOf } from '../telemetry/crossmint-auth.telemetry.js';
import type { CrossmintCredentials } from '../crossmint-auth.credentials.js';
import { CrossmintSessionRefresher } from './crossmint-session.refresher.js';
import { verifiedSession } from './sessions.js';

/**
 * Who asks for a session, which decides what a failure and a missing response mean:
 * - `guard`: a session or an error; no refresh without a response to write the rotated cookies on;
 * - `interceptor`: a session or nothing, never an error; no refresh without a response either;
 * - `caller` (`getSession`, the refresh route): a session or an error; refreshes even without a response, and the
 *   caller stores the new material;
 * - `socket` (a WebSocket, a graphql-ws subscription): a session or an error; never refreshes, by design: the
 *   client refreshes over HTTP, then reconnects.
 */
export type SessionDoor = 'guard' | 'interceptor' | 'caller' | 'socket';

/** The request and response a session is resolved for; either may be missing (explicit tokens, a GraphQL context). */
export interface HttpPair {
  request?: RequestLike;
  response?: ResponseLike;
}

/**
 * The one place where the session rules are decided; the guard, the interceptor, `getSession` and the routes are
 * doors into it. A request's session, top to bottom: read the credentials, take a JWT verified before, else verify
 * it, else refresh, then write the cookies (or clear them, or set `Retry-After`).
 */
@Injectable()
export class CrossmintSessionResolver {
  private readonly logger = new Logger('CrossmintAuth');
  private warnedNoResponse = false;

  constructor(
    private readonly cookies: CrossmintAuthCookies,
    private readonly verifier: CrossmintJwtVerifier,
    private readonly refresher: CrossmintSessionRefresher,
    @Optional() private readonly telemetry: CrossmintAuthTelemetry = refresher.telemetry,
  ) {}

  /**
   * The session of a request (its cookies, or its Bearer token). A session whose JWT was verified before comes
   * back as is, not in a promise: that keeps the guard and the interceptor synchronous for a signed-in user.
   */
  resolveRequest(
    request: RequestLike,
    response: ResponseLike | undefined,
    door: 'interceptor',
  ): CrossmintSession | undefined | Promise<CrossmintSession | undefined>;
  resolveRequest(
    request: RequestLike,
    response?: ResponseLike,
    door?: 'guard' | 'caller' | 'socket',
  ): CrossmintSession | Promise<CrossmintSession>;
  resolveRequest(request: RequestLike, response?: ResponseLike, door: SessionDoor = 'guard') {
    const credentials = this.cookies.readCredentials(request);
    if (door === 'interceptor' && !credentials.jwt && !credentials.refreshSecret) return undefined;
    // The pair is built only on a miss: the hit path allocates nothing but the session.
    return this.fromCache(credentials) ?? this.settle(credentials, { request, response }, door);
  }

  /** @deprecated Use `resolveRequest(request, response, 'interceptor')`; to be removed in 0.3. */
  resolveOptionalRequest(request: RequestLike, response?: ResponseLike) {
    return this.resolveRequest(request, response, 'interceptor');
  }

  resolveCredentials(
    credentials: CrossmintCredentials,
    http: HttpPair,
    door: 'interceptor',
  ): CrossmintSession | Promise<CrossmintSession | undefined>;
  resolveCredentials(
    credentials: CrossmintCredentials,
    http: HttpPair,
    door: 'guard' | 'caller' | 'socket',
  ): CrossmintSession | Promise<CrossmintSession>;
  resolveCredentials(credentials: CrossmintCredentials, http: HttpPair, door: SessionDoor) {
    return this.fromCache(credentials) ?? this.settle(credentials, http, door);
  }

  /** The session of a JWT verified before: no I/O, no await. */
  private fromCache({ jwt, refreshSecret }: CrossmintCredentials): CrossmintSession | undefined {
    if (!jwt) return undefined;
    const claims = this.verifier.cached(jwt);
    // Plain counters, read by an observable metric: a hit never calls into OpenTelemetry.
    if (!claims) {
      this.telemetry.cacheMisses++;
      return undefined;
    }
    this.telemetry.cacheHits++;
    return verifiedSession(jwt, claims, refreshSecret);
  }

  private async settle(
    credentials: CrossmintCredentials,
    http: HttpPair,
    door: SessionDoor,
  ): Promise<CrossmintSession | undefined> {
    try {
      const session = await this.resolve(credentials, door, door === 'caller' || http.response !== undefined);
      if (session.refreshed && http.response)
        this.cookies.write(http.response, session as RefreshedCrossmintSession, http.request);
      return session;
    } catch (error) {
      const reason = reasonOf(error);
      this.logger.debug(`No session (${door}): ${reason}`);
      this.telemetry.authenticationFailure(reason, door);
      if (http.response) this.applyFailure(error, credentials, http, door);
      if (door === 'interceptor' && isSessionError(error)) return undefined;
      throw error;
    }
  }

  /**
   * The session for credentials whose JWT is not in the cache. Throws `CrossmintAuthenticationError` or
   * `CrossmintServiceUnavailableError`. Not `refreshable` when nobody could store rotated material: refreshing
   * would spend the one-time refresh token for nothing and log the user out, so that is a 401 instead.
   */
  private async resolve(
    { jwt, refreshSecret, source }: CrossmintCredentials,
    door: SessionDoor,
    refreshable: boolean,
  ): Promise<CrossmintSession> {
    let failure = new CrossmintAuthenticationError('Authentication required', CrossmintAuthReason.NoCredentials);
    if (jwt) {
      try {
        return verifiedSession(jwt, await this.verifier.verifyUncached(jwt), refreshSecret);
      } catch (error) {
        if (!(error instanceof CrossmintAuthenticationError)) throw error;
        failure = error;
      }
    }
    // A Bearer token stands alone: an invalid one is not rescued by whatever cookies came along.
    if (!refreshSecret || source === 'bearer' || door === 'socket') throw failure;
    if (!refreshable) {
      this.warnNoResponse();
      throw failure;
    }
    return this.refresher.refresh(refreshSecret);
  }

  /** A definitive failure clears the cookies it came from; an outage sets `Retry-After` (not for the interceptor). */
  private applyFailure(
    error: unknown,
    credentials: CrossmintCredentials,
    { request, response }: HttpPair,
    door: SessionDoor,
  ): void {
    if (error instanceof CrossmintAuthenticationError) {
      if (credentials.source === 'cookie' && (credentials.jwt || credentials.refreshSecret))
        this.cookies.clear(response!, credentials, request);
    } else if (error instanceof CrossmintServiceUnavailableError && door !== 'interceptor') {
      setResponseHeader(response!, 'Retry-After', String(error.retryAfterSec));
    }
  }

  private warnNoResponse(): void {
    if (this.warnedNoResponse) return;
    this.warnedNoResponse = true;
    this.logger.warn(
      'A session needed a refresh, but the execution context has no response to write the rotated cookies on: ' +
        'answered 401 without spending the refresh token. For GraphQL, put the response in the context, ' +
        'e.g. `context: ({ req, res }) => ({ req, res })`.',
    );
  }
}

function isSessionError(error: unknown): boolean {
  return error instanceof CrossmintAuthenticationError || error instanceof CrossmintServiceUnavailableError;
}
