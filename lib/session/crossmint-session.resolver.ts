import { Injectable, Logger } from '@nestjs/common';
import { CrossmintAuthCookies, type CrossmintCredentials } from '../cookies/crossmint-auth-cookies.js';
import { setResponseHeader, type RequestLike, type ResponseLike } from '../cookies/http-message.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintApi } from '../http/crossmint-api.js';
import { CrossmintJwtVerifier, type CrossmintJwtPayload } from '../jwt/crossmint-jwt-verifier.js';
import type { CrossmintRefreshResult } from '../refresh-store/crossmint-refresh-store.interface.js';
import type { CrossmintSession, RefreshedCrossmintSession } from './crossmint-session.js';
import { RefreshCoordinator } from './refresh-coordinator.js';

/**
 * The one place where the session rules are decided; the guard, the interceptor and `getSession` are doors into it.
 * A request's session: extract credentials, verify the JWT, refresh when it is not valid, write the cookies.
 */
@Injectable()
export class CrossmintSessionResolver {
  private readonly logger = new Logger('CrossmintAuth');
  private warnedNoResponse = false;

  constructor(
    private readonly cookies: CrossmintAuthCookies,
    private readonly verifier: CrossmintJwtVerifier,
    private readonly api: CrossmintApi,
    private readonly coordinator: RefreshCoordinator,
  ) {}

  /**
   * The session of an HTTP request, for the guard. With a response, rotated cookies are written on it, cookies
   * are cleared when the session is definitively invalid, and `Retry-After` is set when Crossmint is unavailable.
   * Without one there is no refresh (see `resolve`). A session whose JWT was verified before comes back as is,
   * not in a promise.
   */
  resolveRequest(request: RequestLike, response?: ResponseLike): CrossmintSession | Promise<CrossmintSession> {
    const credentials = this.cookies.readCredentials(request);
    return this.fromCache(credentials) ?? this.settle(credentials, response, response !== undefined);
  }

  /** The session for credentials; refreshes also without a response, and the caller then stores the new material. */
  resolveCredentials(credentials: CrossmintCredentials, response?: ResponseLike): Promise<CrossmintSession> {
    return this.settle(credentials, response, true);
  }

  /** Like `resolveRequest`, for optional authentication: `undefined` instead of an error, no `Retry-After`. */
  resolveOptionalRequest(request: RequestLike, response?: ResponseLike): CrossmintSession | undefined | Promise<CrossmintSession | undefined> {
    const credentials = this.cookies.readCredentials(request);
    if (!credentials.jwt && !credentials.refreshToken) return undefined;
    return this.fromCache(credentials) ?? this.resolveOptionalCredentials(credentials, response);
  }

  private async settle(credentials: CrossmintCredentials, response: ResponseLike | undefined, refreshable: boolean): Promise<CrossmintSession> {
    try {
      return this.storeRefreshed(await this.resolve(credentials, refreshable), response);
    } catch (error) {
      if (response) this.applyFailure(error, credentials, response);
      throw error;
    }
  }

  private async resolveOptionalCredentials(credentials: CrossmintCredentials, response?: ResponseLike): Promise<CrossmintSession | undefined> {
    try {
      return this.storeRefreshed(await this.resolve(credentials, response !== undefined), response);
    } catch (error) {
      if (error instanceof CrossmintServiceUnavailableError) return undefined;
      if (!(error instanceof CrossmintAuthenticationError)) throw error;
      if (response) this.applyFailure(error, credentials, response);
      return undefined;
    }
  }

  /**
   * The session for credentials. Throws `CrossmintAuthenticationError` or `CrossmintServiceUnavailableError`.
   * Not `refreshable` when nobody can store rotated material (a guard with no response): refreshing would spend
   * the one-time refresh token for nothing and log the user out, so that is a 401 instead.
   */
  private async resolve({ jwt, refreshToken, source }: CrossmintCredentials, refreshable: boolean): Promise<CrossmintSession> {
    if (jwt) {
      try {
        return verifiedSession(jwt, await this.verifier.verify(jwt), refreshToken);
      } catch (error) {
        if (!(error instanceof CrossmintAuthenticationError)) throw error;
      }
    }
    // A Bearer token stands alone: an invalid one is not rescued by whatever cookies came along.
    if (!refreshToken || source === 'bearer') {
      throw new CrossmintAuthenticationError(jwt ? 'Invalid or expired token' : 'Authentication required');
    }
    if (!refreshable) {
      this.warnNoResponse();
      throw new CrossmintAuthenticationError(jwt ? 'Invalid or expired token' : 'Authentication required');
    }
    return this.refresh(refreshToken);
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

  /**
   * The session when its JWT was verified before: answered without an await, which keeps the guard and the
   * interceptor synchronous for the requests of a signed-in user.
   */
  private fromCache({ jwt, refreshToken }: CrossmintCredentials): CrossmintSession | undefined {
    const claims = jwt && this.verifier.cached(jwt);
    return claims ? verifiedSession(jwt, claims, refreshToken) : undefined;
  }

  /** One upstream refresh per refresh secret, however many requests (or instances) carry it; the new JWT is verified before use. */
  refresh(secret: string): Promise<RefreshedCrossmintSession> {
    return this.coordinator.run(
      secret,
      async () => {
        const answer = await this.api.refresh(secret);
        return { jwt: answer.jwt, refreshToken: answer.refresh, user: answer.user };
      },
      (result) => this.toRefreshedSession(result),
    );
  }

  /**
   * Revokes a refresh secret at Crossmint (logout), ends its grace window, and revokes the secret its grace
   * result held, if any: no refresh token a logged-out browser held stays live. Throws
   * `CrossmintServiceUnavailableError` when Crossmint could not be told.
   */
  async revoke(secret: string): Promise<void> {
    const next = await this.coordinator.endGrace(secret);
    await Promise.all([secret, next].filter((s): s is string => !!s).map((s) => this.api.logout(s)));
  }

  /** Every instance verifies refreshed material itself, also when another instance shared it. */
  private async toRefreshedSession({ jwt, refreshToken, user }: CrossmintRefreshResult): Promise<RefreshedCrossmintSession> {
    let claims;
    try {
      claims = await this.verifier.verify(jwt);
    } catch (error) {
      if (error instanceof CrossmintAuthenticationError) {
        this.logger.warn('Crossmint refresh answered a JWT that does not verify');
        throw new CrossmintServiceUnavailableError();
      }
      throw error;
    }
    if (claims.sub !== user.id) {
      this.logger.warn('Crossmint refresh answered a JWT for another user than its user field');
      throw new CrossmintServiceUnavailableError();
    }
    return { jwt, refreshToken, userId: claims.sub, claims, user, refreshed: true };
  }

  private storeRefreshed(session: CrossmintSession, response?: ResponseLike): CrossmintSession {
    if (session.refreshed && response) this.cookies.write(response, session as RefreshedCrossmintSession);
    return session;
  }

  private applyFailure(error: unknown, credentials: CrossmintCredentials, response: ResponseLike): void {
    if (error instanceof CrossmintAuthenticationError) {
      if (credentials.source === 'cookie' && (credentials.jwt || credentials.refreshToken)) this.cookies.clear(response, credentials);
    } else if (error instanceof CrossmintServiceUnavailableError) {
      setResponseHeader(response, 'Retry-After', String(error.retryAfterSec));
    }
  }
}

function verifiedSession(jwt: string, claims: CrossmintJwtPayload, refreshToken: string | undefined): CrossmintSession {
  return { jwt, claims, userId: claims.sub, refreshToken: refreshToken ? { secret: refreshToken } : undefined, refreshed: false };
}
