/** A fetch that speaks in cookies, for asserting what the module sends back. */
export interface TestResponse {
  status: number;
  headers: Headers;
  body: any;
  text: string;
  setCookies: string[];
  /** Set-Cookie by cookie name (the last one wins). */
  cookies: Record<string, ParsedSetCookie>;
}

export interface ParsedSetCookie {
  value: string;
  attributes: Record<string, string | true>;
  raw: string;
}

export async function request(
  url: string,
  init: { method?: string; cookies?: Record<string, string>; headers?: Record<string, string>; body?: string } = {},
): Promise<TestResponse> {
  const headers: Record<string, string> = { ...init.headers };
  if (init.cookies) headers.cookie = cookieHeader(init.cookies);
  const response = await fetch(url, { method: init.method ?? 'GET', headers, body: init.body });
  const text = await response.text();
  let body: any;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  const setCookies = response.headers.getSetCookie();
  return {
    status: response.status,
    headers: response.headers,
    body,
    text,
    setCookies,
    cookies: parseSetCookies(setCookies),
  };
}

export function cookieHeader(cookies: Record<string, string>): string {
  return Object.entries(cookies)
    .map(([name, value]) => `${name}=${value}`)
    .join('; ');
}

export function parseSetCookies(setCookies: string[]): Record<string, ParsedSetCookie> {
  const out: Record<string, ParsedSetCookie> = {};
  for (const raw of setCookies) {
    const [pair, ...attrs] = raw.split(';').map((part) => part.trim());
    const eq = pair.indexOf('=');
    const attributes: Record<string, string | true> = {};
    for (const attr of attrs) {
      const i = attr.indexOf('=');
      if (i === -1) attributes[attr.toLowerCase()] = true;
      else attributes[attr.slice(0, i).toLowerCase()] = attr.slice(i + 1);
    }
    out[pair.slice(0, eq)] = { value: decodeURIComponent(pair.slice(eq + 1)), attributes, raw };
  }
  return out;
}

/** True when the Set-Cookie expires the cookie. */
export function isCleared(cookie: ParsedSetCookie | undefined): boolean {
  return (
    !!cookie &&
    cookie.value === '' &&
    (cookie.attributes['max-age'] === '0' || String(cookie.attributes.expires).includes('1970'))
  );
}
