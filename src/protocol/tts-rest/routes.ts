import { billableCharacters } from '../../domain/synthesis/billing.js';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Errors } from '../../domain/errors.js';
import type { SynthesisOutput, SynthesisService } from '../../domain/synthesis/synthesis-service.js';
import { voiceJson } from '../shared/synthesis-json.js';

export interface TtsRestOptions {
  synthesis: SynthesisService;
  maxSsmlBytes: number;
  requestTimeoutMs: number;
}

const VOICES_SUFFIX = '/cognitiveservices/voices/list';

/**
 * Text-to-speech REST (protocol §C.2) and the voices list (§C.3), at the regional/container paths and
 * the custom-domain `/tts` forms. Audio streams back as it is synthesized (chunked); errors found before
 * the first byte get a proper status, later ones end the response early.
 */
export async function ttsRestRoutes(app: FastifyInstance, opts: TtsRestOptions): Promise<void> {
  app.addContentTypeParser(['application/ssml+xml', 'application/xml', 'text/xml'], { parseAs: 'string', bodyLimit: opts.maxSsmlBytes }, (_req, body, done) =>
    done(null, body),
  );
  // Any other type: keep the body unread and refuse in the handler with 415 (Azure's status for it).
  app.addContentTypeParser('*', (_req, _payload, done) => done(null, undefined));

  const synthesize = async (req: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const contentType = String(req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
    if (!['application/ssml+xml', 'application/xml', 'text/xml'].includes(contentType)) {
      throw Errors.unsupportedMediaType(req.headers['content-type'], "'application/ssml+xml'");
    }
    const formatName = req.headers['x-microsoft-outputformat'];
    if (typeof formatName !== 'string' || formatName.trim() === '') {
      throw Errors.invalidArgument('The X-Microsoft-OutputFormat header is required.');
    }
    const format = opts.synthesis.outputFormat(formatName.trim());
    const ssml = typeof req.body === 'string' ? req.body : '';
    const plan = opts.synthesis.planSsml(ssml);
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), opts.requestTimeoutMs);
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) abort.abort();
    });
    const events = opts.synthesis.synthesize(plan, format, {
      wordBoundary: false,
      punctuationBoundary: false,
      sentenceBoundary: false,
      bookmarks: false,
      visemes: false,
      signal: abort.signal,
    });
    const it = events[Symbol.asyncIterator]();
    // Wait for the first audio (or the end) so a failure before any byte still gets its status code.
    let first: IteratorResult<SynthesisOutput>;
    try {
      first = await nextAudio(it);
    } catch (err) {
      clearTimeout(timer);
      throw err;
    }
    // Billed once audio is on its way (a request refused before any audio costs nothing).
    req.metered = { ttsCharacters: billableCharacters(ssml) };
    const body = Readable.from(
      (async function* () {
        try {
          let r = first;
          while (!r.done) {
            if (r.value.type === 'audio') yield r.value.data;
            r = await it.next();
          }
        } finally {
          clearTimeout(timer);
          await it.return?.();
        }
      })(),
    );
    return reply.code(200).header('Content-Type', format.mimeType).send(body);
  };

  const voices = async (_req: FastifyRequest, reply: FastifyReply): Promise<unknown> =>
    reply.type('application/json; charset=utf-8').send(opts.synthesis.catalog.voices.map(voiceJson));

  for (const prefix of ['', '/tts']) {
    // Each request counts against the pricing tier's call rate (protocol/http/data-plane.ts).
    app.post(`${prefix}/cognitiveservices/v1`, { config: { quota: 'synthesis' } }, synthesize);
    app.get(`${prefix}${VOICES_SUFFIX}`, voices);
  }
  // The JS SDK appends the voices path to a whole custom endpoint URL (protocol §C.3): serve any path
  // that ends with it.
  app.get('/*', async (req, reply) => {
    if (req.url.split('?')[0]?.endsWith(VOICES_SUFFIX)) return voices(req, reply);
    throw Errors.notFound();
  });
}

async function nextAudio(it: AsyncIterator<SynthesisOutput>): Promise<IteratorResult<SynthesisOutput>> {
  for (;;) {
    const r = await it.next();
    if (r.done || r.value.type === 'audio') return r;
  }
}
