/**
 * Signed, expiring download URLs for stored files (the `links.contentUrl` of v3.2 file entities,
 * Parlance's equivalent of a SAS URL): the signature is the credential, no key is needed.
 */
export interface SignedDownload {
  /** Opaque, URL-safe token naming the blob key. */
  token: string;
  /** Expiry, ISO 8601 UTC to the second (as a SAS `se`). */
  se: string;
  /** URL-safe signature over token and expiry. */
  sig: string;
}

export type DownloadVerdict = { ok: true; key: string } | { ok: false; reason: 'malformed' | 'signature' | 'expired' };

export interface DownloadSigner {
  /** Signs access to `key` until `expiresAtMs` (rounded down to the second). */
  sign(key: string, expiresAtMs: number): SignedDownload;
  /** Checks the signature first, then the expiry against `nowMs`. */
  verify(token: string, se: string, sig: string, nowMs: number): DownloadVerdict;
}
