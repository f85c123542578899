import { requestHeader, requestHost, type RequestLike } from '../cookies/http-message.js';

/**
 * The CSRF check of the refresh and logout routes. The browser SDK's logout POST has no body and no content
 * type, so a JSON content-type check cannot defend it; the browser's own `Origin` and `Sec-Fetch-Site`
 * headers can. A request from the page's own host or an allowed origin passes; a request with neither
 * header is not from a browser that could be tricked into sending it, and passes too.
 */
export function isSameOriginRequest(request: RequestLike, allowedOrigins: readonly string[]): boolean {
  const origin = requestHeader(request, 'origin');
  if (origin !== undefined && origin !== 'null') {
    if (allowedOrigins.includes(origin)) return true;
    try {
      return new URL(origin).host === requestHost(request);
    } catch {
      return false;
    }
  }
  if (origin === 'null') return false;
  const fetchSite = requestHeader(request, 'sec-fetch-site');
  return fetchSite === undefined || fetchSite === 'same-origin' || fetchSite === 'none';
}
