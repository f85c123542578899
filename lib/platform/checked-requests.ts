/** Requests a guard or interceptor of the module has looked at, so `@CurrentUser()` can tell "signed out" from "unchecked". */
const checkedRequests = new WeakSet<object>();

export function markRequestChecked(request: object): void {
  checkedRequests.add(request);
}

export function isRequestChecked(request: object): boolean {
  return checkedRequests.has(request);
}
