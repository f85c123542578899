import { generateKeyPair, type KeyObject } from 'node:crypto';
import { exportJWK, type JWK } from 'jose';
import { randomHex } from './emulator.utils.js';

export type SigningAlgorithm = 'ES256' | 'RS256';

export const SIGNING_ALGORITHMS: readonly SigningAlgorithm[] = ['ES256', 'RS256'];

export interface SigningKey {
  kid: string;
  alg: SigningAlgorithm;
  privateKey: KeyObject;
  /** The HMAC secret of an algorithm-confusion token. */
  publicPem: string;
  jwk: JWK;
}

/**
 * The emulator's signing keys: the newest signs, all are published in the JWKS. A foreign key per
 * algorithm, never published, stands in for an attacker's key.
 */
export class EmulatorKeyRing {
  private keys: SigningKey[] = [];
  // Serialised once per rotation rather than on every JWKS request.
  private published = '{"keys":[]}';
  private readonly foreignKeys = new Map<SigningAlgorithm, Promise<SigningKey>>();

  current(): SigningKey {
    return this.keys[this.keys.length - 1];
  }

  jwks(): { keys: JWK[] } {
    return { keys: this.keys.map((key) => ({ ...key.jwk })) };
  }

  /** The JWKS response body. */
  jwksBody(): string {
    return this.published;
  }

  /** Makes a new current key; old public keys stay published unless `keepOld: false`. */
  async rotate(options: { keepOld?: boolean; algorithm?: SigningAlgorithm }): Promise<void> {
    const algorithm = options.algorithm ?? this.keys[this.keys.length - 1]?.alg ?? 'ES256';
    const key = await createSigningKey(algorithm);
    this.keys = options.keepOld === false ? [key] : [...this.keys, key];
    this.published = JSON.stringify(this.jwks());
  }

  /** Made on first use and kept, so every foreign token of one algorithm shares a key. */
  foreign(alg: SigningAlgorithm): Promise<SigningKey> {
    let key = this.foreignKeys.get(alg);
    if (!key) {
      key = createSigningKey(alg);
      this.foreignKeys.set(alg, key);
    }
    return key;
  }
}

function createSigningKey(alg: SigningAlgorithm): Promise<SigningKey> {
  return new Promise<{ publicKey: KeyObject; privateKey: KeyObject }>((resolve, reject) => {
    const done = (error: Error | null, publicKey: KeyObject, privateKey: KeyObject) =>
      error ? reject(error) : resolve({ publicKey, privateKey });
    if (alg === 'ES256') generateKeyPair('ec', { namedCurve: 'P-256' }, done);
    else generateKeyPair('rsa', { modulusLength: 2048 }, done);
  }).then(async ({ publicKey, privateKey }) => {
    const kid = `emulator-${alg.toLowerCase()}-${randomHex(8)}`;
    const jwk: JWK = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    const publicPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    return { kid, alg, privateKey, publicPem, jwk };
  });
}
