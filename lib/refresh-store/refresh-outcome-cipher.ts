import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';
import { MAX_RETRY_AFTER_SEC } from '../crossmint-auth.constants.js';
import type { CrossmintRefreshResult } from '../interfaces/crossmint-session.interface.js';

/** What an elected refresher shares with the others: its result, or how it failed (and Crossmint's `Retry-After`). */
export type RefreshOutcome =
  | { ok: true; result: CrossmintRefreshResult }
  | { ok: false; error: 'unauthorized' }
  | { ok: false; error: 'unavailable'; retryAfterSec?: number };

const PREFIX = 'v1:';
const HKDF_INFO = 'nestjs-crossmint-auth/refresh-outcome/v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

/**
 * Encrypts an outcome with AES-256-GCM under a key derived (HKDF-SHA256) from the consumed refresh
 * secret, bound to `keyHash` as additional data: only a request that already holds the old secret can
 * read it, and it cannot be moved under another key.
 */
export function sealRefreshOutcome(secret: string, keyHash: string, outcome: RefreshOutcome): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', deriveKey(secret), iv);
  cipher.setAAD(Buffer.from(keyHash));
  const ciphertext = Buffer.concat([cipher.update(JSON.stringify(outcome), 'utf8'), cipher.final()]);
  return PREFIX + Buffer.concat([iv, cipher.getAuthTag(), ciphertext]).toString('base64url');
}

/** The outcome sealed by `sealRefreshOutcome`. Throws when the value was not sealed with this secret and key, or is malformed. */
export function openRefreshOutcome(secret: string, keyHash: string, sealed: string): RefreshOutcome {
  if (!sealed.startsWith(PREFIX)) throw new Error('not a sealed refresh outcome');
  const bytes = Buffer.from(sealed.slice(PREFIX.length), 'base64url');
  if (bytes.length <= IV_BYTES + TAG_BYTES) throw new Error('sealed refresh outcome too short');
  const decipher = createDecipheriv('aes-256-gcm', deriveKey(secret), bytes.subarray(0, IV_BYTES));
  decipher.setAAD(Buffer.from(keyHash));
  decipher.setAuthTag(bytes.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
  const plaintext = Buffer.concat([decipher.update(bytes.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]);
  const outcome: unknown = JSON.parse(plaintext.toString('utf8'));
  if (!isRefreshOutcome(outcome)) throw new Error('malformed refresh outcome');
  return outcome;
}

function deriveKey(secret: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, '', HKDF_INFO, 32));
}

function isRefreshOutcome(value: unknown): value is RefreshOutcome {
  if (!isObject(value)) return false;
  if (value.ok === false)
    return value.error === 'unauthorized' || (value.error === 'unavailable' && isRetryAfter(value.retryAfterSec));
  if (value.ok !== true || !isObject(value.result)) return false;
  const { jwt, refreshToken, user } = value.result;
  return (
    typeof jwt === 'string' &&
    isObject(refreshToken) &&
    typeof refreshToken.secret === 'string' &&
    typeof refreshToken.expiresAt === 'string' &&
    isObject(user) &&
    typeof user.id === 'string'
  );
}

function isRetryAfter(value: unknown): boolean {
  return (
    value === undefined ||
    (Number.isInteger(value) && (value as number) >= 1 && (value as number) <= MAX_RETRY_AFTER_SEC)
  );
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- narrowed field by field by the callers
function isObject(value: unknown): value is Record<string, any> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
