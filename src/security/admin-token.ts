import { randomBytes } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { publishExclusively, readTextIfExists } from './data-files.js';

export const ADMIN_TOKEN_FILE = 'admin-token';

/**
 * The control plane's bearer token: the configured one, else one generated on first start and kept
 * (mode 0600) in the data directory so the CLI on the same machine can read it.
 */
export async function loadOrCreateAdminToken(dataDir: string, configured: string | undefined): Promise<string> {
  if (configured !== undefined) return configured;
  const file = join(dataDir, ADMIN_TOKEN_FILE);
  const existing = (await readTextIfExists(file))?.trim();
  if (existing !== undefined && existing.length >= 16) return existing;
  await mkdir(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  if (await publishExclusively(file, `${token}\n`, 0o600)) return token;
  // Another process created it first: use theirs.
  const winner = (await readTextIfExists(file))?.trim();
  if (winner === undefined || winner.length < 16) throw new Error(`${file} does not hold an admin token (16 characters or more); delete it to have one generated`);
  return winner;
}
