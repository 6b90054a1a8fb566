import { createHash, timingSafeEqual } from 'node:crypto';

/** SHA-256 hex digest, used to index secrets without storing an index over the secret itself. */
export function secretDigest(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** Constant-time comparison: both sides are hashed first so neither content nor length leaks through timing. */
export function secretsEqual(a: string, b: string): boolean {
  const da = createHash('sha256').update(a, 'utf8').digest();
  const db = createHash('sha256').update(b, 'utf8').digest();
  return timingSafeEqual(da, db);
}
