import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import { CrossmintApi } from '../api/crossmint-api.js';
import {
  CROSSMINT_AUTH_OPTIONS,
  REFRESH_AUDIENCE_WARN_AFTER,
  REFRESH_HEALTH_WINDOW,
} from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintRefreshStore } from '../interfaces/crossmint-refresh-store.interface.js';
import type { CrossmintRefreshResult, RefreshedCrossmintSession } from '../interfaces/crossmint-session.interface.js';
import { CrossmintJwtVerifier } from '../jwt/crossmint-jwt-verifier.js';
import { audienceOf } from '../jwt/jwt-refusal.js';
import {
  CrossmintAuthTelemetry,
  reasonOf,
  type TelemetryOutcome,
  type TelemetrySpan,
} from '../telemetry/crossmint-auth.telemetry.js';
import { InMemoryRefreshStore } from '../refresh-store/in-memory-refresh-store.js';
import { deriveRefreshSecretHashKey, hashRefreshSecret } from '../refresh-store/refresh-secret-hash.js';
import { isRefreshSecret } from '../crossmint-auth.credentials.js';
import { refreshedSession } from './sessions.js';

/**
 * Who answered a refresh: `leader` called Crossmint; `follower` joined a refresh in flight in this process; `shared`
 * got the result the refresh store kept from another request (its grace window, or another instance's refresh).
 */
export type RefreshRole = 'leader' | 'follower' | 'shared';

/**
 * Refreshes and revokes sessions. Refresh tokens are good for one refresh, so every request carrying the same
 * secret shares one upstream call (single-flight here, in this process) and its result (the `refreshStore`: this
 * process by default, every instance with a shared store). A secret is named by an HMAC under a key derived from
 * the API key, computed once per refresh and handed to the store.
 */
