import { crc32 } from 'node:zlib';
import yauzl, { type Entry, type ZipFile } from 'yauzl';
import { ArchiveError, type Archive, type ArchiveEntry, type ArchiveLimits, type ArchiveReader } from '../../domain/ports/archive-reader.js';
import type { BlobStore } from '../../domain/ports/blob-store.js';

/**
 * ArchiveReader for zip files in the blob store, with yauzl: the central directory is read first and
 * checked (entry count, unsafe names: yauzl refuses absolute and `..` paths), entry sizes are
 * enforced while inflating (yauzl's validateEntrySizes), encrypted entries are refused and full reads
 * check the CRC.
 */
export class ZipArchiveReader implements ArchiveReader {
  constructor(private readonly blobs: BlobStore) {}

  async open(key: string, limits: ArchiveLimits): Promise<Archive> {
    const zip = await new Promise<ZipFile>((resolve, reject) => {
      yauzl.open(this.blobs.localPath(key), { lazyEntries: true, autoClose: false, validateEntrySizes: true, strictFileNames: false }, (err, z) => {
        if (err) reject(new ArchiveError(describe(err)));
        else resolve(z);
      });
    });
    try {
      if (zip.entryCount > limits.maxEntries) throw new ArchiveError(`it has ${zip.entryCount} entries; at most ${limits.maxEntries} are allowed`);
      const entries = await readEntries(zip);
      return new ZipArchive(zip, entries);
    } catch (err) {
      zip.close();
      throw err;
    }
  }
}

function readEntries(zip: ZipFile): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    const fail = (err: Error): void => {
      zip.removeAllListeners();
      reject(err instanceof ArchiveError ? err : new ArchiveError(describe(err)));
    };
    zip.on('entry', (e: Entry) => {
      if (entries.has(e.fileName)) return fail(new ArchiveError(`the entry '${e.fileName}' appears twice`));
      entries.set(e.fileName, e);
      zip.readEntry();
    });
    zip.once('end', () => {
      zip.removeAllListeners();
      resolve(entries);
    });
    zip.once('error', fail);
    zip.readEntry();
  });
}

class ZipArchive implements Archive {
  readonly entries: readonly ArchiveEntry[];
  readonly archiveBytes: number;

  constructor(
    private readonly zip: ZipFile,
    private readonly byName: Map<string, Entry>,
  ) {
    this.entries = [...byName.values()].map((e) => ({ name: e.fileName, compressedSize: e.compressedSize, uncompressedSize: e.uncompressedSize }));
    this.archiveBytes = zip.fileSize;
  }

  async read(name: string, opts: { maxBytes: number; prefixOnly?: boolean }): Promise<Uint8Array> {
    const entry = this.byName.get(name);
    if (!entry) throw new ArchiveError(`no entry '${name}'`);
    if (entry.isEncrypted()) throw new ArchiveError(`the entry '${name}' is encrypted`);
    if (!opts.prefixOnly && entry.uncompressedSize > opts.maxBytes) throw new ArchiveError(`the entry '${name}' is larger than ${opts.maxBytes} bytes`);
    let stream;
    try {
      stream = await this.zip.openReadStreamPromise(entry);
    } catch (err) {
      throw new ArchiveError(`the entry '${name}' cannot be read: ${describe(err)}`);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    let crc = 0;
    try {
      for await (const chunk of stream as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        total += chunk.length;
        if (opts.prefixOnly) {
          if (total >= opts.maxBytes) break;
          continue;
        }
        if (total > opts.maxBytes) throw new ArchiveError(`the entry '${name}' is larger than ${opts.maxBytes} bytes`);
        crc = crc32(chunk, crc);
      }
    } catch (err) {
      throw err instanceof ArchiveError ? err : new ArchiveError(`the entry '${name}' is corrupt: ${describe(err)}`);
    } finally {
      stream.destroy();
    }
    if (!opts.prefixOnly && crc >>> 0 !== entry.crc32 >>> 0) throw new ArchiveError(`the entry '${name}' is corrupt (CRC mismatch)`);
    const all = Buffer.concat(chunks, total);
    return opts.prefixOnly ? all.subarray(0, Math.min(total, opts.maxBytes)) : all;
  }

  async close(): Promise<void> {
    this.zip.close();
  }
}

/** yauzl's messages, made readable for clients ("invalid relative path: ../x" → an unsafe path). */
function describe(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  if (/^invalid relative path: |^absolute path: |^invalid characters in fileName: /.test(msg)) return `unsafe entry path (${msg})`;
  if (/end of central directory record signature not found/.test(msg)) return 'not a zip file';
  return msg;
}
