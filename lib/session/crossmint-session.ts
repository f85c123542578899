import type { CrossmintRefreshToken, CrossmintUser } from '../http/crossmint-api.js';
import type { CrossmintJwtPayload } from '../jwt/crossmint-jwt-verifier.js';

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

/** What the guard and the interceptor put on `request.user`. */
export interface CrossmintAuthUser {
  userId: string;
  jwt: string;
  claims: CrossmintJwtPayload;
}

export interface RefreshedCrossmintSession extends CrossmintSession {
  refreshToken: CrossmintRefreshToken;
  refreshed: true;
  user: CrossmintUser;
}

export function toAuthUser({ userId, jwt, claims }: CrossmintSession): CrossmintAuthUser {
  return { userId, jwt, claims };
}
