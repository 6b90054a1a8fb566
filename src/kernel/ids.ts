import { randomBytes, randomUUID } from 'node:crypto';

/** 32 upper-case hex characters, the shape the Speech SDK uses for connection and request ids. */
export function newHexId(): string {
  return randomBytes(16).toString('hex').toUpperCase();
}

export function newUuid(): string {
  return randomUUID();
}
