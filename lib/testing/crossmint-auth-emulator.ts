import { createHmac, generateKeyPair, randomBytes, sign, type KeyObject } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, type JWK } from 'jose';
import { CROSSMINT_API_PATHS } from '../crossmint-auth.constants.js';
import { encodeBase58 } from '../utils/base58.js';

export type EmulatorRoute = 'jwks' | 'refresh' | 'logout' | 'user';

export interface EmulatorUser {
  id: string;
  email?: string;
  phoneNumber?: string;
  [field: string]: unknown;
}

export interface EmulatorFault {
  status?: number;
  delayMs?: number;
  body?: string;
  contentType?: string;
  /** Extra response headers, e.g. `{ 'retry-after': '30' }` with a 429. */
  headers?: Record<string, string>;
  /** How many requests the fault applies to; default: until cleared. */
  times?: number;
}

export interface EmulatorSession {
  jwt: string;
  refreshToken: { secret: string; expiresAt: string };
  userId: string;
  user: EmulatorUser;
}

export interface CrossmintAuthEmulatorOptions {
  /** Default: random, like `emulator-project-<hex>`. */
  projectId?: string;
  /** Signing algorithm of the current key; default `ES256`. */
  algorithm?: 'ES256' | 'RS256';
  /** Lifetime of JWTs minted by refresh and `createSession`; default 60. */
  jwtTtlSec?: number;
  /** Default 7 days. */
  refreshTtlSec?: number;
  /** Environment part of the API key; default `development`. */
  environment?: 'development' | 'staging' | 'production';
}

type SigningAlgorithm = 'ES256' | 'RS256';

/**
 * The form of an ES256 signature r || s: `'low'` has s <= n/2, `'high'` its mirror n - s (n the P-256 group
 * order). Both verify. Left unset, the signer's own pick is kept: OpenSSL, like WebCrypto and cloud KMS
 * signers, yields high-S for about half the tokens.
 */
export type EcdsaSForm = 'low' | 'high';

interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  publicPem: string;
  jwk: JWK;
}

interface RefreshRecord {
  userId: string;
  expiresAt: number;
}

const MAX_BODY_BYTES = 64 * 1024;
const USER_PATH_PREFIX = CROSSMINT_API_PATHS.user('');
const ROUTES: readonly EmulatorRoute[] = ['jwks', 'refresh', 'logout', 'user'];
const ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];
const TOO_LARGE = Symbol('too-large');

/**
 * An in-process stand-in for Crossmint's auth API on 127.0.0.1: JWKS, one-time refresh tokens,
 * logout and users, plus helpers to mint sessions and tokens, rotate keys and inject faults.
 */
export class CrossmintAuthEmulator {
  readonly baseUrl: string;
  readonly projectId: string;
  readonly apiKey: string;

  private readonly jwtTtlSec: number;
  private readonly refreshTtlSec: number;
  private keys: SigningKey[] = [];
  private jwksBody = '{"keys":[]}';
  private readonly foreignKeys = new Map<SigningAlgorithm, Promise<SigningKey>>();
  private readonly users = new Map<string, EmulatorUser>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private readonly faults = new Map<EmulatorRoute, { fault: EmulatorFault; remaining?: number }>();
  private readonly counts: Record<EmulatorRoute, number> = { jwks: 0, refresh: 0, logout: 0, user: 0 };
  private readonly headers = new Map<EmulatorRoute, Record<string, string | string[] | undefined>>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private apiKeyRevoked = false;

  private constructor(
    private readonly server: Server,
    baseUrl: string,
    options: CrossmintAuthEmulatorOptions,
  ) {
    this.baseUrl = baseUrl;
    this.projectId = options.projectId ?? `emulator-project-${randomHex(8)}`;
    this.jwtTtlSec = options.jwtTtlSec ?? 60;
    this.refreshTtlSec = options.refreshTtlSec ?? 7 * 24 * 60 * 60;
    const payload = new TextEncoder().encode(`${this.projectId}.emulator:${randomHex(16)}`);
    this.apiKey = `sk_${options.environment ?? 'development'}_${encodeBase58(payload)}`;
  }

