import { beforeAll, describe, expect, it } from '@jest/globals';
import { CrossmintJwtVerifier } from '../lib/jwt/crossmint-jwt-verifier.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps, type EmulatorApps } from './support/emulator-apps.js';
import { isCleared, request } from './support/http.js';
import { PLATFORM_VARIANTS } from './support/test-app.js';

/**
 * One JWT, many spellings (SECURITY.md). Node's base64url decoding ignores the unused low bits of a segment's
 * last character, so a token had up to 16 spellings per segment that all verified, each its own cache entry
 * and its own `request.user.jwt`. Only the canonical spelling is accepted. An ES256 signature (r, s) has one
 * more valid form, its mirror (r, n - s): real signers emit both, so both are accepted and share one entry.
 */

/** The P-256 group order n. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const BASE64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

const segmentsOf = (token: string) => token.split('.');

function sOf(token: string): bigint {
  return BigInt(`0x${Buffer.from(segmentsOf(token)[2], 'base64url').subarray(32).toString('hex')}`);
}

const isHighS = (token: string) => sOf(token) > P256_ORDER / 2n;

/** The same ES256 token with the other valid signature: r || s becomes r || (n - s). */
function mirrorOf(token: string): string {
  const [header, payload, signature] = segmentsOf(token);
  const bytes = Buffer.from(signature, 'base64url');
  Buffer.from((P256_ORDER - sOf(token)).toString(16).padStart(64, '0'), 'hex').copy(bytes, 32);
  return `${header}.${payload}.${bytes.toString('base64url')}`;
}

/** Every other spelling of segment `index`: a last character that differs but decodes to the same bytes. */
function trailingBitVariants(token: string, index: number): string[] {
  const segments = segmentsOf(token);
  const segment = segments[index];
  const bytes = Buffer.from(segment, 'base64url');
  const variants: string[] = [];
  for (const char of BASE64URL) {
    const variant = segment.slice(0, -1) + char;
    if (variant === segment || !Buffer.from(variant, 'base64url').equals(bytes)) continue;
    const spelled = [...segments];
    spelled[index] = variant;
    variants.push(spelled.join('.'));
  }
  return variants;
}

/** Segment lengths 2 and 3 mod 4 leave 4 and 2 unused bits: 15 and 3 other spellings; 0 mod 4 leaves none. */
const OTHER_SPELLINGS: Record<number, number> = { 0: 0, 2: 15, 3: 3 };

/** The app's verifier, once the key set is fetched: a token verified while the keys change is not cached. */
async function warmVerifier({ app, emulator }: EmulatorApps<'app'>): Promise<CrossmintJwtVerifier> {
  expect(
    (await request(`${app.url}/protected`, { headers: { authorization: `Bearer ${await emulator.mintJwt()}` } }))
      .status,
  ).toBe(200);
  return app.app.get(CrossmintJwtVerifier);
}

describe.each(PLATFORM_VARIANTS)(
  'security: both forms of an ES256 signature on $name',
  ({ platform, cookiePlugin }) => {
    const suite = useEmulatorApps({
      apps: (emulator) => ({ app: { platform, cookiePlugin, moduleOptions: emulator.moduleOptions() } }),
      logs: 'no-errors',
    });

    it.each(['low', 'high'] as const)(
      'accepts a %s-S token as minted and its mirror, by cookie and by Bearer, whichever comes first',
      async (form) => {
        for (const mirrorFirst of [false, true]) {
          const sub = suite.emulator.createUser().id;
          const genuine = await suite.emulator.mintJwt({ sub, ecdsaS: form });
          const mirror = mirrorOf(genuine);
          expect(isHighS(genuine)).toBe(form === 'high');
          expect(isHighS(mirror)).toBe(form !== 'high');
          for (const token of mirrorFirst ? [mirror, genuine] : [genuine, mirror]) {
            const byCookie = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: token } });
            expect(byCookie.status).toBe(200);
            expect(byCookie.body).toEqual({ userId: sub, sameUser: true, sub, hasJwt: true });
            const byBearer = await request(`${suite.app.url}/protected`, {
              headers: { authorization: `Bearer ${token}` },
            });
            expect(byBearer.status).toBe(200);
            expect(byBearer.body.userId).toBe(sub);
          }
        }
      },
    );
  },
);

