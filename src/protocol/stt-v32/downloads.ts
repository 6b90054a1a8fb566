import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BlobStore } from '../../domain/ports/blob-store.js';
import type { DownloadSigner } from '../../domain/ports/download-signer.js';
import { systemClock, type Clock } from '../../kernel/time.js';
import { queryValue } from '../shared/query.js';

export const DOWNLOAD_PATH = '/parlance/downloads';

/**
 * `(req, key, validitySeconds) => url`: a signed link to a blob on the origin the client used (what
 * `links.contentUrl` holds; sttV32Routes' `downloadUrl` option).
 */
export function signedDownloadUrl(signer: DownloadSigner, clock: Clock = systemClock): (req: FastifyRequest, key: string, validitySeconds: number) => string {
  return (req, key, validitySeconds) => {
    const s = signer.sign(key, clock.now() + validitySeconds * 1000);
    return `${req.protocol}://${req.headers.host ?? req.hostname}${DOWNLOAD_PATH}/${s.token}?se=${encodeURIComponent(s.se)}&sig=${s.sig}`;
  };
}

export interface DownloadRoutesOptions {
  signer: DownloadSigner;
  blobs: BlobStore;
  clock?: Clock;
}

/**
 * `GET {origin}/parlance/downloads/{token}?se=…&sig=…`: the files behind `links.contentUrl` of v3.2
 * file entities. Like an Azure SAS URL the signature is the credential, so this is registered outside
 * the data-plane scope (no key, no host rules); expired or tampered links are refused with 403.
 */
export async function downloadRoutes(app: FastifyInstance, opts: DownloadRoutesOptions): Promise<void> {
  const clock = opts.clock ?? systemClock;
  const refuse = (reply: FastifyReply, status: number, code: string, message: string): FastifyReply =>
    reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8').send({ error: { code, message } });

  app.get<{ Params: { token: string } }>(`${DOWNLOAD_PATH}/:token`, async (req, reply) => {
    const verdict = opts.signer.verify(req.params.token, queryValue(req.query, 'se') ?? '', queryValue(req.query, 'sig') ?? '', clock.now());
    if (!verdict.ok) {
      return verdict.reason === 'expired'
        ? refuse(reply, 403, 'AuthenticationFailed', 'The download link has expired. List the files again for a fresh link.')
        : refuse(reply, 403, 'AuthenticationFailed', 'The download link is not valid: its signature does not match.');
    }
    let size: number | undefined;
    let stream: AsyncIterable<Uint8Array> | undefined;
    try {
      size = await opts.blobs.size(verdict.key);
      stream = size === undefined ? undefined : await opts.blobs.get(verdict.key);
    } catch {
      stream = undefined;
    }
    if (size === undefined || !stream) return refuse(reply, 404, 'BlobNotFound', 'The file no longer exists.');
    return reply
      .header('content-type', verdict.key.endsWith('.json') ? 'application/json; charset=utf-8' : 'application/octet-stream')
      .header('content-length', String(size))
      .header('cache-control', 'private, no-store')
      .send(stream instanceof Readable ? stream : Readable.from(stream));
  });
}
