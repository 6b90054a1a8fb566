import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage } from 'node:http';
import { containerFromContentType } from '../../kernel/audio/sniff.js';
import { Errors } from '../../domain/errors.js';
import type { DeclaredAudio } from '../../domain/recognition/audio-input.js';
import type { RecognitionService } from '../../domain/recognition/recognition-service.js';
import { phraseJson } from '../shared/recognition-json.js';
import { parseMode, recognitionRequestFromQuery } from '../shared/recognition-query.js';

export interface SttShortOptions {
  recognition: RecognitionService;
  maxAudioSeconds: number;
  maxBodyBytes: number;
  requestTimeoutMs: number;
}

/** Paths: regional/container form, and the custom-domain form with the `/stt` offering prefix (protocol §1.3). */
const PATHS = ['/speech/recognition/:mode/cognitiveservices/v1', '/stt/speech/recognition/:mode/cognitiveservices/v1'];

/**
 * Speech-to-text REST for short audio (protocol §C.1): the body streams through the same pipeline as
 * the WebSocket (decoder → segmenter → engine) and the first utterance comes back as Azure's JSON.
 */
export async function sttShortRoutes(app: FastifyInstance, opts: SttShortOptions): Promise<void> {
  // Keep the body as a stream: audio is decoded while it uploads (chunked uploads included).
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { bodyLimit: opts.maxBodyBytes }, (_req: FastifyRequest, payload: IncomingMessage, done) => done(null, payload));

  const handler = async (req: FastifyRequest<{ Params: { mode: string } }>, reply: FastifyReply): Promise<unknown> => {
    const body = req.body as IncomingMessage | undefined;
    try {
      return await recognize(req, reply, body);
    } catch (err) {
      // Answering while the client is still uploading makes it see a reset instead of our error:
      // read (and drop) what remains of the body first, within the body limit and a short time.
      if (body && !body.readableEnded && !body.destroyed) await drain(body, opts.maxBodyBytes, 5_000);
      throw err;
    }
  };

  const recognize = async (req: FastifyRequest<{ Params: { mode: string } }>, reply: FastifyReply, body: IncomingMessage | undefined): Promise<unknown> => {
    const mode = parseMode(req.params.mode);
    if (!mode) throw Errors.notFound();
    const request = recognitionRequestFromQuery(req.query, mode);
    if (request.locale === undefined && request.endpointId === undefined) {
      throw Errors.invalidArgument("The 'language' query parameter is required.");
    }
    const declared = declaredAudio(req.headers['content-type']);
    const options = opts.recognition.resolveOptions(request, req.principal?.account.id);
    if (!body || typeof (body as AsyncIterable<Buffer>)[Symbol.asyncIterator] !== 'function') {
      throw Errors.invalidAudio('The request contains no audio.');
    }
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), opts.requestTimeoutMs);
    // The response closing before it was written means the client went away: stop decoding.
    const onClose = (): void => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    const meter = { audioMs: 0 };
    try {
      const phrase = await opts.recognition.recognizeOnce(options, boundedBody(body.iterator({ destroyOnReturn: false }), opts.maxBodyBytes), {
        maxAudioMs: opts.maxAudioSeconds * 1000,
        declared,
        signal: abort.signal,
        meter,
      });
      void reply.type('application/json; charset=utf-8');
      return phraseJson(phrase, { format: options.format, wordTimings: options.wordTimings, includeChannel: false });
    } finally {
      clearTimeout(timer);
      reply.raw.off('close', onClose);
      req.metered = { sttAudioMs: meter.audioMs };
    }
  };

  // Each request is a real-time recognition: it takes a concurrency slot (protocol/http/data-plane.ts).
  for (const url of PATHS) app.post(url, { config: { quota: 'recognition' } }, handler);
}

/** Content-Type → how to read the audio (only WAV/PCM and OGG/Opus are documented; we accept more). */
function declaredAudio(contentType: string | undefined): DeclaredAudio {
  if (contentType === undefined || contentType === '') throw Errors.unsupportedMediaType(contentType);
  const c = containerFromContentType(contentType);
  if (c === undefined) throw Errors.unsupportedMediaType(contentType);
  return c;
}

async function* boundedBody(body: AsyncIterable<unknown>, maxBytes: number): AsyncIterable<Buffer> {
  let total = 0;
  for await (const raw of body) {
    const chunk = Buffer.isBuffer(raw) ? raw : Buffer.from(String(raw));
    total += chunk.length;
    if (total > maxBytes) throw Errors.payloadTooLarge(maxBytes);
    yield chunk;
  }
}

/** Reads and discards the rest of a request body, up to `maxBytes` or `timeoutMs`. */
async function drain(body: IncomingMessage, maxBytes: number, timeoutMs: number): Promise<void> {
  await new Promise<void>((resolve) => {
    let seen = 0;
    const done = (): void => {
      clearTimeout(timer);
      body.off('data', onData);
      body.off('end', done);
      body.off('error', done);
      body.off('close', done);
      resolve();
    };
    const onData = (chunk: Buffer): void => {
      seen += chunk.length;
      if (seen > maxBytes) done();
    };
    const timer = setTimeout(done, timeoutMs);
    body.on('data', onData);
    body.once('end', done);
    body.once('error', done);
    body.once('close', done);
    body.resume();
  });
}