  static async start(options: CrossmintAuthEmulatorOptions = {}): Promise<CrossmintAuthEmulator> {
    const algorithm = options.algorithm ?? 'ES256';
    if (!ALGORITHMS.includes(algorithm)) {
      throw new Error(`CrossmintAuthEmulator: algorithm must be ES256 or RS256, got ${String(algorithm)}`);
    }
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const { port } = server.address() as AddressInfo;
    const emulator = new CrossmintAuthEmulator(server, `http://127.0.0.1:${port}`, options);
    try {
      await emulator.rotateKeys({ keepOld: false, algorithm });
    } catch (error) {
      server.close();
      throw error;
    }
    server.on('request', (req: IncomingMessage, res: ServerResponse) => emulator.onRequest(req, res));
    return emulator;
  }

  moduleOptions(): { apiKey: string; baseUrl: string } {
    return { apiKey: this.apiKey, baseUrl: this.baseUrl };
  }

  stop(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    if (!this.server.listening) return Promise.resolve();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- users and sessions ----

  createUser(profile: Partial<EmulatorUser> = {}): EmulatorUser {
    return { ...this.storeUser({ ...profile, id: profile.id ?? `user-${randomHex(8)}` }) };
  }

  getUserRecord(userId: string): EmulatorUser | undefined {
    const user = this.users.get(userId);
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
    const user = this.resolveUser(options.userId, options.email, options.user);
    const jwt = options.expired
      ? this.mint({ sub: user.id, audience: options.audience, iat: nowSec() - 120, ttlSec: 60 })
      : this.mint({ sub: user.id, audience: options.audience, ttlSec: options.jwtTtlSec });
    const refreshToken = this.issueRefreshToken(user.id, options.refreshTtlSec);
    return { jwt, refreshToken, userId: user.id, user: { ...user } };
  }

  revokeRefreshToken(secret: string): void {
    this.refreshTokens.delete(secret);
  }

  /**
   * Refuses `apiKey` from now on, as Crossmint does with a revoked key: 401 on every route that takes it
   * (refresh, logout, user), while refresh tokens stay valid. `restoreApiKey()` undoes it.
   */
  revokeApiKey(): void {
    this.apiKeyRevoked = true;
  }

  restoreApiKey(): void {
    this.apiKeyRevoked = false;
  }

  // ---- tokens and keys ----

  /**
   * A Crossmint-shaped JWT; `extraClaims` win over the standard claims (set one to `undefined` to drop it).
   * `ecdsaS` normalises an ES256 signature to one form (see `EcdsaSForm`); by default the mix is the signer's.
   */
  async mintJwt(
    options: { sub?: string; audience?: string; ttlSec?: number; iat?: number; extraClaims?: Record<string, unknown>; ecdsaS?: EcdsaSForm } = {},
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
    options: { kid?: string; alg?: string; header?: Record<string, unknown>; key?: 'current' | 'foreign'; ecdsaS?: EcdsaSForm } = {},
  ): Promise<string> {
    const current = this.currentKey();
    const foreignAlg = ALGORITHMS.find((alg) => alg === options.alg) ?? current.alg;
    const key = options.key === 'foreign' ? await this.foreignKey(foreignAlg) : current;
    const header = { alg: options.alg ?? key.alg, kid: options.kid ?? current.kid, typ: 'JWT', ...options.header };
    return signCompact(header, claims, key, options.ecdsaS);
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => ({ ...key.jwk })) };
  }

  /** Makes a new current key; old public keys stay published unless `keepOld: false`. */
  async rotateKeys(options: { keepOld?: boolean; algorithm?: 'ES256' | 'RS256' } = {}): Promise<void> {
    const algorithm = options.algorithm ?? this.keys[this.keys.length - 1]?.alg ?? 'ES256';
    const key = await createSigningKey(algorithm);
    this.keys = options.keepOld === false ? [key] : [...this.keys, key];
    this.jwksBody = JSON.stringify(this.jwks());
  }

  // ---- faults and introspection ----

  fault(route: EmulatorRoute, fault: EmulatorFault): void {
    if (fault.times !== undefined && fault.times <= 0) {
      this.faults.delete(route);
      return;
    }
    this.faults.set(route, { fault: { ...fault }, remaining: fault.times });
  }

  clearFaults(): void {
    this.faults.clear();
  }

  calls(route: EmulatorRoute): number {
    return this.counts[route];
  }

  resetCalls(): void {
    for (const route of ROUTES) this.counts[route] = 0;
    this.headers.clear();
  }

  /** `clearFaults()`, `resetCalls()` and `restoreApiKey()`: a clean emulator for the next test, keeping its users, sessions and keys. */
  reset(): void {
    this.clearFaults();
    this.resetCalls();
    this.restoreApiKey();
  }

  lastRequestHeaders(route: EmulatorRoute): Record<string, string | string[] | undefined> | undefined {
    const headers = this.headers.get(route);
    return headers && { ...headers };
  }

  // ---- internals ----

  private currentKey(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  private foreignKey(alg: SigningAlgorithm): Promise<SigningKey> {
    let key = this.foreignKeys.get(alg);
    if (!key) {
      key = createSigningKey(alg);
      this.foreignKeys.set(alg, key);
    }
    return key;
  }

  private mint(options: { sub?: string; audience?: string; ttlSec?: number; iat?: number; extraClaims?: Record<string, unknown>; ecdsaS?: EcdsaSForm }): string {
    const key = this.currentKey();
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

  private storeUser(user: EmulatorUser): EmulatorUser {
    this.users.set(user.id, user);
    return user;
  }

  private resolveUser(userId?: string, email?: string, profile?: Partial<EmulatorUser>): EmulatorUser {
    const id = userId ?? profile?.id;
    let existing: EmulatorUser | undefined;
    if (id !== undefined) {
      existing = this.users.get(id);
    } else if (email !== undefined) {
      for (const user of this.users.values()) {
        if (user.email === email) {
          existing = user;
          break;
        }
      }
    }
    if (existing && !profile && (email === undefined || existing.email === email)) return existing;
    return this.storeUser({
      ...existing,
      ...profile,
      ...(email !== undefined ? { email } : {}),
      id: id ?? existing?.id ?? `user-${randomHex(8)}`,
    });
  }

  private issueRefreshToken(userId: string, ttlSec = this.refreshTtlSec): { secret: string; expiresAt: string } {
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + ttlSec * 1000;
    this.refreshTokens.set(secret, { userId, expiresAt });
    return { secret, expiresAt: new Date(expiresAt).toISOString() };
  }

  private routeOf(path: string): EmulatorRoute | undefined {
    if (path === CROSSMINT_API_PATHS.jwks) return 'jwks';
    if (path === CROSSMINT_API_PATHS.refresh) return 'refresh';
    if (path === CROSSMINT_API_PATHS.logout) return 'logout';
    if (path.startsWith(USER_PATH_PREFIX)) return 'user';
    return undefined;
  }

  private takeFault(route: EmulatorRoute): EmulatorFault | undefined {
    const entry = this.faults.get(route);
    if (!entry) return undefined;
    if (entry.remaining !== undefined && --entry.remaining <= 0) this.faults.delete(route);
    return entry.fault;
  }

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    req.on('error', () => res.destroy());
    const url = req.url ?? '/';
    const query = url.indexOf('?');
    const path = query === -1 ? url : url.slice(0, query);
    const route = this.routeOf(path);
    if (!route) return sendJson(res, 404, { message: 'Not found' });

    this.counts[route]++;
    this.headers.set(route, { ...req.headers });
    const fault = this.takeFault(route);
    if (!fault?.delayMs) return this.respond(route, path, fault, req, res);
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      this.respond(route, path, fault, req, res);
    }, fault.delayMs);
    this.timers.add(timer);
  }

  private respond(route: EmulatorRoute, path: string, fault: EmulatorFault | undefined, req: IncomingMessage, res: ServerResponse): void {
    if (res.destroyed) return;
    try {
      if (fault && (fault.status !== undefined || fault.body !== undefined)) {
        const body = fault.body ?? JSON.stringify({ message: 'injected fault' });
        return send(res, fault.status ?? 200, body, fault.contentType ?? 'application/json', fault.headers);
      }
      this.handle(route, path, req, res).catch(() => fail(res));
    } catch {
      fail(res);
    }
  }

  private async handle(route: EmulatorRoute, path: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const method = req.method ?? 'GET';
    if (route === 'jwks') {
      if (method !== 'GET' && method !== 'HEAD') return methodNotAllowed(res, 'GET');
      return send(res, 200, this.jwksBody, 'application/json');
    }
    const expectedMethod = route === 'user' ? 'GET' : 'POST';
    if (method !== expectedMethod) return methodNotAllowed(res, expectedMethod);
    if (req.headers['x-api-key'] !== this.apiKey || this.apiKeyRevoked) {
      return sendJson(res, 401, { message: 'Missing or invalid x-api-key header' });
    }
    if (route === 'user') return this.handleUser(path, res);

    const body = await readBody(req);
    if (body === undefined) return; // client went away
    if (body === TOO_LARGE) return sendJson(res, 413, { message: 'Request body too large' });
    const secret = parseRefreshSecret(body);
    if (secret === undefined) return sendJson(res, 400, { message: 'Expected a JSON body {"refresh": "<secret>"}' });

    if (route === 'logout') {
      this.refreshTokens.delete(secret);
      return sendJson(res, 200, {});
    }
    const record = this.refreshTokens.get(secret);
    this.refreshTokens.delete(secret);
    if (!record || record.expiresAt <= Date.now()) return sendJson(res, 401, { message: 'Invalid refresh token' });
    const user = this.users.get(record.userId) ?? { id: record.userId };
    sendJson(res, 200, {
      jwt: this.mint({ sub: user.id }),
      refresh: this.issueRefreshToken(user.id),
      user,
    });
  }

  private handleUser(path: string, res: ServerResponse): void {
    // A raw `/` in the remainder is another path, not an id: only an encoded one is part of the id.
    const raw = path.slice(USER_PATH_PREFIX.length);
    if (raw === '' || raw.includes('/')) return sendJson(res, 404, { message: 'Not found' });
    let userId: string;
    try {
      userId = decodeURIComponent(raw);
    } catch {
      return sendJson(res, 400, { message: 'Malformed user id' });
    }
    const user = this.users.get(userId);
    if (!user) return sendJson(res, 404, { message: 'User not found' });
    sendJson(res, 200, user);
  }
}

