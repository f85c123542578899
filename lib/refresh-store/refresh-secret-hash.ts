import { createHmac, hkdfSync } from 'node:crypto';

const HKDF_INFO = 'nestjs-crossmint-auth/refresh-secret-hash/v1';

/**
 * The key refresh secrets are hashed with in a shared store, derived (HKDF-SHA256) from the module's API key:
 * the same on every instance of the app, with nothing to configure, and not the API key itself.
 */
export function deriveRefreshSecretHashKey(apiKey: string): Buffer {
  return Buffer.from(hkdfSync('sha256', apiKey, '', HKDF_INFO, 32));
}

/**
 * The name a refresh secret is known by in caches and stores: an HMAC-SHA256 under `key`, never the secret
 * itself, and not something whoever knows (or guesses) the secret can compute without the key.
 */
export function hashRefreshSecret(secret: string, key: Buffer): string {
  return createHmac('sha256', key).update(secret).digest('base64url');
}
