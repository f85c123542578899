import { Injectable, Logger } from '@nestjs/common';
import { CrossmintApi, type CrossmintApiKeyStatus } from './api/crossmint-api.js';
import { CrossmintAuthCookies } from './cookies/crossmint-auth-cookies.js';
import { CrossmintServiceUnavailableError } from './crossmint-auth.errors.js';
import type {
  CrossmintAuthMaterial,
  CrossmintJwtPayload,
  CrossmintSession,
  CrossmintTokens,
  CrossmintUser,
  RefreshedCrossmintSession,
} from './interfaces/crossmint-session.interface.js';
import type { RequestLike, ResponseLike } from './interfaces/http-message.interface.js';
import { CrossmintJwtVerifier } from './jwt/crossmint-jwt-verifier.js';
import { explicitCredentials } from './crossmint-auth.credentials.js';
import { CrossmintSessionRefresher } from './session/crossmint-session.refresher.js';
import { CrossmintSessionResolver } from './session/crossmint-session.resolver.js';

/** Everything Crossmint's server SDK does, for use in controllers, resolvers and other providers. */
@Injectable()
export class CrossmintAuthService {
  private readonly logger = new Logger('CrossmintAuth');

  constructor(
    private readonly sessions: CrossmintSessionResolver,
    private readonly refresher: CrossmintSessionRefresher,
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
    if (isRequest(input)) return this.sessions.resolveRequest(input, response, 'caller');
    return this.sessions.resolveCredentials(explicitCredentials(input), { response }, 'caller');
  }

  /**
   * `'refused'` while Crossmint refuses the API key, `'accepted'` once it took it, `'unknown'` before: asked when
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
  refresh(refreshSecret: string): Promise<RefreshedCrossmintSession> {
    return this.refresher.refresh(refreshSecret);
  }

  /**
   * Revokes the request's refresh token at Crossmint (and the one its recent refresh handed out) and clears the
   * cookies. A Crossmint outage does not stop the cookies being cleared.
   */
  async logout(request?: RequestLike, response?: ResponseLike): Promise<void> {
    const secret = request && this.cookies.readCookieCredentials(request).refreshSecret;
    if (response) this.cookies.clear(response, undefined, request);
    if (!secret) return;
    try {
      await this.refresher.revoke(secret);
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

function isRequest(input: RequestLike | CrossmintTokens): input is RequestLike {
  return typeof (input as RequestLike)?.headers === 'object' && (input as RequestLike).headers !== null;
}