@Injectable()
export class CrossmintSessionRefresher {
  private readonly logger = new Logger('CrossmintAuth');
  private readonly inFlight = new Map<string, Promise<RefreshedCrossmintSession>>();
  private readonly store: CrossmintRefreshStore;
  private readonly hashKey: Buffer;
  /** The outcomes of the last refreshes that called Crossmint or the store, oldest first (followers not counted). */
  private readonly outcomes: TelemetryOutcome[] = [];
  private audienceFailures = 0;

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly api: CrossmintApi,
    private readonly verifier: CrossmintJwtVerifier,
    @Optional() readonly telemetry: CrossmintAuthTelemetry = new CrossmintAuthTelemetry(options),
  ) {
    this.store =
      options.refreshStore ??
      new InMemoryRefreshStore({ resultTtlMs: options.refreshResultTtlMs, maxSize: options.refreshResultCacheSize });
    // Every instance shares the API key, so a shared store names secrets alike everywhere with nothing to configure.
    this.hashKey = deriveRefreshSecretHashKey(options.apiKey);
    this.store.setSecretHashKey?.(this.hashKey);
  }

  /** New material for a refresh secret: validated, one upstream call however many callers, verified before use. */
  refresh(secret: string): Promise<RefreshedCrossmintSession> {
    if (!isRefreshSecret(secret))
      return Promise.reject(
        new CrossmintAuthenticationError('Authentication required', CrossmintAuthReason.MalformedCredentials),
      );
    const id = hashRefreshSecret(secret, this.hashKey);
    const joined = this.inFlight.get(id);
    if (joined) return this.observe('follower', () => joined);
    const pending = this.observe('shared', (role) =>
      this.store
        .run(secret, () => ((role.is = 'leader'), this.api.refresh(secret)), id)
        .then((result) => this.unlessRevoked(secret, id, result))
        .then((result) => this.accept(result), storeFailure(this.logger)),
    ).finally(() => this.inFlight.delete(id));
    this.inFlight.set(id, pending);
    return pending;
  }

  /** The outcomes of the last refreshes (up to REFRESH_HEALTH_WINDOW), oldest first: `success` or a reason. */
  recentOutcomes(): readonly TelemetryOutcome[] {
    return this.outcomes;
  }

  /** A refresh in a span, its role and outcome counted; `run` may change the role once it knows it. */
  private async observe<T>(initial: RefreshRole, run: (role: { is: RefreshRole }) => Promise<T>): Promise<T> {
    const role = { is: initial };
    let outcome: TelemetryOutcome = 'success';
    try {
      return await this.telemetry.span('crossmint_auth.refresh', 'internal', {}, (span: TelemetrySpan) =>
        run(role).finally(() => span.set('crossmint_auth.refresh.role', role.is)),
      );
    } catch (error) {
      outcome = reasonOf(error);
      throw error;
    } finally {
      this.telemetry.refresh(role.is, outcome);
      if (role.is !== 'follower') {
        this.outcomes.push(outcome);
        if (this.outcomes.length > REFRESH_HEALTH_WINDOW) this.outcomes.shift();
      }
    }
  }

  /**
   * Logout: ends the grace window of `secret` and revokes it at Crossmint, with the refresh token its grace result
   * handed out, if any. Throws `CrossmintServiceUnavailableError` when Crossmint could not be told.
   */
  async revoke(secret: string): Promise<void> {
    const id = hashRefreshSecret(secret, this.hashKey);
    let next: string | undefined;
    try {
      next = await this.store.revoke?.(secret, id);
    } catch (error) {
      // The secret is still revoked at Crossmint; only the grace window runs its course.
      this.logger.warn(`Refresh store failed to end a grace window: ${(error as Error)?.name ?? 'unknown error'}`);
    }
    await Promise.all(
      [secret, next].filter((value): value is string => !!value).map((value) => this.api.logout(value)),
    );
  }

  /** A logout that landed while this refresh was in flight wins: the new refresh token is revoked in turn. */
  private async unlessRevoked(
    secret: string,
    id: string,
    result: CrossmintRefreshResult,
  ): Promise<CrossmintRefreshResult> {
    if (!(await this.store.isRevoked?.(secret, id))) return result;
    await this.api.logout(result.refreshToken.secret).catch(() => undefined);
    throw new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.SessionRevoked);
  }

  /** Every instance verifies refreshed material itself, also when another instance shared it. */
  private async accept(result: CrossmintRefreshResult): Promise<RefreshedCrossmintSession> {
    let claims;
    try {
      claims = await this.verifier.verify(result.jwt);
    } catch (error) {
      if (!(error instanceof CrossmintAuthenticationError)) throw error;
      this.logger.warn(`Crossmint refresh answered a JWT that does not verify: ${error.reason}`);
      this.noteAudienceFailure(error.reason, result.jwt);
      throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshUnverifiable);
    }
    this.audienceFailures = 0;
    if (claims.sub !== result.user.id) {
      this.logger.warn('Crossmint refresh answered a JWT for another user than its user field');
      throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshUnverifiable);
    }
    return refreshedSession(result, claims);
  }

  /** Refreshed JWTs that keep failing on `aud` are a configuration mistake, not an outage: said once, loudly. */
  private noteAudienceFailure(reason: CrossmintAuthReason, jwt: string): void {
    if (reason !== CrossmintAuthReason.WrongAudience) return void (this.audienceFailures = 0);
    if (++this.audienceFailures !== REFRESH_AUDIENCE_WARN_AFTER) return;
    this.logger.warn(
      `Crossmint's refreshed JWTs keep failing on aud: expected "${this.options.projectId}", got ${audienceOf(jwt)}. ` +
        'The projectId option and the API key belong to different projects: a configuration mistake, not an ' +
        'outage. Every refresh answers 503 until it is fixed',
    );
  }
}

/** The module's errors pass; a store that fails in its own way (a custom one, a client bug) is an outage, not a 500. */
function storeFailure(logger: Logger): (error: unknown) => never {
  return (error) => {
    if (error instanceof CrossmintAuthenticationError || error instanceof CrossmintServiceUnavailableError) throw error;
    logger.warn(`Refresh store failed: ${(error as Error)?.name ?? 'unknown error'}`);
    throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshStoreFailed);
  };
}
