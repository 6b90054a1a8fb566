import { randomBytes } from 'node:crypto';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';

/**
 * Files Parlance keeps in the data directory (signing secret, admin token, CA and certificates).
 * Several processes may start on one directory at once, and a crash must never leave a half-written
 * key under its real name: content is written in full and synced to a private temporary file, then
 * published with link(2) (exclusive: EEXIST means another process won, and its file is used) or
 * rename(2) (replacement).
 */

export function isErrno(err: unknown, code: string): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === code;
}

export async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await readFile(file);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    throw err;
  }
}

export async function readTextIfExists(file: string): Promise<string | undefined> {
  return (await readIfExists(file))?.toString('utf8');
}

async function writeTemp(file: string, data: string | Uint8Array, mode: number): Promise<string> {
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fh = await open(tmp, 'wx', mode);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return tmp;
}

/** True if our content became the file; false if another process published one first. */
export async function publishExclusively(file: string, data: string | Uint8Array, mode: number): Promise<boolean> {
  const tmp = await writeTemp(file, data, mode);
  try {
    await link(tmp, file);
    return true;
  } catch (err) {
    if (isErrno(err, 'EEXIST')) return false;
    throw err;
  } finally {
    await unlink(tmp).catch(() => undefined);
  }
}

/** Replaces the file atomically (readers see the old or the new content, never a mix). */
export async function replaceFile(file: string, data: string | Uint8Array, mode: number): Promise<void> {
  const tmp = await writeTemp(file, data, mode);
  try {
    await rename(tmp, file);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
