import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { REDIS_REFRESH_STORE_DEFAULTS as DEFAULTS } from '../crossmint-auth.constants.js';
import {
  CrossmintAuthenticationError,
  CrossmintAuthOptionsError,
  CrossmintServiceUnavailableError,
} from '../crossmint-auth.errors.js';
import { spanEvent } from '../telemetry/crossmint-auth.telemetry.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { CrossmintRefreshStore } from '../interfaces/crossmint-refresh-store.interface.js';
import type { CrossmintRefreshResult } from '../interfaces/crossmint-session.interface.js';
import type { RedisRefreshStoreClient } from '../interfaces/redis-refresh-store-client.interface.js';
import { RecentRefreshes, REFUSED } from './recent-refreshes.js';
import { openRefreshOutcome, sealRefreshOutcome, type RefreshOutcome } from './refresh-outcome-cipher.js';
import { hashRefreshSecret } from './refresh-secret-hash.js';

export interface RedisRefreshStoreOptions {
  /** Prefix of every key the store writes. Default `crossmint-auth:refresh:`. */
  keyPrefix?: string;
  /** How long a shared result, or the refusal of the secret (by Crossmint, or at logout), stays in Redis, in ms. Default 10 s. */
  resultTtlMs?: number;
  /**
   * How long a Crossmint outage met by the elected refresher is shared, in ms: requests waiting on it, and
   * new ones meanwhile, answer 503 instead of calling Crossmint again. Keep it above `pollIntervalMs`. Default 1 s.
   */
  unavailableTtlMs?: number;
  /**
   * How long an instance holds the election for a secret, in ms. Must outlast one refresh call (the module's
   * `timeoutMs`); if the instance dies mid-refresh, another one takes over after this. Default 10 s.
   */
  lockTtlMs?: number;
  /** How long a request waits for another instance's result before answering 503, in ms. Default 15 s. */
  waitTimeoutMs?: number;
  /** How often a waiting request reads the shared result, in ms. Default 25. */
  pollIntervalMs?: number;
  /** A Redis command slower than this counts as Redis being unreachable, in ms. Default 1000. */
  commandTimeoutMs?: number;
  /** Bound of the in-process cache of results and refusals this instance has seen (each kept for `resultTtlMs`). Default 10,000. */
  localCacheSize?: number;
}

const LOCK_PREFIX = 'lock:';
const DOWN_STATES = new Set(['reconnecting', 'close', 'end']);
const ELECTED = Symbol('elected');
/** Elected once the lock of another holder vanished (expired or evicted): that holder may have consumed the secret. */
const TOOK_OVER = Symbol('took over');

class RedisUnavailableError extends Error {}

/**
 * Coordinates refreshes across every instance that shares a Redis: one instance is elected per consumed
 * secret (`SET key NX PX`), refreshes at Crossmint, and shares the outcome for `resultTtlMs`; the others
 * poll until it appears. A refresh token Crossmint refused is shared too (the others answer 401 without
 * calling Crossmint), and so is a Crossmint outage, briefly (the others answer 503). A logout on any instance
 * ends the grace window of the secrets it names on every instance.
 *
 * Nothing stored is usable by someone who reads Redis: keys are an HMAC of the consumed secret under a key
 * derived from the module's API key, and outcomes are encrypted with a key derived from that secret (see
 * `sealRefreshOutcome`). Each instance verifies a shared JWT again before it becomes a session.
 *
 * When Redis is unreachable the store logs a warning and refreshes within this instance, as without a
 * store; a request that was already waiting on another instance's refresh answers 503 instead, since
 * calling Crossmint with a secret that instance may have consumed would log the user out.
 */
export class RedisRefreshStore implements CrossmintRefreshStore {
  private readonly logger = new Logger('CrossmintAuth');
  private readonly local: RecentRefreshes;
  private readonly keyPrefix: string;
  private readonly resultTtlMs: number;
  private readonly unavailableTtlMs: number;
  private readonly lockTtlMs: number;
  private readonly waitTimeoutMs: number;
  private readonly pollIntervalMs: number;
  private readonly commandTimeoutMs: number;
  private redisDown = false;
  private hashKey: Buffer | undefined;

