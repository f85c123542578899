import { describe, expect, it } from '@jest/globals';
import { parseRetryAfter } from '../../lib/api/retry-after.js';
import { MAX_RETRY_AFTER_SEC } from '../../lib/crossmint-auth.constants.js';

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-26T12:00:00Z');

  it.each([
    ['30', 30],
    [' 7 ', 7],
    ['0', 1],
    ['86400', MAX_RETRY_AFTER_SEC],
    ['Thu, 26 Nov 2026 12:01:00 GMT', 60],
    ['Thu, 26 Nov 2026 12:00:00 GMT', 1],
    ['Wed, 25 Nov 2026 12:00:00 GMT', 1],
    ['Fri, 27 Nov 2026 12:00:00 GMT', MAX_RETRY_AFTER_SEC],
  ])('reads %j as %d s', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([undefined, '', '  ', '-5', '1.5', '12abc', 'soon', 'Thu, 99 Nov 2026 99:99:99 GMT'])(
    'ignores %j',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );
});
