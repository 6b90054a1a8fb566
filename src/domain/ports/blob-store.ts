/**
 * Content-addressed by caller-chosen keys ("datasets/{id}/data.txt"): dataset uploads, model files,
 * endpoint content logs. Keys are relative paths of `[A-Za-z0-9._-]` segments joined by '/'.
 */
export interface BlobStore {
  /** Writes the stream under `key`, replacing any previous content atomically; bounded by `maxBytes` (throws past it). */
  put(key: string, data: AsyncIterable<Uint8Array> | Uint8Array, opts?: { maxBytes?: number }): Promise<{ size: number; sha256: string }>;
  get(key: string): Promise<AsyncIterable<Uint8Array> | undefined>;
  /** Whole content (for small blobs only; callers bound the size). */
  read(key: string, maxBytes: number): Promise<Buffer | undefined>;
  size(key: string): Promise<number | undefined>;
  delete(key: string): Promise<void>;
  /** Deletes every key under `prefix` ("datasets/{id}/"). */
  deletePrefix(prefix: string): Promise<void>;
  /** An absolute filesystem path for engines that read files (model directories). */
  localPath(key: string): string;
}
