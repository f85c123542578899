import { describe, expect, it } from '@jest/globals';
import { parse } from 'cookie';
import fc from 'fast-check';
import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import { CrossmintAuthCookies } from '../lib/cookies/crossmint-auth-cookies.js';
import type { CrossmintAuthModuleOptions, ResponseLike } from '../lib/index.js';
import { readCookies } from '../lib/cookies/read-cookies.js';
import { resolveCrossmintAuthOptions } from '../lib/options/resolve-crossmint-auth-options.js';
import { encodeBase58 } from '../lib/utils/base58.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { parseSetCookies } from './support/http.js';

/**
 * Property tests for reading credentials from requests and writing the auth cookies, on
 * `CrossmintAuthCookies` itself: its input is a request's headers, its output a response's Set-Cookie.
 */
const PROJECT_ID = 'property-project';
const API_KEY = `sk_development_${encodeBase58(new TextEncoder().encode(`${PROJECT_ID}.property:signature`))}`;
const AUTH_NAMES = [JWT_COOKIE, REFRESH_COOKIE, `${JWT_COOKIE}-${PROJECT_ID}`, `${REFRESH_COOKIE}-${PROJECT_ID}`];
const FORBIDDEN_IN_VALUES = /[\s;,]/;

function authCookies(options: Partial<CrossmintAuthModuleOptions> = {}): CrossmintAuthCookies {
  return new CrossmintAuthCookies(resolveCrossmintAuthOptions({ apiKey: API_KEY, ...options }));
}

/** A real Node response (never sent) whose request carries `headers`. */
function responseFor(headers: Record<string, string> = {}): ServerResponse & ResponseLike {
  const req = new IncomingMessage(new Socket());
  req.headers = { host: 'app.example.com', ...headers };
  return new ServerResponse(req) as ServerResponse & ResponseLike;
}

function setCookiesOf(res: ServerResponse): string[] {
  const value = res.getHeader('set-cookie');
  return value === undefined ? [] : Array.isArray(value) ? value.map(String) : [String(value)];
}

// ---- arbitraries ----

const anyText = fc.string({ unit: 'binary', maxLength: 300 });
const nastyFragment = fc.constantFrom(
  ';',
  ',',
  '=',
  ' ',
  '\t',
  '\r',
  '\n',
  '\r\n',
  '\0',
  '"',
  '%',
  '%3B',
  '%2C',
  '%0D',
  '%0A',
  '%0D%0A',
  '%20',
  '%00',
  '%E0%A4',
  '%ZZ',
  '%%',
  '\\',
);
const nastyText = fc
  .array(fc.oneof(nastyFragment, fc.string({ maxLength: 8 }), anyText), { maxLength: 12 })
  .map((parts) => parts.join(''));
const cookieName = fc.oneof(
  fc.constantFrom(...AUTH_NAMES, ` ${JWT_COOKIE}`, `${JWT_COOKIE} `, JWT_COOKIE.toUpperCase()),
  fc.string({ maxLength: 20 }),
);
const cookiePair = fc
  .tuple(cookieName, fc.oneof(nastyText, fc.string({ maxLength: 40 })))
  .map(([name, value]) => `${name}=${value}`);
const cookieHeaderText = fc.oneof(
  anyText,
  fc
    .array(cookiePair, { maxLength: 10 })
    .chain((pairs) => fc.constantFrom('; ', ';', ', ', ';;').map((sep) => pairs.join(sep))),
);
/** RFC 6265's cookie-name (a token): the only names the module reads, its own and validated custom ones. */
const COOKIE_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** A header and the name of one of its cookies, so that most lookups find something. */
const headerWithName = fc
  .array(fc.tuple(cookieName, fc.oneof(nastyText, fc.string({ maxLength: 40 }))), { minLength: 1, maxLength: 8 })
  .chain((pairs) =>
    fc.tuple(
      fc
        .constantFrom('; ', ';', ', ', ';;', ' ; ', '')
        .map((sep) => pairs.map(([name, value]) => `${name}=${value}`).join(sep)),
      fc.constantFrom(...pairs.map(([name]) => name.trim()).filter((name) => COOKIE_NAME.test(name)), JWT_COOKIE),
    ),
  );
const headerValue = fc.oneof(fc.constant(undefined), cookieHeaderText, fc.array(cookieHeaderText, { maxLength: 3 }));
const authorization = fc.oneof(
  fc.constant(undefined),
  anyText,
  fc
    .tuple(
      fc.constantFrom('Bearer', 'bearer', 'BEARER', ' Bearer', 'Bearer\t', 'Basic', 'Bearerx'),
      fc.constantFrom('', ' ', '  ', '\t'),
      nastyText,
    )
    .map((parts) => parts.join('')),
);

