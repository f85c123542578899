import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { CrossmintApi } from '../api/crossmint-api.js';
import { CROSSMINT_AUTH_OPTIONS } from '../crossmint-auth.constants.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type {
  CrossmintAuthHealth,
  CrossmintAuthHealthIndicatorResult,
} from '../interfaces/crossmint-auth-health.interface.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import { JwksKeyStore } from '../jwt/jwks-key-store.js';
import { CrossmintSessionRefresher } from '../session/crossmint-session.refresher.js';
import { loadOptionalPeer } from '../utils/optional-peer.js';

/** Refresh failures that are not the user's (a spent or revoked refresh token is): Crossmint's, the store's, ours. */
const UPSTREAM_FAILURES = new Set<string>([
  CrossmintAuthReason.ApiKeyRefused,
  CrossmintAuthReason.UpstreamUnavailable,
  CrossmintAuthReason.UpstreamTimeout,
  CrossmintAuthReason.UpstreamMalformed,
  CrossmintAuthReason.RefreshUnverifiable,
  CrossmintAuthReason.RefreshStoreFailed,
  CrossmintAuthReason.KeysUnavailable,
]);

/** The few members of terminus' `HealthIndicatorSession` used here (`degraded` is terminus 12's). */
interface TerminusSession {
  up(data: object): CrossmintAuthHealthIndicatorResult;
  down(data: object): CrossmintAuthHealthIndicatorResult;
  degraded?(data: object): CrossmintAuthHealthIndicatorResult;
}

interface TerminusModule {
  HealthIndicatorService: new () => { check(key: string): TerminusSession };
}

/**
 * A health indicator for `@nestjs/terminus` (an optional peer, loaded on the first check): the key set, the API
 * key, recent refreshes and the refresh store. `health.check([() => crossmint.isHealthy('crossmint')])`.
 */
@Injectable()
export class CrossmintAuthHealthIndicator {
  private terminus?: Promise<{ check(key: string): TerminusSession }>;

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    private readonly keys: JwksKeyStore,
    private readonly api: CrossmintApi,
    private readonly refresher: CrossmintSessionRefresher,
    private readonly moduleRef: ModuleRef,
  ) {}

  /** Terminus' result for `key`: `down` fails the check (503), `degraded` does not. */
  async isHealthy<Key extends string = 'crossmint'>(
    key: Key = 'crossmint' as Key,
  ): Promise<CrossmintAuthHealthIndicatorResult<Key>> {
    const health = await this.check();
    const session = (await (this.terminus ??= this.loadTerminus())).check(key);
    if (health.state === 'down') return session.down(health) as CrossmintAuthHealthIndicatorResult<Key>;
    if (health.state === 'degraded' && session.degraded)
      return session.degraded(health) as CrossmintAuthHealthIndicatorResult<Key>;
    return session.up(health) as CrossmintAuthHealthIndicatorResult<Key>;
  }

  /** The same report without terminus. */
  async check(): Promise<CrossmintAuthHealth> {
    const keys = this.keys.health();
    const outcomes = this.refresher.recentOutcomes();
    const failures = outcomes.filter((outcome) => UPSTREAM_FAILURES.has(outcome));
    const reachable = await this.options.refreshStore?.isReachable?.();
    const problems: string[] = [];
    if (this.api.apiKeyStatus === 'refused') problems.push(CrossmintAuthReason.ApiKeyRefused);
    if (!keys.usable && keys.lastError) problems.push(CrossmintAuthReason.KeysUnavailable);
    const down = problems.length > 0;
    if (keys.stale) problems.push('keys_stale');
    if (failures.length * 2 > outcomes.length) problems.push('refreshes_failing');
    if (reachable === false) problems.push('refresh_store_unreachable');
    return {
      state: down ? 'down' : problems.length > 0 ? 'degraded' : 'up',
      problems,
      keys: {
        ageSec: keys.ageMs === undefined ? undefined : Math.round(keys.ageMs / 1000),
        stale: keys.stale,
        lastError: keys.lastError,
      },
      apiKey: this.api.apiKeyStatus,
      refreshes: { recent: outcomes.length, failing: failures.length, lastFailure: failures.at(-1) },
      ...(reachable === undefined ? {} : { refreshStore: { reachable } }),
    };
  }

  /** Terminus' own `HealthIndicatorService` when its module is imported, else one of ours. */
  private async loadTerminus(): Promise<{ check(key: string): TerminusSession }> {
    const terminus = await loadOptionalPeer<TerminusModule>('@nestjs/terminus');
    if (!terminus?.HealthIndicatorService) {
      throw new Error('CrossmintAuthHealthIndicator.isHealthy needs @nestjs/terminus: install it, or call check()');
    }
    try {
      return this.moduleRef.get(terminus.HealthIndicatorService, { strict: false });
    } catch {
      return new terminus.HealthIndicatorService();
    }
  }
}