describe('security: the emulator signs ES256 like a real signer', () => {
  const suite = useEmulatorApps({ logs: 'no-errors' });

  it('mints low-S and high-S signatures by default, and one form on request', async () => {
    const natural = await Promise.all(Array.from({ length: 64 }, () => suite.emulator.mintJwt()));
    // All 64 in one form by chance: 2^-63.
    expect(new Set(natural.map(isHighS))).toEqual(new Set([false, true]));
    for (const form of ['low', 'high'] as const) {
      const claims = { sub: 'user-s', aud: suite.emulator.projectId, exp: nowSec() + 60 };
      const tokens = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          i % 2 ? suite.emulator.mintJwt({ ecdsaS: form }) : suite.emulator.signJwt(claims, { ecdsaS: form }),
        ),
      );
      expect(tokens.every((token) => isHighS(token) === (form === 'high'))).toBe(true);
    }
  });
});

describe('security: an ES256 token and its mirror share one verified-token cache entry', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({ app: { moduleOptions: { ...emulator.moduleOptions(), verifiedTokenCacheSize: 1 } } }),
    logs: 'no-errors',
  });
  let verifier: CrossmintJwtVerifier;
  beforeAll(async () => {
    verifier = await warmVerifier(suite);
  });

  it.each(['low', 'high'] as const)(
    'serves the mirror of a verified %s-S token from its entry, and alternating the two never evicts it',
    async (form) => {
      const sub = suite.emulator.createUser().id;
      const genuine = await suite.emulator.mintJwt({ sub, ecdsaS: form });
      const mirror = mirrorOf(genuine);
      expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: genuine } })).status).toBe(200);
      // Only the genuine token went through jose; the mirror is a hit all the same.
      expect(verifier.cached(mirror)).toMatchObject({ sub });

      // The cache holds one entry: two entries for one token would evict each other on every request.
      for (let round = 0; round < 3; round++) {
        for (const token of [mirror, genuine]) {
          const res = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
          expect(res.body).toEqual({ userId: sub, sameUser: true, sub, hasJwt: true });
          expect(verifier.cached(genuine)).toMatchObject({ sub });
          expect(verifier.cached(mirror)).toMatchObject({ sub });
        }
      }
    },
  );

  it('still compares the whole token on a hit: same signature, another payload is no hit', async () => {
    const genuine = await suite.emulator.mintJwt({ ecdsaS: 'low' });
    expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: genuine } })).status).toBe(200);
    const [header, payload] = segmentsOf(genuine);
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString());
    const tampered = `${header}.${Buffer.from(JSON.stringify({ ...claims, sub: 'user-admin' })).toString('base64url')}.${segmentsOf(mirrorOf(genuine))[2]}`;
    expect(verifier.cached(tampered)).toBeUndefined();
    expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: tampered } })).status).toBe(401);
  });
});

