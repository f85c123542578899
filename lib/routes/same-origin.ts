import type { RequestLike } from '../interfaces/http-message.interface.js';
import { requestHeader, requestHost } from '../platform/http-message.js';

/**
 * The CSRF check of the refresh and logout routes. The browser SDK's logout POST has no body and no content
 * type, so a JSON content-type check cannot defend it; the browser's own headers can. The `Origin` decides
 * when there is one (`null` only with `Sec-Fetch-Site: same-origin`), then `Sec-Fetch-Site`. A browser that
 * sends neither (an older one) still sends a `Referer`, which must then be the page's own host or an allowed
 * origin. A request with none of the three is refused: a cross-site page can suppress its Referer, so a missing
 * one proves nothing.
 */
export function isSameOriginRequest(request: RequestLike, allowedOrigins: readonly string[]): boolean {
  const origin = requestHeader(request, 'origin');
  const fetchSite = requestHeader(request, 'sec-fetch-site');
  // A page with `Referrer-Policy: no-referrer` sends `Origin: null` even to its own origin; the browser's own
  // `Sec-Fetch-Site` then still tells.
  if (origin === 'null' && fetchSite === 'same-origin') return true;
  if (origin !== undefined) return isOwnOrAllowed(origin, request, allowedOrigins);
  if (fetchSite !== undefined) return fetchSite === 'same-origin' || fetchSite === 'none';
  const referer = requestHeader(request, 'referer');
  return referer !== undefined && isOwnOrAllowed(referer, request, allowedOrigins);
}

/** An `Origin` or `Referer` on the request's own host, or of an allowed origin. `null` and non-URLs are not. */
function isOwnOrAllowed(value: string, request: RequestLike, allowedOrigins: readonly string[]): boolean {
  if (value === 'null') return false;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  // The raw value too: a browser extension's origin reads `null` once parsed.
  if (allowedOrigins.includes(value) || (url.origin !== 'null' && allowedOrigins.includes(url.origin))) return true;
  return url.host !== '' && url.host === requestHost(request);
}
