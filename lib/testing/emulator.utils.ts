import { randomBytes } from 'node:crypto';

export function randomHex(bytes: number): string {
  return randomBytes(bytes).toString('hex');
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}
