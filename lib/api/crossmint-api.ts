import { BadRequestException, Inject, Injectable, Logger, NotFoundException, Optional } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import {
  API_KEY_CHECK_INTERVAL_MS,
  CROSSMINT_API_PATHS,
  CROSSMINT_AUTH_OPTIONS,
  CROSSMINT_HTTP_CLIENT,
  MAX_USER_ID_LENGTH,
} from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import { CrossmintAuthReason } from '../crossmint-auth.reasons.js';
import type { ResolvedCrossmintAuthOptions } from '../interfaces/crossmint-auth-options.interface.js';
import type { CrossmintHttpClient } from '../interfaces/crossmint-http-client.interface.js';
import type { CrossmintRefreshResult, CrossmintUser } from '../interfaces/crossmint-session.interface.js';
import { isRefreshSecret } from '../crossmint-auth.credentials.js';
import { CrossmintAuthTelemetry, type TelemetrySpan } from '../telemetry/crossmint-auth.telemetry.js';
import { parseRetryAfter } from './retry-after.js';

type CallName = 'jwks' | 'refresh' | 'logout' | 'user';

/** What Crossmint said of the API key when it was last asked: `'unknown'` before a refusal made it worth asking. */
export type CrossmintApiKeyStatus = 'unknown' | 'accepted' | 'refused';

/** A user id no project has: a lookup answers 404 with a good key, 401 with a refused one. */
const API_KEY_CHECK_USER_ID = 'nestjs-crossmint-auth-api-key-check';

interface Answer {
  status: number;
  json: unknown;
  /** Crossmint's `Retry-After`, in seconds, when it sent a usable one. */
  retryAfterSec?: number;
}

