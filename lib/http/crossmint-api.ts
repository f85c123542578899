import { BadRequestException, Inject, Injectable, Logger, NotFoundException } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { CROSSMINT_API_PATHS, CROSSMINT_AUTH_OPTIONS, CROSSMINT_HTTP_CLIENT, MAX_REFRESH_SECRET_LENGTH } from '../crossmint-auth.constants.js';
import { CrossmintAuthenticationError, CrossmintServiceUnavailableError } from '../crossmint-auth.errors.js';
import type { ResolvedCrossmintAuthOptions } from '../crossmint-auth.options.js';
import type { CrossmintHttpClient } from './crossmint-http-client.interface.js';
import { parseRetryAfter } from './retry-after.js';

export interface CrossmintUser {
  id: string;
  email?: string;
  phoneNumber?: string;
  [field: string]: unknown;
}

export interface CrossmintRefreshToken {
  secret: string;
  /** ISO date. */
  expiresAt: string;
}

/** What Crossmint's refresh endpoint answers. */
export interface CrossmintRefreshResponse {
  jwt: string;
  refresh: CrossmintRefreshToken;
  user: CrossmintUser;
}

type CallName = 'jwks' | 'refresh' | 'logout' | 'user';

export type CrossmintApiKeyStatus = 'unknown' | 'accepted' | 'refused';