  constructor(
    private readonly redis: RedisRefreshStoreClient,
    options: RedisRefreshStoreOptions = {},
  ) {
    if (typeof redis?.get !== 'function' || typeof redis?.set !== 'function') {
      throw new CrossmintAuthOptionsError(
        'RedisRefreshStore: the first argument must be a Redis client (an ioredis instance).',
        'redis',
      );
    }
    if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
      throw new CrossmintAuthOptionsError('RedisRefreshStore: option `keyPrefix` must be a string.', 'keyPrefix');
    }
    this.keyPrefix = options.keyPrefix ?? DEFAULTS.keyPrefix;
    this.resultTtlMs = positive('resultTtlMs', options.resultTtlMs, DEFAULTS.resultTtlMs);
    this.unavailableTtlMs = positive('unavailableTtlMs', options.unavailableTtlMs, DEFAULTS.unavailableTtlMs);
    this.lockTtlMs = positive('lockTtlMs', options.lockTtlMs, DEFAULTS.lockTtlMs);
    this.waitTimeoutMs = positive('waitTimeoutMs', options.waitTimeoutMs, DEFAULTS.waitTimeoutMs);
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, DEFAULTS.pollIntervalMs);
    this.commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, DEFAULTS.commandTimeoutMs);
    const localCacheSize = options.localCacheSize ?? DEFAULTS.localCacheSize;
    if (!Number.isInteger(localCacheSize) || localCacheSize < 0) {
      throw new CrossmintAuthOptionsError(
        'RedisRefreshStore: option `localCacheSize` must be a whole number >= 0.',
        'localCacheSize',
      );
    }
    // In front of Redis: refusals cost no Redis round, and results seen here outlive a Redis outage.
    this.local = new RecentRefreshes(this.resultTtlMs, localCacheSize);
  }

  /** Called by the module with a key derived from its API key: every instance names a secret alike. */
  setSecretHashKey(key: Buffer): void {
    if (this.hashKey && !this.hashKey.equals(key)) {
      throw new CrossmintAuthOptionsError(
        'RedisRefreshStore: one store cannot serve modules with different API keys.',
        'refreshStore',
      );
    }
    this.hashKey = key;
    this.local.useHashKey(key);
  }

  async run(
    secret: string,
    refresh: () => Promise<CrossmintRefreshResult>,
    id = this.keyHash(secret),
  ): Promise<CrossmintRefreshResult> {
    const recent = this.local.get(id);
    if (recent === REFUSED)
      throw new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.RefreshRefused);
    try {
      if (recent) {
        await this.assertNotRevoked([id, this.keyHash(recent.refreshToken.secret)]);
        return recent;
      }
      const result = await this.runShared(secret, id, refresh);
      this.local.remember(id, result);
      return result;
    } catch (error) {
      if (error instanceof CrossmintAuthenticationError) this.local.refuse(id);
      throw error;
    }
  }

  /**
   * Ends the grace window of `secret` here and in Redis, under a key of its own that no refresh outcome
   * overwrites: every instance checks it before it hands out a result, and the module once a refresh completes.
   */
  async revoke(secret: string, id = this.keyHash(secret)): Promise<string | undefined> {
    let next = this.local.revoke(id);
    try {
      const current = await this.command(() => this.redis.get(this.keyPrefix + id));
      const outcome = current === null ? undefined : this.outcomeIn(secret, id, current);
      if (outcome?.ok) next ??= outcome.result.refreshToken.secret;
      await this.command(() => this.redis.set(this.revokedKey(id), '1', 'PX', this.resultTtlMs + this.lockTtlMs));
    } catch {
      // Redis is unreachable (logged): other instances hand out what they hold until it expires.
    }
    return next;
  }

  async isRevoked(secret: string, id = this.keyHash(secret)): Promise<boolean> {
    if (this.local.isRefused(id)) return true;
    return this.command(() => this.redis.get(this.revokedKey(id))).then(
      (value) => value !== null,
      () => false,
    );
  }

  /** Whether Redis answers a command within `commandTimeoutMs`. */
  async isReachable(): Promise<boolean> {
    try {
      await this.command(() => this.redis.get(this.keyPrefix + 'health'));
      return true;
    } catch {
      return false;
    }
  }

  private async runShared(
    secret: string,
    keyHash: string,
    refresh: () => Promise<CrossmintRefreshResult>,
  ): Promise<CrossmintRefreshResult> {
    const key = this.keyPrefix + keyHash;
    const lock = LOCK_PREFIX + randomBytes(12).toString('base64url');
    let shared: string | typeof ELECTED | typeof TOOK_OVER;
    try {
      shared = await this.electOrWait(key, keyHash, lock);
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      election('redis_unavailable');
      // Refresh here. If Redis is only slow, a timed-out `SET NX` of ours may still land: sharing the
      // outcome (after it, on the same connection) keeps other instances from waiting on a lock nobody holds.
      return this.refreshAndShare(secret, keyHash, key, lock, refresh, false);
    }
    election(shared === ELECTED ? 'elected' : shared === TOOK_OVER ? 'took_over' : 'shared');
    if (shared === ELECTED || shared === TOOK_OVER)
      return this.refreshAndShare(secret, keyHash, key, lock, refresh, shared === TOOK_OVER);
    const result = this.open(secret, keyHash, shared);
    await this.assertNotRevoked([keyHash, this.keyHash(result.refreshToken.secret)]);
    return result;
  }

  /**
   * `ELECTED` when this request is to refresh, `TOOK_OVER` when it is to refresh a secret another holder may have
   * consumed (it waited on one, or an earlier attempt's marker outlived the lock: an evicted key, a failover),
   * else the sealed outcome another instance shared.
   */
  private async electOrWait(
    key: string,
    keyHash: string,
    lock: string,
  ): Promise<string | typeof ELECTED | typeof TOOK_OVER> {
    const deadline = Date.now() + this.waitTimeoutMs;
    let value: string | null = null;
    let contended = false;
    try {
      for (;;) {
        if (value === null) {
          if ((await this.command(() => this.redis.set(key, lock, 'PX', this.lockTtlMs, 'NX'))) === 'OK') {
            if (contended) return TOOK_OVER;
            const first = await this.command(() =>
              this.redis.set(this.attemptKey(keyHash), '1', 'PX', this.lockTtlMs, 'NX'),
            );
            return first === 'OK' ? ELECTED : TOOK_OVER;
          }
          contended = true;
        }
        value = await this.command(() => this.redis.get(key));
        if (value !== null && !value.startsWith(LOCK_PREFIX)) return value;
        if (Date.now() >= deadline) {
          this.logger.warn('Gave up waiting for another instance to refresh a session');
          throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshStoreFailed);
        }
        // null: the holder's lock just expired without an outcome; try to take over at once.
        if (value !== null) await sleep(this.pollIntervalMs);
      }
    } catch (error) {
      // Another instance holds (or held) this secret: calling Crossmint with it here could log the user out.
      if (error instanceof RedisUnavailableError && contended)
        throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshStoreFailed);
      throw error;
    }
  }

  private async refreshAndShare(
    secret: string,
    keyHash: string,
    key: string,
    lock: string,
    refresh: () => Promise<CrossmintRefreshResult>,
    tookOver: boolean,
  ): Promise<CrossmintRefreshResult> {
    let result: CrossmintRefreshResult;
    try {
      result = await refresh();
    } catch (error) {
      // After taking over, a refusal may only mean that the previous holder consumed the secret (and its
      // request got the new session): answer as an outage, which keeps the cookies, rather than log the user out.
      const maybeConsumed = tookOver && error instanceof CrossmintAuthenticationError;
      if (maybeConsumed)
        this.logger.warn('Crossmint refused a refresh taken over from a vanished election; answering 503');
      const failure: RefreshOutcome =
        error instanceof CrossmintAuthenticationError && !maybeConsumed
          ? { ok: false, error: 'unauthorized' }
          : {
              ok: false,
              error: 'unavailable',
              retryAfterSec: error instanceof CrossmintServiceUnavailableError ? error.retryAfterSec : undefined,
            };
      const ttl = failure.error === 'unauthorized' ? this.resultTtlMs : this.unavailableTtlMs;
      await this.shareFailure(key, lock, sealRefreshOutcome(secret, keyHash, failure), ttl);
      throw maybeConsumed
        ? new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshStoreFailed)
        : error;
    }
    const sealed = sealRefreshOutcome(secret, keyHash, { ok: true, result });
    // A success always wins, even over a lock taken after ours expired: the secret is consumed either way.
    await this.command(() => this.redis.set(key, sealed, 'PX', this.resultTtlMs)).catch(() => undefined);
    return result;
  }

  /** A failure replaces only our own lock (or nothing): never another instance's outcome. */
  private async shareFailure(key: string, lock: string, sealed: string, ttlMs: number): Promise<void> {
    try {
      const current = await this.command(() => this.redis.get(key));
      if (current === null || current === lock) await this.command(() => this.redis.set(key, sealed, 'PX', ttlMs));
    } catch {
      // Already logged; the others time out or take over when the lock expires.
    }
  }

  /** A result must not outlive a logout on another instance: refuses when any of these ids was revoked. */
  private async assertNotRevoked(ids: string[]): Promise<void> {
    let values: Array<string | null>;
    try {
      values = await Promise.all(ids.map((id) => this.command(() => this.redis.get(this.revokedKey(id)))));
    } catch {
      return; // Redis is unreachable: what this instance knows is all there is.
    }
    if (values.some((value) => value !== null))
      throw new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.SessionRevoked);
  }

  private revokedKey(id: string): string {
    return `${this.keyPrefix}revoked:${id}`;
  }

  /** Marks that a refresh of this secret was attempted: outlives an evicted lock, for as long as a lock would have lived. */
  private attemptKey(id: string): string {
    return `${this.keyPrefix}attempt:${id}`;
  }

  /** The outcome sealed in `value`; undefined for a lock, or a value that does not open. */
  private outcomeIn(secret: string, keyHash: string, value: string): RefreshOutcome | undefined {
    if (value.startsWith(LOCK_PREFIX)) return undefined;
    try {
      return openRefreshOutcome(secret, keyHash, value);
    } catch {
      return undefined;
    }
  }

  private keyHash(secret: string): string {
    if (!this.hashKey)
      throw new Error('RedisRefreshStore: pass it to CrossmintAuthModule as `refreshStore`, which gives it its key.');
    return hashRefreshSecret(secret, this.hashKey);
  }

  private open(secret: string, keyHash: string, sealed: string): CrossmintRefreshResult {
    let outcome: RefreshOutcome;
    try {
      outcome = openRefreshOutcome(secret, keyHash, sealed);
    } catch {
      this.logger.warn('A shared refresh result in Redis could not be decrypted; answering 503');
      throw new CrossmintServiceUnavailableError(undefined, undefined, CrossmintAuthReason.RefreshStoreFailed);
    }
    if (outcome.ok) return outcome.result;
    if (outcome.error === 'unauthorized')
      throw new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.RefreshRefused);
    throw new CrossmintServiceUnavailableError(undefined, outcome.retryAfterSec);
  }

  /** One Redis command, bounded by `commandTimeoutMs`; any failure becomes `RedisUnavailableError`. */
  private async command<T>(send: () => Promise<T>): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    try {
      if (this.redis.status !== undefined && DOWN_STATES.has(this.redis.status)) {
        throw new RedisUnavailableError(`connection ${this.redis.status}`);
      }
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new RedisUnavailableError('command timed out')), this.commandTimeoutMs);
      });
      const reply = await Promise.race([send(), timeout]);
      if (this.redisDown) {
        this.redisDown = false;
        this.logger.log('Redis is reachable again; refreshes are coordinated across instances');
      }
      return reply;
    } catch (error) {
      if (!this.redisDown) {
        this.redisDown = true;
        this.logger.warn(
          `Redis is unreachable (${reason(error)}); refreshes are coordinated within this instance only until it is back`,
        );
      }
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError(reason(error));
    } finally {
      clearTimeout(timer);
    }
  }
}

/** How this instance's Redis election for a refresh ended, on the refresh's span. */
function election(result: 'elected' | 'took_over' | 'shared' | 'redis_unavailable'): void {
  spanEvent('crossmint_auth.redis.election', { 'crossmint_auth.redis.result': result });
}

function positive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new CrossmintAuthOptionsError(`RedisRefreshStore: option \`${option}\` must be a finite number > 0.`, option);
  }
  return value;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 200);
}
