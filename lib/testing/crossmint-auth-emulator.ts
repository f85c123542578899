import type { JWK } from 'jose';
import { encodeBase58 } from '../utils/base58.js';
import { EmulatorHttpServer } from './emulator-http.js';
import { EmulatorKeyRing, SIGNING_ALGORITHMS } from './emulator-key-ring.js';
import { EmulatorRoutes } from './emulator-routes.js';
import { signCompact } from './emulator-signer.js';
import { EmulatorState } from './emulator-state.js';
import { EmulatorTraffic } from './emulator-traffic.js';
import type {
  CrossmintAuthEmulatorOptions,
  EcdsaSForm,
  EmulatorFault,
  EmulatorRoute,
  EmulatorSession,
  EmulatorUser,
} from './emulator.types.js';
import { nowSec, randomHex } from './emulator.utils.js';

type MintOptions = NonNullable<Parameters<CrossmintAuthEmulator['mintJwt']>[0]>;

/**
 * An in-process stand-in for Crossmint's auth API on 127.0.0.1: JWKS, one-time refresh tokens,
 * logout and users, plus helpers to mint sessions and tokens, rotate keys and inject faults.
 */
export class CrossmintAuthEmulator {
  readonly baseUrl: string;
  readonly projectId: string;
  readonly apiKey: string;

  private readonly jwtTtlSec: number;
  private readonly keys = new EmulatorKeyRing();
  private readonly state: EmulatorState;
  private readonly traffic = new EmulatorTraffic();

  private constructor(
    private readonly http: EmulatorHttpServer,
    options: CrossmintAuthEmulatorOptions,
  ) {
    this.baseUrl = http.baseUrl;
    this.projectId = options.projectId ?? `emulator-project-${randomHex(8)}`;
    this.jwtTtlSec = options.jwtTtlSec ?? 60;
    const payload = new TextEncoder().encode(`${this.projectId}.emulator:${randomHex(16)}`);
    this.apiKey = `sk_${options.environment ?? 'development'}_${encodeBase58(payload)}`;
    this.state = new EmulatorState(this.apiKey, options.refreshTtlSec ?? 7 * 24 * 60 * 60);
  }

  static async start(options: CrossmintAuthEmulatorOptions = {}): Promise<CrossmintAuthEmulator> {
    const algorithm = options.algorithm ?? 'ES256';
    if (!SIGNING_ALGORITHMS.includes(algorithm)) {
      throw new Error(`CrossmintAuthEmulator: algorithm must be ES256 or RS256, got ${String(algorithm)}`);
    }
    const http = await EmulatorHttpServer.listen();
    const emulator = new CrossmintAuthEmulator(http, options);
    try {
      await emulator.rotateKeys({ keepOld: false, algorithm });
    } catch (error) {
      void http.close();
      throw error;
    }
    const routes = new EmulatorRoutes(emulator.state, emulator.keys, (sub) => emulator.mint({ sub }));
    http.serve(emulator.traffic, (route, path, req, res) => routes.handle(route, path, req, res));
    return emulator;
  }

  moduleOptions(): { apiKey: string; baseUrl: string } {
    return { apiKey: this.apiKey, baseUrl: this.baseUrl };
  }

  stop(): Promise<void> {
    return this.http.close();
  }

  // ---- users and sessions ----

  createUser(profile: Partial<EmulatorUser> = {}): EmulatorUser {
    return { ...this.state.createUser(profile) };
  }

  getUserRecord(userId: string): EmulatorUser | undefined {
    const user = this.state.user(userId);
    return user && { ...user };
  }

  async createSession(
    options: {
      userId?: string;
      email?: string;
      user?: Partial<EmulatorUser>;
      jwtTtlSec?: number;
      audience?: string;
      expired?: boolean;
      refreshTtlSec?: number;
    } = {},
  ): Promise<EmulatorSession> {
    const user = this.state.resolveUser(options.userId, options.email, options.user);
    const jwt = options.expired
      ? this.mint({ sub: user.id, audience: options.audience, iat: nowSec() - 120, ttlSec: 60 })
      : this.mint({ sub: user.id, audience: options.audience, ttlSec: options.jwtTtlSec });
    const refreshToken = this.state.issueRefreshToken(user.id, options.refreshTtlSec);
    return { jwt, refreshToken, userId: user.id, user: { ...user } };
  }

  revokeRefreshToken(secret: string): void {
    this.state.revokeRefreshToken(secret);
  }

  /** How many refresh tokens of this user Crossmint would still honour: 0 once every session of theirs is logged out. */
  liveRefreshTokens(userId: string): number {
    return this.state.liveRefreshTokens(userId);
  }

