/**
 * Reads zip archives stored in the blob store (acoustic datasets and audio file sets). The adapter
 * refuses what it cannot read safely and reports it as ArchiveError, whose message is shown to clients.
 */
export interface ArchiveEntry {
  /** Path inside the archive, '/'-separated; directories end with '/'. */
  name: string;
  compressedSize: number;
  uncompressedSize: number;
}

export interface ArchiveLimits {
  /** More entries than this and the archive is refused before any is read. */
  maxEntries: number;
}

export interface Archive {
  readonly entries: readonly ArchiveEntry[];
  /** Size of the archive file in bytes. */
  readonly archiveBytes: number;
  /**
   * The entry's bytes, decompressed. With `prefixOnly` the stream ends quietly after about `maxBytes`
   * (header sniffing); otherwise more than `maxBytes` is an ArchiveError, and the CRC is checked.
   */
  read(name: string, opts: { maxBytes: number; prefixOnly?: boolean }): Promise<Uint8Array>;
  close(): Promise<void>;
}

export interface ArchiveReader {
  open(key: string, limits: ArchiveLimits): Promise<Archive>;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}
