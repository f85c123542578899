import { Logger } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import type { CrossmintRefreshResult, CrossmintRefreshStore } from './crossmint-refresh-store.interface.js';
import { RecentRefreshes, REFUSED } from './recent-refreshes.js';
import { openRefreshOutcome, sealRefreshOutcome, type RefreshOutcome } from './refresh-outcome-cipher.js';
import type { RedisRefreshStoreClient } from './redis-refresh-store-client.interface.js';
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
      throw new Error('RedisRefreshStore: the first argument must be a Redis client (an ioredis instance).');
    }
    if (options.keyPrefix !== undefined && typeof options.keyPrefix !== 'string') {
      throw new Error('RedisRefreshStore: option `keyPrefix` must be a string.');
    }
    this.keyPrefix = options.keyPrefix ?? 'crossmint-auth:refresh:';
    this.resultTtlMs = positive('resultTtlMs', options.resultTtlMs, 10_000);
    this.unavailableTtlMs = positive('unavailableTtlMs', options.unavailableTtlMs, 1_000);
    this.lockTtlMs = positive('lockTtlMs', options.lockTtlMs, 10_000);
    this.waitTimeoutMs = positive('waitTimeoutMs', options.waitTimeoutMs, 15_000);
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs, 25);
    this.commandTimeoutMs = positive('commandTimeoutMs', options.commandTimeoutMs, 1_000);
    const localCacheSize = options.localCacheSize ?? 10_000;
    if (!Number.isInteger(localCacheSize) || localCacheSize < 0) {
      throw new Error('RedisRefreshStore: option `localCacheSize` must be a whole number >= 0.');
    }
    // In front of Redis: refusals cost no Redis round, and results seen here outlive a Redis outage.
    this.local = new RecentRefreshes(this.resultTtlMs, localCacheSize);
  }

  /** Called by the module with a key derived from its API key: every instance names a secret alike. */
  setSecretHashKey(key: Buffer): void {
    if (this.hashKey && !this.hashKey.equals(key)) {
      throw new Error('RedisRefreshStore: one store cannot serve modules with different API keys.');
    }
    this.hashKey = key;
  }

  async run(secret: string, refresh: () => Promise<CrossmintRefreshResult>): Promise<CrossmintRefreshResult> {
    const recent = this.local.get(secret);
    if (recent === REFUSED) throw new CrossmintAuthenticationError('Session expired or revoked');
    try {
      if (recent) {
        await this.assertNotRevoked([secret, recent.refreshToken.secret]);
        return recent;
      }
      const result = await this.runShared(secret, refresh);
      this.local.remember(secret, result);
      return result;
    } catch (error) {
      if (error instanceof CrossmintAuthenticationError) this.local.refuse(secret);
      throw error;
    }
  }

  /**
   * Ends the grace window of `secret` here and in Redis: its result is dropped and the secret refused for
   * `resultTtlMs`. Every instance checks Redis before it hands out a result, so the logout holds on all of them.
   */
  async revoke(secret: string): Promise<string | undefined> {
    let next = this.local.revoke(secret);
    const keyHash = this.keyHash(secret);
    const key = this.keyPrefix + keyHash;
    try {
      const current = await this.command(() => this.redis.get(key));
      const outcome = current === null ? undefined : this.outcomeIn(secret, keyHash, current);
      if (outcome?.ok) next ??= outcome.result.refreshToken.secret;
      const refusal = sealRefreshOutcome(secret, keyHash, { ok: false, error: 'unauthorized' });
      await this.command(() => this.redis.set(key, refusal, 'PX', this.resultTtlMs));
    } catch {
      // Redis is unreachable (logged): other instances hand out what they hold until it expires.
    }
    return next;
  }

  private async runShared(secret: string, refresh: () => Promise<CrossmintRefreshResult>): Promise<CrossmintRefreshResult> {
    const keyHash = this.keyHash(secret);
    const key = this.keyPrefix + keyHash;
    const lock = LOCK_PREFIX + randomBytes(12).toString('base64url');
    let shared: string | typeof ELECTED | typeof TOOK_OVER;
    try {
      shared = await this.electOrWait(key, lock);
    } catch (error) {
      if (!(error instanceof RedisUnavailableError)) throw error;
      // Refresh here. If Redis is only slow, a timed-out `SET NX` of ours may still land: sharing the
      // outcome (after it, on the same connection) keeps other instances from waiting on a lock nobody holds.
      return this.refreshAndShare(secret, keyHash, key, lock, refresh, false);
    }
    if (shared === ELECTED || shared === TOOK_OVER) return this.refreshAndShare(secret, keyHash, key, lock, refresh, shared === TOOK_OVER);
    const result = this.open(secret, keyHash, shared);
    await this.assertNotRevoked([result.refreshToken.secret]);
    return result;
  }

  /**
   * `ELECTED` (or `TOOK_OVER`, after waiting on another holder) when this request is to refresh, else the
   * sealed outcome another instance shared.
   */
  private async electOrWait(key: string, lock: string): Promise<string | typeof ELECTED | typeof TOOK_OVER> {
    const deadline = Date.now() + this.waitTimeoutMs;
    let value: string | null = null;
    let contended = false;
    try {
      for (;;) {
        if (value === null) {
          if ((await this.command(() => this.redis.set(key, lock, 'PX', this.lockTtlMs, 'NX'))) === 'OK') return contended ? TOOK_OVER : ELECTED;
          contended = true;
        }
        value = await this.command(() => this.redis.get(key));
        if (value !== null && !value.startsWith(LOCK_PREFIX)) return value;
        if (Date.now() >= deadline) {
          this.logger.warn('Gave up waiting for another instance to refresh a session');
          throw new CrossmintServiceUnavailableError();
        }
        // null: the holder's lock just expired without an outcome; try to take over at once.
        if (value !== null) await sleep(this.pollIntervalMs);
      }
    } catch (error) {
      // Another instance holds (or held) this secret: calling Crossmint with it here could log the user out.
      if (error instanceof RedisUnavailableError && contended) throw new CrossmintServiceUnavailableError();
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
      if (maybeConsumed) this.logger.warn('Crossmint refused a refresh taken over from a vanished election; answering 503');
      const failure: RefreshOutcome =
        error instanceof CrossmintAuthenticationError && !maybeConsumed
          ? { ok: false, error: 'unauthorized' }
          : { ok: false, error: 'unavailable', retryAfterSec: error instanceof CrossmintServiceUnavailableError ? error.retryAfterSec : undefined };
      const ttl = failure.error === 'unauthorized' ? this.resultTtlMs : this.unavailableTtlMs;
      await this.shareFailure(key, lock, sealRefreshOutcome(secret, keyHash, failure), ttl);
      throw maybeConsumed ? new CrossmintServiceUnavailableError() : error;
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

  /**
   * A grace result must not outlive a logout on another instance: refuses when Redis holds a refusal for any
   * of `secrets` (the consumed secret, or the refresh secret its result hands out). With Redis unreachable,
   * what this instance knows is all there is.
   */
  private async assertNotRevoked(secrets: string[]): Promise<void> {
    const keyHashes = secrets.map((secret) => this.keyHash(secret));
    let values: Array<string | null>;
    try {
      values = await Promise.all(keyHashes.map((keyHash) => this.command(() => this.redis.get(this.keyPrefix + keyHash))));
    } catch {
      return;
    }
    const refused = values.some((value, i) => {
      const outcome = value === null ? undefined : this.outcomeIn(secrets[i], keyHashes[i], value);
      return outcome?.ok === false && outcome.error === 'unauthorized';
    });
    if (refused) throw new CrossmintAuthenticationError('Session expired or revoked');
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
    if (!this.hashKey) throw new Error('RedisRefreshStore: pass it to CrossmintAuthModule as `refreshStore`, which gives it its key.');
    return hashRefreshSecret(secret, this.hashKey);
  }

  private open(secret: string, keyHash: string, sealed: string): CrossmintRefreshResult {
    let outcome: RefreshOutcome;
    try {
      outcome = openRefreshOutcome(secret, keyHash, sealed);
    } catch {
      this.logger.warn('A shared refresh result in Redis could not be decrypted; answering 503');
      throw new CrossmintServiceUnavailableError();
    }
    if (outcome.ok) return outcome.result;
    if (outcome.error === 'unauthorized') throw new CrossmintAuthenticationError('Session expired or revoked');
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
        this.logger.warn(`Redis is unreachable (${reason(error)}); refreshes are coordinated within this instance only until it is back`);
      }
      throw error instanceof RedisUnavailableError ? error : new RedisUnavailableError(reason(error));
    } finally {
      clearTimeout(timer);
    }
  }
}

function positive(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new Error(`RedisRefreshStore: option \`${option}\` must be a finite number > 0.`);
  }
  return value;
}

function reason(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.slice(0, 200);
}