  /**
   * Refuses `apiKey` from now on, as Crossmint does with a revoked key: 401 on every route that takes it
   * (refresh, logout, user), while refresh tokens stay valid. `restoreApiKey()` undoes it.
   */
  revokeApiKey(): void {
    this.state.revokeApiKey();
  }

  restoreApiKey(): void {
    this.state.restoreApiKey();
  }

  // ---- tokens and keys ----

  /**
   * A Crossmint-shaped JWT; `extraClaims` win over the standard claims (set one to `undefined` to drop it).
   * `ecdsaS` normalises an ES256 signature to one form (see `EcdsaSForm`); by default the mix is the signer's.
   */
  async mintJwt(
    options: {
      sub?: string;
      audience?: string;
      ttlSec?: number;
      iat?: number;
      extraClaims?: Record<string, unknown>;
      ecdsaS?: EcdsaSForm;
    } = {},
  ): Promise<string> {
    return this.mint(options);
  }

  /**
   * Signs `claims` as given, for adversarial tests. The header defaults to `{alg, kid, typ}` of the
   * current key, also for the foreign key, so only the signature gives it away. `alg: 'none'` yields an
   * unsigned token, `HS*` an HMAC keyed with the public key's PEM (algorithm confusion); any other `alg`
   * is only a label: the signature is made with the key's own algorithm. `ecdsaS` as for `mintJwt`.
   */
  async signJwt(
    claims: Record<string, unknown>,
    options: {
      kid?: string;
      alg?: string;
      header?: Record<string, unknown>;
      key?: 'current' | 'foreign';
      ecdsaS?: EcdsaSForm;
    } = {},
  ): Promise<string> {
    const current = this.keys.current();
    const foreignAlg = SIGNING_ALGORITHMS.find((alg) => alg === options.alg) ?? current.alg;
    const key = options.key === 'foreign' ? await this.keys.foreign(foreignAlg) : current;
    const header = { alg: options.alg ?? key.alg, kid: options.kid ?? current.kid, typ: 'JWT', ...options.header };
    return signCompact(header, claims, key, options.ecdsaS);
  }

  jwks(): { keys: JWK[] } {
    return this.keys.jwks();
  }

  /** Makes a new current key; old public keys stay published unless `keepOld: false`. */
  async rotateKeys(options: { keepOld?: boolean; algorithm?: 'ES256' | 'RS256' } = {}): Promise<void> {
    await this.keys.rotate(options);
  }

  // ---- faults and introspection ----

  /**
   * The next refresh answers 200 with `jwt` for `userId` and a new refresh token, whatever secret it is sent: for
   * tests of answers that must not become a session (a JWT of another project or user, a malformed secret).
   */
  answerNextRefresh(answer: { jwt: string; userId: string; secret?: string; expiresAt?: string }): void {
    const refresh = {
      secret: answer.secret ?? `emulated-${randomHex(16)}`,
      expiresAt: answer.expiresAt ?? new Date(Date.now() + 3_600_000).toISOString(),
    };
    this.fault('refresh', {
      status: 200,
      times: 1,
      body: JSON.stringify({ jwt: answer.jwt, refresh, user: { id: answer.userId } }),
    });
  }

  fault(route: EmulatorRoute, fault: EmulatorFault): void {
    this.traffic.setFault(route, fault);
  }

  clearFaults(): void {
    this.traffic.clearFaults();
  }

  calls(route: EmulatorRoute): number {
    return this.traffic.calls(route);
  }

  resetCalls(): void {
    this.traffic.resetCalls();
  }

  /** `clearFaults()`, `resetCalls()` and `restoreApiKey()`: a clean emulator for the next test, keeping its users, sessions and keys. */
  reset(): void {
    this.clearFaults();
    this.resetCalls();
    this.restoreApiKey();
  }

  lastRequestHeaders(route: EmulatorRoute): Record<string, string | string[] | undefined> | undefined {
    return this.traffic.lastRequestHeaders(route);
  }

  // ---- internals ----

  private mint(options: MintOptions): string {
    const key = this.keys.current();
    const iat = options.iat ?? nowSec();
    const claims = {
      sub: options.sub ?? this.createUser().id,
      aud: options.audience ?? this.projectId,
      iss: this.baseUrl,
      iat,
      exp: iat + (options.ttlSec ?? this.jwtTtlSec),
      // Keeps two tokens minted in the same second for the same user distinct.
      jti: randomHex(8),
      ...options.extraClaims,
    };
    return signCompact({ alg: key.alg, kid: key.kid, typ: 'JWT' }, claims, key, options.ecdsaS);
  }
}
