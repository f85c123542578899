import { createHash } from 'node:crypto';

/** The name a refresh secret is known by in caches and stores: never the secret itself. */
export function hashRefreshSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('base64url');
}