describe.each(['ES256', 'RS256'] as const)('security: one %s JWT, one spelling', (algorithm) => {
  const suite = useEmulatorApps({
    emulator: { algorithm },
    apps: (emulator) => ({ app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } } }),
    logs: 'no-errors',
  });
  let verifier: CrossmintJwtVerifier;
  beforeAll(async () => {
    verifier = await warmVerifier(suite);
  });

  /** A genuine token whose segment `index` is `rest` characters long mod 4 (an unused header field or claim sets it). */
  async function genuineWith(sub: string, index: number, rest: number): Promise<string> {
    for (let k = 0; k < 3; k++) {
      const pad = 'x'.repeat(k);
      const token =
        index === 0
          ? await suite.emulator.signJwt(
              { sub, aud: suite.emulator.projectId, iat: nowSec(), exp: nowSec() + 300 },
              { header: { pad } },
            )
          : await suite.emulator.mintJwt({ sub, extraClaims: { pad } });
      if (segmentsOf(token)[index].length % 4 === rest) return token;
    }
    throw new Error(`no segment ${index} of length ${rest} mod 4`);
  }

  /** Segment name, its length mod 4, its index. */
  const cases: Array<[string, number, number]> = [
    ['header', 2, 0],
    ['header', 3, 0],
    ['payload', 2, 1],
    ['payload', 3, 1],
    // 64 bytes (ES256) and 256 bytes (RS256): both 2 mod 4.
    ['signature', 2, 2],
  ];

  it.each(cases)(
    'refuses every trailing-bit variant of the %s (length %i mod 4): 401, no cookie issued, not rescued by the cached genuine token',
    async (_, rest, index) => {
      const sub = suite.emulator.createUser().id;
      const genuine = await genuineWith(sub, index, rest);
      const variants = trailingBitVariants(genuine, index);
      expect(variants).toHaveLength(OTHER_SPELLINGS[rest]);
      expect(
        (await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${genuine}` } })).status,
      ).toBe(200);

      for (const variant of variants) {
        const byCookie = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: variant } });
        expect(byCookie.status).toBe(401);
        expect(byCookie.body).toEqual({ statusCode: 401, message: 'Invalid or expired token', error: 'Unauthorized' });
        expect(Object.values(byCookie.cookies).every(isCleared)).toBe(true);
        const byBearer = await request(`${suite.app.url}/protected`, {
          headers: { authorization: `Bearer ${variant}` },
        });
        expect(byBearer.status).toBe(401);
        expect(byBearer.setCookies).toEqual([]);
        expect(verifier.cached(variant)).toBeUndefined();
      }
      expect(verifier.cached(genuine)).toMatchObject({ sub });
      expect(suite.emulator.calls('refresh')).toBe(0);
    },
  );

  it.each(cases)(
    'refreshes when a trailing-bit variant of the %s (length %i mod 4) comes with a refresh token',
    async (_, rest, index) => {
      const genuine = await genuineWith(suite.emulator.createUser().id, index, rest);
      expect((await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: genuine } })).status).toBe(200);
      const variants = trailingBitVariants(genuine, index);
      for (const variant of variants) {
        const session = await suite.emulator.createSession();
        const res = await request(`${suite.app.url}/protected`, {
          cookies: { [JWT_COOKIE]: variant, [REFRESH_COOKIE]: session.refreshToken.secret },
        });
        expect(res.status).toBe(200);
        expect(res.body.userId).toBe(session.userId);
        expect(res.cookies[JWT_COOKIE].value).not.toBe(variant);
        expect(res.cookies[REFRESH_COOKIE].value).not.toBe(session.refreshToken.secret);
      }
      expect(suite.emulator.calls('refresh')).toBe(variants.length);
    },
  );

  it.each([
    ['header', 0],
    ['payload', 1],
  ] as const)('refuses a %s of length 1 mod 4: a stray character that decodes to nothing', async (_, index) => {
    const genuine = await genuineWith(suite.emulator.createUser().id, index, 0);
    const segments = segmentsOf(genuine);
    segments[index] += 'A';
    const res = await request(`${suite.app.url}/protected`, {
      headers: { authorization: `Bearer ${segments.join('.')}` },
    });
    expect(res.status).toBe(401);
  });

  it(`accepts ${algorithm === 'ES256' ? '2 of the 32 spellings of a signature: the genuine one and its mirror' : '1 of the 16 spellings of a signature: the genuine one'}`, async () => {
    const genuine = await suite.emulator.mintJwt();
    const forms = algorithm === 'ES256' ? [genuine, mirrorOf(genuine)] : [genuine];
    const spellings = forms.flatMap((form) => [form, ...trailingBitVariants(form, 2)]);
    expect(spellings).toHaveLength(16 * forms.length);
    const accepted: string[] = [];
    for (const token of spellings) {
      const res = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${token}` } });
      expect([200, 401]).toContain(res.status);
      if (res.status === 200) accepted.push(token);
    }
    expect(accepted).toEqual(forms);
  });
});
