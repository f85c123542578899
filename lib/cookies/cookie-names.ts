import { DEFAULT_JWT_COOKIE, DEFAULT_REFRESH_COOKIE } from '../crossmint-auth.constants.js';

/** The names newer browser SDKs write: the default names with the project id appended. */
export function projectScopedCookieNames(projectId: string): { jwt: string; refresh: string } {
  return { jwt: `${DEFAULT_JWT_COOKIE}-${projectId}`, refresh: `${DEFAULT_REFRESH_COOKIE}-${projectId}` };
}

/**
 * A `__Host-` or `__Secure-` name, spelled so: browsers accept such a cookie only from a secure origin (older ones
 * only in this exact case), so a plain-http page cannot plant it, and for `__Host-` no sibling subdomain either.
 */
export function isPrefixedCookieName(name: string): boolean {
  return name.startsWith('__Host-') || name.startsWith('__Secure-');
}
