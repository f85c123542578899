import { describe, expect, it } from '@jest/globals';
import { parseCrossmintApiKey } from '../../lib/index.js';
import { decodeBase58, encodeBase58 } from '../../lib/utils/base58.js';

const payload = (text: string) => encodeBase58(new TextEncoder().encode(text));

describe('parseCrossmintApiKey', () => {
  it.each([
    ['production', 'production'],
    ['staging', 'staging'],
    ['development', 'development'],
  ])('reads the %s environment and the project id', (env, expected) => {
    const key = `sk_${env}_${payload('5f2c1a0e-93b1-4f6b-9a11-2d6ad1e0b7aa.abcdef:signature')}`;
    expect(parseCrossmintApiKey(key)).toEqual({
      environment: expected,
      projectId: '5f2c1a0e-93b1-4f6b-9a11-2d6ad1e0b7aa',
    });
  });

  it('accepts a key whose payload does not decode, without a project id', () => {
    expect(parseCrossmintApiKey('sk_staging_0OIl')).toEqual({ environment: 'staging', projectId: undefined });
    expect(parseCrossmintApiKey(`sk_staging_${payload('no-separators')}`)).toEqual({
      environment: 'staging',
      projectId: undefined,
    });
  });

  it.each([
    ['ck_production_abc', /client key/],
    ['sk_live_abc', /sk_live\/sk_test/],
    ['sk_test_abc', /sk_live\/sk_test/],
    ['sk_preview_abc', /unknown environment/],
    ['sk_production_', /not a Crossmint server key/],
    ['sk_production', /not a Crossmint server key/],
    ['pk_production_abc', /not a Crossmint server key/],
    ['sk_production_a_b', /not a Crossmint server key/],
    ['', /not a Crossmint server key/],
  ])('refuses %j with a message that says what to do', (key, message) => {
    expect(() => parseCrossmintApiKey(key)).toThrow(message);
  });

  it('never puts the key in the message', () => {
    const secret = 'ThisIsTheSecretPart';
    for (const key of [`ck_production_${secret}`, `sk_live_${secret}`, `sk_nope_${secret}`, `xx_${secret}`]) {
      expect(() => parseCrossmintApiKey(key)).toThrow();
      try {
        parseCrossmintApiKey(key);
      } catch (error) {
        expect((error as Error).message).not.toContain(secret);
      }
    }
  });
});

describe('base58', () => {
  it('round-trips, leading zero bytes included', () => {
    for (const bytes of [
      new Uint8Array([]),
      new Uint8Array([0, 0, 1, 2, 255]),
      new TextEncoder().encode('project.rest:sig'),
    ]) {
      expect(decodeBase58(encodeBase58(bytes))).toEqual(bytes);
    }
  });

  it('refuses characters outside the alphabet', () => {
    expect(decodeBase58('0OIl')).toBeUndefined();
  });
});