/** How long one check of the API key stands: the bound on checks, and on an error log, while it is refused. */
const API_KEY_CHECK_INTERVAL_MS = 10_000;
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
  private apiKeyCheck?: { status: CrossmintApiKeyStatus; checkedAt: number; done: Promise<CrossmintApiKeyStatus> };

  constructor(
    @Inject(CROSSMINT_AUTH_OPTIONS) private readonly options: ResolvedCrossmintAuthOptions,
    @Inject(CROSSMINT_HTTP_CLIENT) private readonly http: CrossmintHttpClient,
  ) {}

  async fetchJwks(): Promise<JSONWebKeySet> {
    const { status, json, retryAfterSec } = await this.call('jwks', 'GET', CROSSMINT_API_PATHS.jwks);
    if (status !== 200) throw this.unavailable('jwks', `status ${status}`, retryAfterSec);
    const keys = (json as JSONWebKeySet | undefined)?.keys;
    if (!Array.isArray(keys) || keys.some((key) => !isObject(key))) throw this.unavailable('jwks', 'malformed key set');
    return { keys };
  }

  async refresh(secret: string): Promise<CrossmintRefreshResponse> {
    const { status, json, retryAfterSec } = await this.call('refresh', 'POST', CROSSMINT_API_PATHS.refresh, { refresh: secret });
    if (isClientError(status)) {
      if (status === 401 && (await this.isApiKeyRefused())) throw new CrossmintServiceUnavailableError(undefined, API_KEY_CHECK_INTERVAL_MS / 1000);
      throw new CrossmintAuthenticationError('Session expired or revoked');
    }
    if (status !== 200 && status !== 201) throw this.unavailable('refresh', `status ${status}`, retryAfterSec);
    if (!isRefreshResponse(json)) throw this.unavailable('refresh', 'malformed answer');
    return json;
  }

  async logout(secret: string): Promise<void> {
    const { status, retryAfterSec } = await this.call('logout', 'POST', CROSSMINT_API_PATHS.logout, { refresh: secret });
    // A refresh token Crossmint no longer knows is as logged out as it gets.
    if (status >= 300 && !isClientError(status)) throw this.unavailable('logout', `status ${status}`, retryAfterSec);
  }

  async getUser(userId: string): Promise<CrossmintUser> {
    // '.' and '..' are dot segments even when percent-encoded: URL parsing would drop them from the path.
    if (typeof userId !== 'string' || userId === '' || userId === '.' || userId.length > 256 || /\.\.|[\x00-\x1f\x7f]/.test(userId)) {
      throw new BadRequestException('Invalid user id');
    }
    const { status, json, retryAfterSec } = await this.call('user', 'GET', CROSSMINT_API_PATHS.user(encodeURIComponent(userId)));
    if (status === 404) throw new NotFoundException('User not found');
    if (status !== 200) throw this.unavailable('user', `status ${status}`, retryAfterSec);
    if (!isObject(json) || typeof json.id !== 'string') throw this.unavailable('user', 'malformed answer');
    return json as CrossmintUser;
  }

  /** What Crossmint said of the API key when it was last checked; `'unknown'` before any refusal made it worth checking. */
  get apiKeyStatus(): CrossmintApiKeyStatus {
    return this.apiKeyCheck?.status ?? 'unknown';
  }

  /**
   * Crossmint answers 401 both to a dead refresh token and to a refused API key (revoked, wrong). Taking the
   * second for the first would sign out every user whose JWT expires, so a refused refresh is followed by a user
   * lookup with the same key: 401 there too means the key is refused. At most one lookup per
   * API_KEY_CHECK_INTERVAL_MS, however many refusals.
   */
  private async isApiKeyRefused(): Promise<boolean> {
    const check = this.apiKeyCheck;
    if (check && Date.now() - check.checkedAt < API_KEY_CHECK_INTERVAL_MS) return (await check.done) === 'refused';
    const done = this.checkApiKey();
    this.apiKeyCheck = { status: check?.status ?? 'unknown', checkedAt: Date.now(), done };
    return (await done) === 'refused';
  }

  private async checkApiKey(): Promise<CrossmintApiKeyStatus> {
    let status: number;
    try {
      ({ status } = await this.call('user', 'GET', CROSSMINT_API_PATHS.user(API_KEY_CHECK_USER_ID)));
    } catch {
      return 'unknown';
    }
    const keyStatus = status === 401 ? 'refused' : 'accepted';
    this.apiKeyCheck!.status = keyStatus;
    if (keyStatus === 'refused') {
      this.logger.error(
        'Crossmint refused the API key (401): check CROSSMINT_API_KEY (revoked, or of another project or environment). ' +
          'Refreshes answer 503 and keep the cookies until Crossmint accepts it again',
      );
    }
    return keyStatus;
  }

  private async call(name: CallName, method: 'GET' | 'POST', path: string, body?: object): Promise<Answer> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (name !== 'jwks') headers['x-api-key'] = this.options.apiKey;
    if (body) headers['content-type'] = 'application/json';
    let response;
    try {
      response = await this.http.request({
        method,
        url: this.options.baseUrl + path,
        headers,
        body: body && JSON.stringify(body),
        timeoutMs: this.options.timeoutMs,
      });
    } catch (error) {
      const reason = (error as Error)?.name === 'TimeoutError' ? 'timed out' : 'unreachable';
      throw this.unavailable(name, reason);
    }
    return { status: response.status, json: parseJson(response.body), retryAfterSec: parseRetryAfter(response.headers?.['retry-after']) };
  }

  private unavailable(name: CallName, reason: string, retryAfterSec?: number): CrossmintServiceUnavailableError {
    this.logger.warn(`Crossmint ${name} call failed: ${reason}`);
    return new CrossmintServiceUnavailableError(undefined, retryAfterSec);
  }
}

/** RFC 6265 cookie-octets: a secret the cookies can carry and read back unchanged. */
const REFRESH_SECRET = new RegExp(`^[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]{1,${MAX_REFRESH_SECRET_LENGTH}}$`);

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

function isRefreshResponse(value: unknown): value is CrossmintRefreshResponse {
  if (!isObject(value) || typeof value.jwt !== 'string' || value.jwt === '') return false;
  const { refresh, user } = value;
  return (
    isObject(refresh) &&
    typeof refresh.secret === 'string' &&
    REFRESH_SECRET.test(refresh.secret) &&
    typeof refresh.expiresAt === 'string' &&
    !Number.isNaN(Date.parse(refresh.expiresAt)) &&
    isObject(user) &&
    typeof user.id === 'string'
  );
}
