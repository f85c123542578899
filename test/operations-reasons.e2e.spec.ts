import { describe, expect, it } from '@jest/globals';
import { CrossmintAuthenticationError, CrossmintAuthReason } from '../lib/index.js';
import { nowSec } from '../lib/testing/emulator.utils.js';
import { JWT_COOKIE, REFRESH_COOKIE } from './support/cookies.js';
import { useEmulatorApps } from './support/emulator-apps.js';
import { request } from './support/http.js';

/**
 * "Why was I refused?": each refusal is logged at debug with its reason code and what was at fault (the audience,
 * the key id, the algorithm), never the token; refreshed JWTs that keep failing on `aud` are warned about once.
 */
describe('operations: refusal reasons in the logs', () => {
  const suite = useEmulatorApps({
    apps: (emulator) => ({ app: { moduleOptions: { ...emulator.moduleOptions(), timeoutMs: 1000 } } }),
    logs: 'clear',
  });

  const claims = (extra: Record<string, unknown> = {}) => ({
    sub: 'user-reasons',
    aud: suite.emulator.projectId,
    iat: nowSec(),
    exp: nowSec() + 300,
    ...extra,
  });
  /** Lines at `level`, without the logger's context. */
  const lines = (level: string) =>
    suite.logs.entries
      .filter((entry) => entry.level === level)
      .map((entry) => entry.text.replace(/ CrossmintAuth$/, ''));
  const debugLines = () => lines('debug');

  const cases: Array<[string, () => Promise<string>, string]> = [
    [
      'wrong audience',
      () => suite.emulator.mintJwt({ audience: 'project-of-someone-else' }),
      `JWT refused: wrong_audience (expected "${'PROJECT'}", got "project-of-someone-else")`,
    ],
    ['expired', () => suite.emulator.mintJwt({ iat: nowSec() - 600, ttlSec: 60 }), 'JWT refused: expired'],
    [
      'unknown kid',
      () => suite.emulator.signJwt(claims(), { key: 'foreign', kid: 'kid-nobody-published' }),
      'JWT refused: unknown_key (kid "kid-nobody-published")',
    ],
    [
      'bad signature',
      () => suite.emulator.signJwt(claims(), { key: 'foreign', kid: suite.emulator.jwks().keys[0].kid as string }),
      'JWT refused: bad_signature',
    ],
    [
      'algorithm',
      () => suite.emulator.signJwt(claims(), { alg: 'HS256' }),
      'JWT refused: algorithm_not_allowed (alg "HS256")',
    ],
    ['missing sub', () => suite.emulator.signJwt(claims({ sub: undefined })), 'JWT refused: missing_claims'],
    ['not a JWS', async () => 'not.a-jwt', 'JWT refused: malformed_credentials'],
  ];

  it.each(cases)('%s: 401, and the reason at debug without the token', async (_name, token, expected) => {
    const jwt = await token();
    const response = await request(`${suite.app.url}/protected`, { cookies: { [JWT_COOKIE]: jwt } });

    expect(response.status).toBe(401);
    const wanted = expected.replace('PROJECT', suite.emulator.projectId);
    expect(debugLines()).toContain(wanted);
    expect(debugLines()).toContain('No session (guard): ' + wanted.split(' ')[2]);
    expect(suite.logs.text()).not.toContain(jwt);
  });

  it('no credentials: the reason at debug', async () => {
    expect((await request(`${suite.app.url}/protected`)).status).toBe(401);
    expect(debugLines()).toContain('No session (guard): no_credentials');
  });

  it('the error carries the reason, stable and exported, and the response body does not', async () => {
    const jwt = await suite.emulator.mintJwt({ audience: 'project-of-someone-else' });
    const response = await request(`${suite.app.url}/protected`, { headers: { authorization: `Bearer ${jwt}` } });

    expect(response.status).toBe(401);
    expect(response.text).not.toContain('wrong_audience');
    expect(new CrossmintAuthenticationError().reason).toBe(CrossmintAuthReason.NoCredentials);
    expect(CrossmintAuthReason.WrongAudience).toBe('wrong_audience');
  });

  it('refreshed JWTs that keep failing on aud: 503 each time, one warning naming the expected and the got audience', async () => {
    const foreignAud = 'project-the-api-key-is-not-of';
    for (let attempt = 0; attempt < 5; attempt++) {
      const { refreshToken, userId } = await suite.emulator.createSession();
      suite.emulator.answerNextRefresh({
        jwt: await suite.emulator.mintJwt({ sub: userId, audience: foreignAud }),
        userId,
      });
      const response = await request(`${suite.app.url}/protected`, {
        cookies: { [REFRESH_COOKIE]: refreshToken.secret },
      });
      expect(response.status).toBe(503);
    }

    const warnings = lines('warn');
    expect(warnings.filter((text) => text.includes('JWT that does not verify: wrong_audience'))).toHaveLength(5);
    const once = warnings.filter((text) => text.includes('keep failing on aud'));
    expect(once).toHaveLength(1);
    expect(once[0]).toContain(`expected "${suite.emulator.projectId}", got "${foreignAud}"`);
    expect(once[0]).toContain('configuration mistake, not an outage');
  });
});
