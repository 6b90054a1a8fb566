import { createHash, randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, unlink } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import type { BlobStore } from '../../domain/ports/blob-store.js';

const SEGMENT = /^[A-Za-z0-9._-]+$/;

export class BlobTooLargeError extends Error {
  override name = 'BlobTooLargeError';
}

/** BlobStore on the file system under `{dataDir}/blobs`; writes go to a temp file and are renamed in. */
export class FileBlobStore implements BlobStore {
  private readonly root: string;

  constructor(dataDir: string) {
    this.root = resolve(dataDir, 'blobs');
  }

  localPath(key: string): string {
    const parts = key.split('/');
    if (parts.length === 0 || parts.some((p) => !SEGMENT.test(p) || p === '.' || p === '..')) throw new Error(`invalid blob key '${key}'`);
    const full = join(this.root, ...parts);
    if (!full.startsWith(this.root + sep)) throw new Error(`invalid blob key '${key}'`);
    return full;
  }

  async put(key: string, data: AsyncIterable<Uint8Array> | Uint8Array, opts: { maxBytes?: number } = {}): Promise<{ size: number; sha256: string }> {
    const file = this.localPath(key);
    await mkdir(dirname(file), { recursive: true });
    const tmp = `${file}.${randomBytes(6).toString('hex')}.tmp`;
    const fh = await open(tmp, 'wx', 0o600);
    const hash = createHash('sha256');
    let size = 0;
    try {
      const chunks: AsyncIterable<Uint8Array> | Uint8Array[] = data instanceof Uint8Array ? [data] : data;
      for await (const chunk of chunks) {
        size += chunk.byteLength;
        if (opts.maxBytes !== undefined && size > opts.maxBytes) throw new BlobTooLargeError(`more than ${opts.maxBytes} bytes`);
        hash.update(chunk);
        await fh.write(chunk);
      }
      await fh.sync();
      await fh.close();
      await rename(tmp, file);
    } catch (err) {
      await fh.close().catch(() => undefined);
      await unlink(tmp).catch(() => undefined);
      throw err;
    }
    return { size, sha256: hash.digest('hex') };
  }

  async get(key: string): Promise<AsyncIterable<Uint8Array> | undefined> {
    const file = this.localPath(key);
    if ((await this.size(key)) === undefined) return undefined;
    return createReadStream(file);
  }

  async read(key: string, maxBytes: number): Promise<Buffer | undefined> {
    const size = await this.size(key);
    if (size === undefined) return undefined;
    if (size > maxBytes) throw new BlobTooLargeError(`${key} is ${size} bytes, more than ${maxBytes}`);
    return readFile(this.localPath(key));
  }

  async size(key: string): Promise<number | undefined> {
    try {
      const s = await stat(this.localPath(key));
      return s.isFile() ? s.size : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  async delete(key: string): Promise<void> {
    await rm(this.localPath(key), { force: true });
  }

  async deletePrefix(prefix: string): Promise<void> {
    const trimmed = prefix.replace(/\/+$/, '');
    await rm(this.localPath(trimmed), { recursive: true, force: true });
  }
}