function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function createSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  return new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve({ publicKey, privateKey });
    if (alg === 'ES256') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else generateKeyPair('rsa', { modulusLength: 2048 }, done);
  }).then(async ({ publicKey, privateKey }) => {
    const kid = `emulator-${alg.toLowerCase()}-${randomHex(8)}`;
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return { kid, alg, privateKey, publicPem, jwk };
  });
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

function signCompact(header: Record<string, unknown>, claims: Record<string, unknown>, key: SigningKey, ecdsaS?: EcdsaSForm): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const alg = typeof header.alg === 'string' ? header.alg : '';
  let signature: string;
  if (alg.toLowerCase() === 'none') {
    signature = '';
  } else if (/^HS(256|384|512)$/.test(alg)) {
    signature = createHmac(`sha${alg.slice(2)}`, key.publicPem).update(input).digest('base64url');
  } else {
    const signingKey = key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
    const raw = sign('sha256', Buffer.from(input), signingKey);
    signature = (key.alg === 'ES256' && ecdsaS ? withEcdsaS(raw, ecdsaS) : raw).toString('base64url');
  }
  return `${input}.${signature}`;
}

/** The P-256 group order n. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** An ES256 signature r || s (IEEE P1363, 64 bytes) in the requested form: s as it is, or n - s. */
function withEcdsaS(signature: Buffer, form: EcdsaSForm): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  if ((s > P256_ORDER / 2n) === (form === 'high')) return signature;
  return Buffer.concat([signature.subarray(0, 32), Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex')]);
}

/** Resolves with the body, `TOO_LARGE` past 64 KB, or `undefined` when the client aborted. */
function readBody(req: IncomingMessage): Promise<Buffer | typeof TOO_LARGE | undefined> {
  return new Promise((resolve) => {
    if (Number(req.headers['content-length']) > MAX_BODY_BYTES) {
      req.resume();
      return resolve(TOO_LARGE);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) return void chunks.push(chunk);
      req.off('data', onData);
      req.resume();
      resolve(TOO_LARGE);
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('close', () => {
      if (!req.complete) resolve(undefined);
    });
  });
}

function parseRefreshSecret(body: Buffer): string | undefined {
  try {
    const parsed: unknown = JSON.parse(body.toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const refresh = (parsed as { refresh?: unknown }).refresh;
    return typeof refresh === 'string' && refresh !== '' ? refresh : undefined;
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, status: number, body: string, contentType: string, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body), 'application/json');
}

function methodNotAllowed(res: ServerResponse, allow: string): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader('allow', allow);
  sendJson(res, 405, { message: 'Method not allowed' });
}

function fail(res: ServerResponse): void {
  if (res.headersSent) res.destroy();
  else sendJson(res, 500, { message: 'Emulator error' });
}
