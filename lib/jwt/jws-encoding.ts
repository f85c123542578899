// The base64url spellings of a JWS: one canonical spelling per segment, and the second valid ES256 signature.

/** The order n of P-256: an ES256 signature (r, s) and its mirror (r, n - s) both verify. */
const P256_ORDER = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/**
 * Whether a base64url segment is the one spelling of its bytes: the unused low bits of its last character are
 * zero (4 of them when its length is 2 mod 4, 2 when it is 3 mod 4), and no length is 1 mod 4. Node's decoding
 * ignores those bits: the other spellings of a signature would verify as other tokens.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const last = segment[segment.length - 1];
  switch (segment.length % 4) {
    case 1:
      return false;
    case 2:
      return 'AQgw'.includes(last);
    case 3:
      return 'AEIMQUYcgkosw048'.includes(last);
    default:
      return true;
  }
}

/** The other signature of the same ES256 token: r || s becomes r || (n - s). */
export function mirrorEs256Signature(signature: string): string {
  const bytes = Buffer.from(signature, 'base64url');
  const s = BigInt(`0x${bytes.subarray(32).toString('hex')}`);
  Buffer.from((P256_ORDER - s).toString(16).padStart(64, '0'), 'hex').copy(bytes, 32);
  return bytes.toString('base64url');
}