/** Crossmint's HTTP API, one method per endpoint: answers validated, failures mapped to the module's errors. */
@Injectable()
export class CrossmintApi {
  private readonly logger = new Logger('CrossmintAuth');
  private apiKeyCheck?: { until: number; done: Promise<CrossmintApiKeyStatus> };
  private lastApiKeyStatus: CrossmintApiKeyStatus = 'unknown';

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    @Inject(CROSSMINT_HTTP_CLIENT) private readonly http: CrossmintHttpClient,
    @Optional() private readonly telemetry: CrossmintAuthTelemetry = new CrossmintAuthTelemetry(options),
  ) {}

  fetchJwks(): Promise<JSONWebKeySet> {
    return this.traced('jwks', (span) => this.fetchJwksIn(span));
  }

  /** The new material for a refresh secret; Crossmint's `refresh` field is the module's `refreshToken` from here on. */
  refresh(secret: string): Promise<CrossmintRefreshResult> {
    return this.traced('refresh', (span) => this.refreshIn(span, secret));
  }

  logout(secret: string): Promise<void> {
    return this.traced('logout', (span) => this.logoutIn(span, secret));
  }

  getUser(userId: string): Promise<CrossmintUser> {
    // '.' and '..' are dot segments even when percent-encoded: URL parsing would drop them from the path.
    if (
      typeof userId !== 'string' ||
      userId === '' ||
      userId === '.' ||
      userId.length > MAX_USER_ID_LENGTH ||
      /\.\.|\p{Cc}/u.test(userId)
    ) {
      return Promise.reject(new BadRequestException('Invalid user id'));
    }
    return this.traced('user', (span) => this.getUserIn(span, userId));
  }

  private async fetchJwksIn(span: TelemetrySpan): Promise<JSONWebKeySet> {
    const { status, json, retryAfterSec } = await this.call('jwks', 'GET', CROSSMINT_API_PATHS.jwks, span);
    if (status !== 200) throw this.unavailable('jwks', `status ${status}`, retryAfterSec);
    const keys = (json as JSONWebKeySet | undefined)?.keys;
    if (!Array.isArray(keys) || keys.some((key) => !isObject(key)))
      throw this.unavailable('jwks', 'malformed key set', undefined, CrossmintAuthReason.UpstreamMalformed);
    return { keys };
  }

  private async refreshIn(span: TelemetrySpan, secret: string): Promise<CrossmintRefreshResult> {
    const { status, json, retryAfterSec } = await this.call('refresh', 'POST', CROSSMINT_API_PATHS.refresh, span, {
      refresh: secret,
    });
    if (isClientError(status)) {
      // A refused API key, or one Crossmint could not be asked about, must not pass for a dead refresh token.
      const apiKey = status === 401 ? await this.checkApiKey() : 'accepted';
      if (apiKey !== 'accepted') {
        const reason =
          apiKey === 'refused' ? CrossmintAuthReason.ApiKeyRefused : CrossmintAuthReason.UpstreamUnavailable;
        throw new CrossmintServiceUnavailableError(undefined, API_KEY_CHECK_INTERVAL_MS / 1000, reason);
      }
      throw new CrossmintAuthenticationError('Session expired or revoked', CrossmintAuthReason.RefreshRefused);
    }
    if (status !== 200 && status !== 201) throw this.unavailable('refresh', `status ${status}`, retryAfterSec);
    if (!isRefreshAnswer(json))
      throw this.unavailable('refresh', 'malformed answer', undefined, CrossmintAuthReason.UpstreamMalformed);
    return {
      jwt: json.jwt,
      refreshToken: { secret: json.refresh.secret, expiresAt: json.refresh.expiresAt },
      user: json.user,
    };
  }

  private async logoutIn(span: TelemetrySpan, secret: string): Promise<void> {
    const { status, retryAfterSec } = await this.call('logout', 'POST', CROSSMINT_API_PATHS.logout, span, {
      refresh: secret,
    });
    // A refresh token Crossmint no longer knows is as logged out as it gets.
    if (status >= 300 && !isClientError(status)) throw this.unavailable('logout', `status ${status}`, retryAfterSec);
  }

  private async getUserIn(span: TelemetrySpan, userId: string): Promise<CrossmintUser> {
    const { status, json, retryAfterSec } = await this.call(
      'user',
      'GET',
      CROSSMINT_API_PATHS.user(encodeURIComponent(userId)),
      span,
    );
    if (status === 404)
      throw Object.assign(new NotFoundException('User not found'), { reason: CrossmintAuthReason.UserNotFound });
    if (status !== 200) throw this.unavailable('user', `status ${status}`, retryAfterSec);
    if (!isObject(json) || typeof json.id !== 'string')
      throw this.unavailable('user', 'malformed answer', undefined, CrossmintAuthReason.UpstreamMalformed);
    return json as CrossmintUser;
  }

  /** What Crossmint said of the API key when it was last asked; `'unknown'` before a refusal made it worth asking. */
  get apiKeyStatus(): CrossmintApiKeyStatus {
    return this.lastApiKeyStatus;
  }

  /**
   * Crossmint answers 401 both to a dead refresh token and to a refused API key (revoked, wrong). Taking the
   * second for the first would sign out every user whose JWT expires, so a refused refresh is followed by a user
   * lookup with the same key: 401 there too means the key is refused; another 4xx (404 for this id) that it is
   * accepted; an outage, that it cannot be told. An answer stands for API_KEY_CHECK_INTERVAL_MS (an outage's for
   * a tenth of it), however many refusals come meanwhile.
   */
  private checkApiKey(): Promise<CrossmintApiKeyStatus> {
    if (this.apiKeyCheck && Date.now() < this.apiKeyCheck.until) return this.apiKeyCheck.done;
    const done = this.askApiKeyStatus();
    const check = { until: Number.POSITIVE_INFINITY, done };
    this.apiKeyCheck = check;
    void done.then(
      (status) => (check.until = Date.now() + API_KEY_CHECK_INTERVAL_MS / (status === 'unknown' ? 10 : 1)),
    );
    return done;
  }

  private async askApiKeyStatus(): Promise<CrossmintApiKeyStatus> {
    let status: number;
    try {
      ({ status } = await this.traced('user', (span) =>
        this.call('user', 'GET', CROSSMINT_API_PATHS.user(API_KEY_CHECK_USER_ID), span),
      ));
    } catch {
      return 'unknown';
    }
    if (status !== 401 && !isClientError(status) && status !== 200) return 'unknown';
    this.lastApiKeyStatus = status === 401 ? 'refused' : 'accepted';
    if (status === 401) {
      this.logger.error(
        'Crossmint refused the API key (401): check CROSSMINT_API_KEY (revoked, or of another project or environment). ' +
          'Refreshes answer 503 and keep the cookies until Crossmint accepts it again',
      );
    }
    return this.lastApiKeyStatus;
  }

  private traced<T>(name: CallName, fn: (span: TelemetrySpan) => Promise<T>): Promise<T> {
    return this.telemetry.span(`crossmint.${name}`, 'client', { 'crossmint.call': name }, fn);
  }

  private async call(
    name: CallName,
    method: 'GET' | 'POST',
    path: string,
    span: TelemetrySpan,
    body?: object,
  ): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (name !== 'jwks') headers['x-api-key'] = this.options.apiKey;
    if (body) headers['content-type'] = 'application/json';
    let response;
    const started = performance.now();
    try {
      response = await this.http.request({
        method,
        url: this.options.baseUrl + path,
        headers,
        body: body && JSON.stringify(body),
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      this.telemetry.crossmintCall(name, (performance.now() - started) / 1000, 0);
      const timedOut = (error as Error)?.name === 'TimeoutError';
      throw this.unavailable(
        name,
        timedOut ? 'timed out' : 'unreachable',
        undefined,
        timedOut ? CrossmintAuthReason.UpstreamTimeout : CrossmintAuthReason.UpstreamUnavailable,
      );
    }
    this.telemetry.crossmintCall(name, (performance.now() - started) / 1000, response.status);
    span.set('http.request.method', method);
    span.set('http.response.status_code', response.status);
    return {
      status: response.status,
      json: parseJson(response.body),
      retryAfterSec: parseRetryAfter(response.headers?.['retry-after']),
    };
  }

  private unavailable(
    name: CallName,
    detail: string,
    retryAfterSec?: number,
    reason: CrossmintAuthReason = CrossmintAuthReason.UpstreamUnavailable,
  ): CrossmintServiceUnavailableError {
    this.logger.warn(`Crossmint ${name} call failed: ${detail} (${reason})`);
    return new CrossmintServiceUnavailableError(undefined, retryAfterSec, reason);
  }
}

function isClientError(status: number): boolean {
  // 408 and 429 are the server's trouble, not the token's.
  return status >= 400 && status < 500 && status !== 408 && status !== 429;
}

function parseJson(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Crossmint's refresh answer, on the wire: `{ jwt, refresh: { secret, expiresAt }, user }`. */
interface RefreshAnswer {
  jwt: string;
  refresh: { secret: string; expiresAt: string };
  user: CrossmintUser;
}

function isRefreshAnswer(value: unknown): value is RefreshAnswer {
  if (!isObject(value) || typeof value.jwt !== 'string' || value.jwt === '') return false;
  const { refresh, user } = value;
  return (
    isObject(refresh) &&
    isRefreshSecret(refresh.secret) &&
    typeof refresh.expiresAt === 'string' &&
    !Number.isNaN(Date.parse(refresh.expiresAt)) &&
    isObject(user) &&
    typeof user.id === 'string'
  );
}
