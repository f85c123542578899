import { randomBytes } from 'node:crypto';
import type { EmulatorUser } from './emulator.types.js';
import { randomHex } from './emulator.utils.js';

interface RefreshRecord {
  userId: string;
  expiresAt: number;
}

/** What the emulated Crossmint project knows: its users, live refresh tokens and whether its API key is revoked. */
export class EmulatorState {
  private readonly users = new Map<string, EmulatorUser>();
  private readonly refreshTokens = new Map<string, RefreshRecord>();
  private apiKeyRevoked = false;

  constructor(
    private readonly apiKey: string,
    private readonly refreshTtlSec: number,
  ) {}

  // ---- users ----

  /** The stored record itself, not a copy: callers handing it out copy it. */
  user(userId: string): EmulatorUser | undefined {
    return this.users.get(userId);
  }

  createUser(profile: Partial<EmulatorUser>): EmulatorUser {
    return this.storeUser({ ...profile, id: profile.id ?? newUserId() });
  }

  /**
   * The user named by id (or `profile.id`), else by email; created when unknown, and updated when
   * `profile` or a different `email` is given.
   */
  resolveUser(userId?: string, email?: string, profile?: Partial<EmulatorUser>): EmulatorUser {
    const id = userId ?? profile?.id;
    const existing = id !== undefined ? this.users.get(id) : this.userByEmail(email);
    if (existing && !profile && (email === undefined || existing.email === email)) return existing;
    return this.storeUser({
      ...existing,
      ...profile,
      ...(email !== undefined ? { email } : {}),
      id: id ?? existing?.id ?? newUserId(),
    });
  }

  private userByEmail(email: string | undefined): EmulatorUser | undefined {
    // Without the guard, an absent email would match the first user that has none.
    if (email === undefined) return undefined;
    for (const user of this.users.values()) {
      if (user.email === email) return user;
    }
    return undefined;
  }

  private storeUser(user: EmulatorUser): EmulatorUser {
    this.users.set(user.id, user);
    return user;
  }

  // ---- refresh tokens ----

  issueRefreshToken(userId: string, ttlSec = this.refreshTtlSec): { secret: string; expiresAt: string } {
    const secret = randomBytes(32).toString('base64url');
    const expiresAt = Date.now() + ttlSec * 1000;
    this.refreshTokens.set(secret, { userId, expiresAt });
    return { secret, expiresAt: new Date(expiresAt).toISOString() };
  }

  /** One-time, as Crossmint's: the secret is spent even when expired. Returns the user id if it was valid. */
  redeemRefreshToken(secret: string): string | undefined {
    const record = this.refreshTokens.get(secret);
    this.refreshTokens.delete(secret);
    if (!record || record.expiresAt <= Date.now()) return undefined;
    return record.userId;
  }

  liveRefreshTokens(userId: string): number {
    const now = Date.now();
    let count = 0;
    for (const record of this.refreshTokens.values()) if (record.userId === userId && record.expiresAt > now) count++;
    return count;
  }

  revokeRefreshToken(secret: string): void {
    this.refreshTokens.delete(secret);
  }

  // ---- API key ----

  acceptsApiKey(header: string | string[] | undefined): boolean {
    return header === this.apiKey && !this.apiKeyRevoked;
  }

  revokeApiKey(): void {
    this.apiKeyRevoked = true;
  }

  restoreApiKey(): void {
    this.apiKeyRevoked = false;
  }
}

function newUserId(): string {
  return `user-${randomHex(8)}`;
}
