import type { JWTPayload } from 'jose';

/** A Crossmint user profile; fields Crossmint adds pass through. */
export interface CrossmintUser {
  id: string;
  email?: string;
  phoneNumber?: string;
  [field: string]: unknown;
}

/** A refresh token: one-time, good until `expiresAt`. */
export interface CrossmintRefreshToken {
  secret: string;
  /** ISO date. */
  expiresAt: string;
}

/** What the auth cookies hold: a JWT and the refresh token that renews it. */
export interface CrossmintAuthMaterial {
  jwt: string;
  refreshToken: CrossmintRefreshToken;
}

/**
 * What one refresh produced: the new material and the user Crossmint named. Whoever receives it verifies the
 * JWT again with its own verifier, so a result from a shared store is never trusted as a session.
 */
export interface CrossmintRefreshResult extends CrossmintAuthMaterial {
  user: CrossmintUser;
}

/** A verified Crossmint JWT payload. */
export interface CrossmintJwtPayload extends JWTPayload {
  /** The Crossmint user id. */
  sub: string;
  exp: number;
}

/** A valid Crossmint session. */
export interface CrossmintSession {
  jwt: string;
  /** The refresh token the session came with or was refreshed to; `expiresAt` is known only after a refresh. */
  refreshToken?: { secret: string; expiresAt?: string };
  userId: string;
  /** The verified JWT payload. */
  claims: CrossmintJwtPayload;
  /** True when the session was refreshed to answer this call: the material is new. */
  refreshed: boolean;
  /** The user, as the refresh answer described it (refreshed sessions only). */
  user?: CrossmintUser;
}

/** A session refreshed to answer this call: its material is new, and the old refresh token is spent. */
export interface RefreshedCrossmintSession extends CrossmintSession {
  refreshToken: CrossmintRefreshToken;
  refreshed: true;
  user: CrossmintUser;
}

/** What the guard and the interceptor put on `request.user`. */
export interface CrossmintAuthUser {
  userId: string;
  jwt: string;
  claims: CrossmintJwtPayload;
}

/** Explicit tokens for `getSession`, e.g. from a WebSocket handshake; `refreshToken` is its secret (or the token). */
export interface CrossmintTokens {
  jwt?: string;
  refreshToken?: string | { secret: string };
}
