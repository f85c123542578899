import type {
  CrossmintAuthUser,
  CrossmintJwtPayload,
  CrossmintRefreshResult,
  CrossmintSession,
  RefreshedCrossmintSession,
} from '../interfaces/crossmint-session.interface.js';

/** The session of a JWT that verified, with the refresh secret it came with (if any). */
export function verifiedSession(
  jwt: string,
  claims: CrossmintJwtPayload,
  refreshSecret: string | undefined,
): CrossmintSession {
  return {
    jwt,
    claims,
    userId: claims.sub,
    refreshToken: refreshSecret ? { secret: refreshSecret } : undefined,
    refreshed: false,
  };
}

/** The session of refreshed material whose JWT verified. */
export function refreshedSession(
  { jwt, refreshToken, user }: CrossmintRefreshResult,
  claims: CrossmintJwtPayload,
): RefreshedCrossmintSession {
  return { jwt, refreshToken, userId: claims.sub, claims, user, refreshed: true };
}

/** What the guard and the interceptor put on `request.user`. */
export function toAuthUser({ userId, jwt, claims }: CrossmintSession): CrossmintAuthUser {
  return { userId, jwt, claims };
}
