/**
 * Requests the guard (on an `@OptionalAuth()` route) or the interceptor let through signed out, so that
 * `@CurrentUser()` can tell a signed-out user from a route nobody checked. Signed-in requests are not added: they
 * carry `request.user`, and the hot path stays free of a weak-collection insert.
 */
const signedOutRequests = new WeakSet<object>();

export function markSignedOut(request: object): void {
  signedOutRequests.add(request);
}

export function isMarkedSignedOut(request: object): boolean {
  return signedOutRequests.has(request);
}
