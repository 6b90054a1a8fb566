import { createReadStream } from 'node:fs';
import { WebSocket } from 'ws';
import { newHexId } from '../kernel/ids.js';
import { decodeTextFrame, encodeBinaryFrame, encodeTextFrame } from '../protocol/speech-ws/frame-codec.js';

export interface RecognizeFlags {
  file: string;
  continuous?: boolean;
  format?: string;
  language?: string;
  url?: string;
  key?: string;
}

/**
 * `parlance recognize`: a small client of the WebSocket protocol, for trying a server by hand. Sends the
 * file's bytes as they are (the server reads WAV headers and compressed containers itself) and prints
 * results as they arrive: hypotheses as `RECOGNIZING:` lines, finals as `RECOGNIZED:` (or JSON with
 * --format detailed).
 */
export async function recognize(flags: RecognizeFlags): Promise<number> {
  const base = new URL(flags.url ?? 'ws://127.0.0.1:5000');
  if (base.protocol === 'http:') base.protocol = 'ws:';
  if (base.protocol === 'https:') base.protocol = 'wss:';
  const mode = flags.continuous ? 'conversation' : 'interactive';
  const format = flags.format === 'detailed' ? 'detailed' : 'simple';
  const url = new URL(`/speech/recognition/${mode}/cognitiveservices/v1`, base);
  url.searchParams.set('language', flags.language ?? 'en-US');
  url.searchParams.set('format', format);
  const headers: Record<string, string> = { 'X-ConnectionId': newHexId() };
  if (flags.key) headers['Ocp-Apim-Subscription-Key'] = flags.key;
  const ws = new WebSocket(url, { headers });
  const requestId = newHexId();

  return new Promise<number>((resolve) => {
    let failed = false;
    ws.on('unexpected-response', (_req, res) => {
      process.stderr.write(`error: server answered ${res.statusCode} ${res.statusMessage ?? ''}\n`);
      resolve(2);
    });
    ws.on('error', (err) => {
      process.stderr.write(`error: ${err.message}\n`);
      resolve(2);
    });
    ws.on('close', (code, reason) => {
      if (code !== 1000 && code !== 1005) {
        process.stderr.write(`closed: ${code} ${reason.toString()}\n`);
        failed = true;
      }
      resolve(failed ? 1 : 0);
    });
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const msg = decodeTextFrame(Buffer.isBuffer(data) ? data.toString('utf8') : String(data));
      const path = msg.path.toLowerCase();
      const body = msg.body === '' ? {} : (JSON.parse(msg.body) as Record<string, unknown>);
      if (path === 'speech.hypothesis') process.stdout.write(`RECOGNIZING: ${String(body['Text'])}\n`);
      if (path === 'speech.phrase') {
        const status = String(body['RecognitionStatus']);
        if (format === 'detailed') process.stdout.write(`${JSON.stringify(body)}\n`);
        else if (status === 'Success') process.stdout.write(`RECOGNIZED: ${String(body['DisplayText'])}\n`);
        else if (status !== 'EndOfDictation') process.stdout.write(`${status}\n`);
        if (!['Success', 'NoMatch', 'InitialSilenceTimeout', 'EndOfDictation'].includes(status)) failed = true;
      }
      if (path === 'turn.end') ws.close(1000);
    });
    ws.on('open', () => {
      ws.send(encodeTextFrame('speech.config', requestId, { context: { system: { name: 'parlance-cli', build: 'Node' } } }));
      ws.send(encodeTextFrame('speech.context', requestId, { phraseDetection: { language: flags.language ?? 'en-US' }, phraseOutput: { format } }));
      const stream = createReadStream(flags.file, { highWaterMark: 3200 });
      stream.on('data', (chunk) => {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
        ws.send(encodeBinaryFrame('audio', requestId, buf));
        // Respect the socket's backpressure instead of queueing the whole file in memory.
        if (ws.bufferedAmount > 1 << 20) {
          stream.pause();
          const wait = setInterval(() => {
            if (ws.bufferedAmount < 1 << 18) {
              clearInterval(wait);
              stream.resume();
            }
          }, 10);
        }
      });
      stream.on('end', () => ws.send(encodeBinaryFrame('audio', requestId, Buffer.alloc(0))));
      stream.on('error', (err) => {
        process.stderr.write(`error: ${err.message}\n`);
        ws.close(1000);
        resolve(2);
      });
    });
  });
}