const base64url = fc.string({
  unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'),
  minLength: 1,
  maxLength: 200,
});
const jwtShaped = fc.tuple(base64url, base64url, base64url).map((parts) => parts.join('.'));
/** What `CrossmintApi` accepts as a refresh secret: RFC 6265 cookie-octets. */
const cookieOctet = fc.constantFrom(
  ...[...Array(0x7f - 0x21).keys()].map((i) => String.fromCharCode(0x21 + i)).filter((c) => !'",;\\'.includes(c)),
);
const refreshSecret = fc.string({ unit: cookieOctet, minLength: 1, maxLength: 300 });
const expiresAt = fc
  .date({ min: new Date('2000-01-01'), max: new Date('2200-01-01'), noInvalidDate: true })
  .map((date) => date.toISOString());
const otherSetCookie = fc
  .tuple(
    fc.stringMatching(/^[a-z][a-z0-9_]{0,15}$/),
    fc.stringMatching(/^[A-Za-z0-9]{0,20}$/),
    fc.constantFrom('', '; Path=/', '; HttpOnly', '; Max-Age=60; Secure'),
  )
  .filter(([name]) => !AUTH_NAMES.some((auth) => auth === name))
  .map(([name, value, attrs]) => `${name}=${value}${attrs}`);

describe('CrossmintAuthCookies (properties)', () => {
  const cookies = authCookies();

  it('reads a cookie as cookie.parse does: same splitting, trimming and first-wins rule', () => {
    const keepEncoded = { decode: (value: string) => value };
    fc.assert(
      fc.property(
        fc.oneof(
          headerWithName,
          fc.tuple(
            cookieHeaderText,
            cookieName.filter((name) => COOKIE_NAME.test(name)),
          ),
        ),
        ([header, name]) => {
          const parsed = parse(header, keepEncoded);
          // The name asked alone, and among the auth names (possibly twice): each answer is the same as parse's.
          const names = [name, ...AUTH_NAMES];
          expect(readCookies(header, [name])).toEqual([parsed[name]]);
          expect(readCookies(header, names)).toEqual(names.map((each) => parsed[each]));
        },
      ),
      { numRuns: 5000 },
    );
  });

  // A JWT may still hold such characters: the verifier refuses anything but a compact JWS (security-tokens).
  it('never throws reading credentials, and never yields a refresh secret with whitespace, ;, or ,', () => {
    fc.assert(
      fc.property(headerValue, authorization, (cookie, auth) => {
        const request = { headers: { cookie, authorization: auth } };
        const credentials = cookies.readCredentials(request);
        const refreshOnly = cookies.readCookieCredentials(request).refreshSecret;
        for (const value of [credentials.jwt, credentials.refreshSecret, refreshOnly]) {
          if (value === undefined) continue;
          expect(typeof value).toBe('string');
          expect(value.length).toBeGreaterThan(0);
        }
        for (const value of [credentials.refreshSecret, refreshOnly]) {
          if (value !== undefined) expect(value).not.toMatch(FORBIDDEN_IN_VALUES);
        }
        if (credentials.source === 'cookie') {
          expect((credentials.jwt ?? '').length).toBeLessThanOrEqual(8 * 1024);
          expect((credentials.refreshSecret ?? '').length).toBeLessThanOrEqual(4 * 1024);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('takes any Bearer header as the only credential, and cookies only without one', () => {
    fc.assert(
      fc.property(authorization, jwtShaped, (auth, jwt) => {
        const request = { headers: { cookie: `${JWT_COOKIE}=${jwt}`, authorization: auth } };
        const credentials = cookies.readCredentials(request);
        const isBearer = auth !== undefined && /^\s*bearer(\s|$)/i.test(auth);
        expect(credentials.source).toBe(isBearer ? 'bearer' : 'cookie');
        if (isBearer) expect(credentials.refreshSecret).toBeUndefined();
        else expect(credentials.jwt).toBe(jwt);
      }),
      { numRuns: 500 },
    );
  });

  it('reads back exactly the token of a well-formed Bearer header', () => {
    fc.assert(
      fc.property(jwtShaped, fc.constantFrom('Bearer ', 'bearer  ', 'BEARER\t'), (jwt, scheme) => {
        expect(cookies.readCredentials({ headers: { authorization: `${scheme}${jwt}` } })).toEqual({
          jwt,
          source: 'bearer',
        });
      }),
    );
  });

  it('ignores the Bearer header when acceptBearerToken is off', () => {
    const noBearer = authCookies({ acceptBearerToken: false });
    fc.assert(
      fc.property(authorization, (auth) => {
        expect(noBearer.readCredentials({ headers: { authorization: auth } }).source).toBe('cookie');
      }),
    );
  });

  it('round-trips: what write() sets, a browser sends back and readCredentials() reads unchanged', () => {
    fc.assert(
      fc.property(
        jwtShaped,
        refreshSecret,
        expiresAt,
        fc.array(otherSetCookie, { maxLength: 3 }),
        (jwt, secret, expires, others) => {
          const res = responseFor();
          cookies.write(res, { jwt, refreshToken: { secret, expiresAt: expires } });
          const written = setCookiesOf(res);
          expect(written).toHaveLength(2);
          for (const line of written) expect(line).not.toMatch(/[\r\n\0]/);

          // The browser sends name=value pairs, in any order, among its other cookies.
          const pairs = written.map((line) => line.slice(0, line.indexOf(';')));
          for (const pair of pairs) expect(pair.slice(pair.indexOf('=') + 1)).not.toMatch(FORBIDDEN_IN_VALUES);
          const header = [...others.map((other) => other.split(';')[0]), ...pairs.reverse()].join('; ');
          expect(cookies.readCredentials({ headers: { cookie: header } })).toEqual({
            jwt,
            refreshSecret: secret,
            source: 'cookie',
          });
          expect(parseSetCookies(written)[REFRESH_COOKIE].attributes.expires).toBe(new Date(expires).toUTCString());
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps every other Set-Cookie and writes exactly one per auth cookie, however often it writes', () => {
    fc.assert(
      fc.property(
        fc.array(otherSetCookie, { maxLength: 5 }),
        fc.integer({ min: 1, max: 3 }),
        jwtShaped,
        refreshSecret,
        (others, writes, jwt, secret) => {
          const res = responseFor();
          if (others.length) res.setHeader('Set-Cookie', others);
          for (let i = 0; i < writes; i++)
            cookies.write(res, { jwt: `${jwt}${i}`, refreshToken: { secret, expiresAt: '2100-01-01T00:00:00Z' } });
          const written = setCookiesOf(res);
          expect(written.slice(0, others.length)).toEqual(others);
          expect(written.filter((line) => line.startsWith(`${JWT_COOKIE}=`))).toEqual([
            expect.stringContaining(`${JWT_COOKIE}=${jwt}${writes - 1};`),
          ]);
          expect(written.filter((line) => line.startsWith(`${REFRESH_COOKIE}=`))).toHaveLength(1);
          expect(res.getHeader('cache-control')).toBe('private, no-store');
        },
      ),
    );
  });

  it('never throws clearing, and clears only auth cookies: the configured names and the scoped ones sent', () => {
    fc.assert(
      fc.property(cookieHeaderText, fc.array(otherSetCookie, { maxLength: 3 }), (cookie, others) => {
        const res = responseFor({ cookie });
        if (others.length) res.setHeader('Set-Cookie', others);
        cookies.clear(res);
        const written = setCookiesOf(res);
        expect(written.slice(0, others.length)).toEqual(others);
        const cleared = parseSetCookies(written.slice(others.length));
        expect(Object.keys(cleared)).toEqual(expect.arrayContaining([JWT_COOKIE, REFRESH_COOKIE]));
        for (const [name, entry] of Object.entries(cleared)) {
          expect(AUTH_NAMES).toContain(name);
          expect(entry.value).toBe('');
          expect(entry.attributes['max-age']).toBe('0');
          expect(entry.raw).not.toMatch(/[\r\n]/);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('accepts a custom cookie name only when it is a valid token, and then round-trips it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.stringMatching(/^[!#$%&'*+\-.^_`|~0-9A-Za-z]{1,30}$/), anyText),
        jwtShaped,
        refreshSecret,
        (name, jwt, secret) => {
          let custom: CrossmintAuthCookies;
          try {
            custom = authCookies({ cookies: { jwt: name } });
          } catch (error) {
            expect((error as Error).message).toMatch(/`cookies\.(jwt|refreshToken)`|`cookies`/);
            return;
          }
          const res = responseFor();
          custom.write(res, { jwt, refreshToken: { secret, expiresAt: '2100-01-01T00:00:00Z' } });
          const header = setCookiesOf(res)
            .map((line) => line.slice(0, line.indexOf(';')))
            .join('; ');
          expect(custom.readCredentials({ headers: { cookie: header } })).toEqual({
            jwt,
            refreshSecret: secret,
            source: 'cookie',
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
