import { createHmac, timingSafeEqual } from 'node:crypto';
import type { DownloadSigner, DownloadVerdict, SignedDownload } from '../domain/ports/download-signer.js';

const SE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/**
 * HMAC-SHA256 download signatures (Parlance's SAS): `sig` = HMAC(k, "v1\n" + token + "\n" + se) with a
 * key `k` derived from the service secret, so the token signing key itself never signs anything else.
 */
export class HmacDownloadSigner implements DownloadSigner {
  private readonly key: Buffer;

  constructor(secret: Uint8Array) {
    if (secret.byteLength < 32) throw new RangeError(`download signing secret must be at least 32 bytes, got ${secret.byteLength}`);
    this.key = createHmac('sha256', secret).update('parlance download signing v1').digest();
  }

  sign(key: string, expiresAtMs: number): SignedDownload {
    const token = Buffer.from(key, 'utf8').toString('base64url');
    const se = new Date(Math.floor(expiresAtMs / 1000) * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    return { token, se, sig: this.mac(token, se) };
  }

  verify(token: string, se: string, sig: string, nowMs: number): DownloadVerdict {
    if (!/^[A-Za-z0-9_-]{1,2048}$/.test(token) || !SE.test(se) || !/^[A-Za-z0-9_-]{43}$/.test(sig)) return { ok: false, reason: 'malformed' };
    const expected = Buffer.from(this.mac(token, se), 'base64url');
    const given = Buffer.from(sig, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return { ok: false, reason: 'signature' };
    const expires = Date.parse(se);
    if (!Number.isFinite(expires) || nowMs >= expires) return { ok: false, reason: 'expired' };
    return { ok: true, key: Buffer.from(token, 'base64url').toString('utf8') };
  }

  private mac(token: string, se: string): string {
    return createHmac('sha256', this.key).update(`v1\n${token}\n${se}`).digest('base64url');
  }
}
