import { createHmac, sign } from 'node:crypto';
import type { SigningKey } from './emulator-key-ring.js';
import type { EcdsaSForm } from './emulator.types.js';

/** The P-256 group order n. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * A compact JWS of `claims` under `header`, signed by `key`. The header's `alg` picks the kind of
 * signature: `none` leaves it empty and `HS*` keys an HMAC with the public PEM (algorithm confusion);
 * any other `alg` is only a label, the signature is made with the key's own algorithm.
 */
export function signCompact(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  key: SigningKey,
  ecdsaS?: EcdsaSForm,
): string {
  const input = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const alg = typeof header.alg === 'string' ? header.alg : '';
  let signature: string;
  if (alg.toLowerCase() === 'none') {
    signature = '';
  } else if (/^HS(256|384|512)$/.test(alg)) {
    signature = createHmac(`sha${alg.slice(2)}`, key.publicPem)
      .update(input)
      .digest('base64url');
  } else {
    const signingKey =
      key.alg === 'ES256' ? { key: key.privateKey, dsaEncoding: 'ieee-p1363' as const } : key.privateKey;
    const raw = sign('sha256', Buffer.from(input), signingKey);
    signature = (key.alg === 'ES256' && ecdsaS ? withEcdsaS(raw, ecdsaS) : raw).toString('base64url');
  }
  return `${input}.${signature}`;
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

/** An ES256 signature r || s (IEEE P1363, 64 bytes) in the requested form: s as it is, or n - s. */
function withEcdsaS(signature: Buffer, form: EcdsaSForm): Buffer {
  const s = BigInt(`0x${signature.subarray(32).toString('hex')}`);
  if (s > P256_ORDER / 2n === (form === 'high')) return signature;
  return Buffer.concat([
    signature.subarray(0, 32),
    Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex'),
  ]);
}
