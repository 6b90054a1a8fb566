/**
 * Fetches a dataset's content from the URL a client gave (`contentUrl`, protocol §D.6). The adapter
 * owns the transport rules (schemes, redirects, timeouts); the caller bounds the size.
 */
export interface ContentFetcher {
  /**
   * Starts the download and returns its bytes as a stream once the response headers are in.
   * Throws (or the stream throws) ContentFetchError, whose message is shown to the client, when the
   * URL is refused, unreachable, answers with an error status or exceeds `maxBytes`.
   */
  fetch(url: string, opts: { maxBytes: number; signal?: AbortSignal }): Promise<AsyncIterable<Uint8Array>>;
}

export class ContentFetchError extends Error {
  override name = 'ContentFetchError';
}
