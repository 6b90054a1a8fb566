import { createWriteStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SynthesizeFlags {
  text?: string;
  ssmlFile?: string;
  voice?: string;
  format?: string;
  out: string;
  url?: string;
  key?: string;
}

function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c] ?? c);
}

/**
 * `parlance synthesize`: text or an SSML file to an audio file, through a server's REST API (the same
 * request an Azure REST client makes), streamed to disk as it arrives.
 */
export async function synthesize(flags: SynthesizeFlags): Promise<number> {
  if ((flags.text === undefined) === (flags.ssmlFile === undefined)) {
    process.stderr.write('error: give exactly one of --text or --ssml-file\n');
    return 2;
  }
  const voice = flags.voice ?? 'en-US-AvaMultilingualNeural';
  const lang = /^([a-z]{2,3}-[A-Z]{2})/i.exec(voice)?.[1] ?? 'en-US';
  const ssml =
    flags.ssmlFile !== undefined
      ? readFileSync(flags.ssmlFile, 'utf8')
      : `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='${lang}'><voice name='${escapeXml(voice)}'>${escapeXml(flags.text ?? '')}</voice></speak>`;
  const base = new URL(flags.url ?? 'http://127.0.0.1:5000');
  if (base.protocol === 'ws:') base.protocol = 'http:';
  if (base.protocol === 'wss:') base.protocol = 'https:';
  const headers: Record<string, string> = {
    'Content-Type': 'application/ssml+xml',
    'X-Microsoft-OutputFormat': flags.format ?? 'riff-24khz-16bit-mono-pcm',
    'User-Agent': 'parlance-cli',
  };
  if (flags.key) headers['Ocp-Apim-Subscription-Key'] = flags.key;
  let res: Response;
  try {
    res = await fetch(new URL('/cognitiveservices/v1', base), { method: 'POST', headers, body: ssml });
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    return 2;
  }
  if (res.status !== 200 || !res.body) {
    process.stderr.write(`error: server answered ${res.status}: ${await res.text()}\n`);
    return 1;
  }
  await pipeline(Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>), createWriteStream(flags.out));
  process.stdout.write(`wrote ${flags.out} (${res.headers.get('content-type') ?? 'audio'})\n`);
  return 0;
}
