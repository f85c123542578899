import { Injectable, Logger } from '@nestjs/common';
import { isJwtCandidate, isRefreshCandidate } from './cookies/credential-checks.js';
import { CrossmintAuthCookies, type CrossmintAuthMaterial, type CrossmintCredentials } from './cookies/crossmint-auth-cookies.js';
import type { RequestLike, ResponseLike } from './cookies/http-message.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from './crossmint-auth.errors.js';
import { CrossmintApi, type CrossmintApiKeyStatus, type CrossmintUser } from './http/crossmint-api.js';
import { CrossmintJwtVerifier, type CrossmintJwtPayload } from './jwt/crossmint-jwt-verifier.js';
import type { CrossmintSession, RefreshedCrossmintSession } from './session/crossmint-session.js';
import { CrossmintSessionResolver } from './session/crossmint-session.resolver.js';

export interface CrossmintTokens {
  jwt?: string;
  refreshToken?: string;
}

/** Everything Crossmint's server SDK does, for use in controllers, resolvers and other providers. */
@Injectable()
export class CrossmintAuthService {
  private readonly logger = new Logger('CrossmintAuth');

  constructor(
    private readonly sessions: CrossmintSessionResolver,
    private readonly verifier: CrossmintJwtVerifier,
    private readonly api: CrossmintApi,
    private readonly cookies: CrossmintAuthCookies,
  ) {}

  /**
   * The session of a request (its cookies or Bearer token) or of explicit tokens. Refreshes when the JWT is
   * missing or invalid; with a response, writes rotated cookies on it (and clears them when the session is
   * definitively invalid). Without a response, a refreshed session (`refreshed: true`) carries the new JWT and
   * refresh token, and the caller must store them (`storeAuthMaterial`): the old refresh token is spent.
   * Throws `CrossmintAuthenticationError` or `CrossmintServiceUnavailableError`.
   */
  getSession(request: RequestLike, response?: ResponseLike): Promise<CrossmintSession>;
  getSession(tokens: CrossmintTokens, response?: ResponseLike): Promise<CrossmintSession>;
  async getSession(input: RequestLike | CrossmintTokens, response?: ResponseLike): Promise<CrossmintSession> {
    if (isRequest(input)) return this.sessions.resolveCredentials(this.cookies.readCredentials(input), response);
    return this.sessions.resolveCredentials(explicitCredentials(input), response);
  }

  /**
   * `'refused'` while Crossmint refuses the API key, `'accepted'` once it took it, `'unknown'` before: checked when
   * Crossmint refuses a refresh. For health checks: while refused, refreshes answer 503 and keep the cookies.
   */
  get apiKeyStatus(): CrossmintApiKeyStatus {
    return this.api.apiKeyStatus;
  }

  /** The Crossmint user profile. */
  getUser(userId: string): Promise<CrossmintUser> {
    return this.api.getUser(userId);
  }

  /** The verified payload of a Crossmint JWT; `CrossmintAuthenticationError` when it does not verify. */
  verifyCrossmintJwt(token: string): Promise<CrossmintJwtPayload> {
    return this.verifier.verify(token);
  }

  /** Exchanges a refresh secret for new auth material (one upstream call per secret, however many callers). */
  async refresh(refreshSecret: string): Promise<RefreshedCrossmintSession> {
    if (!isRefreshCandidate(refreshSecret)) throw new CrossmintAuthenticationError('Authentication required');
    return this.sessions.refresh(refreshSecret);
  }

  /** Revokes the request's refresh token at Crossmint and clears the cookies. A Crossmint outage does not stop the cookies being cleared. */
  async logout(request?: RequestLike, response?: ResponseLike): Promise<void> {
    const secret = request && this.cookies.readRefreshToken(request);
    if (response) this.cookies.clear(response);
    if (!secret) return;
    try {
      await this.sessions.revoke(secret);
    } catch (error) {
      if (!(error instanceof CrossmintServiceUnavailableError)) throw error;
      this.logger.warn('Could not revoke the refresh token at Crossmint; cookies were cleared');
    }
  }

  storeAuthMaterial(response: ResponseLike, material: CrossmintAuthMaterial): void {
    this.cookies.write(response, material);
  }

  clearAuthMaterial(response: ResponseLike): void {
    this.cookies.clear(response);
  }
}

/** Explicit tokens get the checks cookies get: anything else is no credential, never a TypeError or an upstream call. */
function explicitCredentials(tokens: CrossmintTokens): CrossmintCredentials {
  if (typeof tokens !== 'object' || tokens === null) throw new CrossmintAuthenticationError('Authentication required');
  const jwt = tokens.jwt === '' ? undefined : tokens.jwt;
  const refreshToken = tokens.refreshToken === '' ? undefined : tokens.refreshToken;
  if ((jwt !== undefined && !isJwtCandidate(jwt)) || (refreshToken !== undefined && !isRefreshCandidate(refreshToken))) {
    throw new CrossmintAuthenticationError('Invalid or expired token');
  }
  return { jwt, refreshToken, source: 'explicit' };
}

function isRequest(input: RequestLike | CrossmintTokens): input is RequestLike {
  return typeof (input as RequestLike)?.headers === 'object' && (input as RequestLike).headers !== null;
}
