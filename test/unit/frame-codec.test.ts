import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';

import {
  createFrameEncoder,
  decodeBinaryFrame,
  decodeTextFrame,
  encodeBinaryFrame,
  encodeTextFrame,
  FrameError,
  isFrameError,
  MAX_HEADER_COUNT,
  MAX_HEADER_SECTION_SIZE,
  type FrameErrorReason,
  type SpeechMessage,
} from '../../src/protocol/speech-ws/frame-codec.js';
import { ClientPath, HeaderKey, pathMatches, ServicePath } from '../../src/protocol/speech-ws/wire-names.js';
import { prng } from '../helpers/prng.js';
import { wavHeader } from '../helpers/wav.js';

// ------------------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------------------

const FIXED_MS = Date.UTC(2026, 10, 22, 0, 29, 54, 350);
const FIXED_ISO = '2026-11-22T00:29:54.350Z';
const fixedEncoder = createFrameEncoder({ clock: { now: () => FIXED_MS } });

const RID = '645B6A204E244204BAD7B9F5EFC93D8D';

/** Builds a binary frame by hand, the way the JS SDK's formatter lays it out. */
function binaryFrame(headerText: string, payload: Buffer = Buffer.alloc(0), lengthOverride?: number): Buffer {
  const head = Buffer.from(headerText, 'latin1');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(lengthOverride ?? head.length, 0);
  return Buffer.concat([len, head, payload]);
}

/** The 44-byte streaming WAV header the JS SDK sends first in every turn (RIFF/data sizes 0). */
const sdkWavHeader = (): Buffer => wavHeader({ dataBytes: 0, riffBytes: 0 });

function expectFrameError(fn: () => unknown, reason: FrameErrorReason): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FrameError, `expected FrameError, got ${String(err)}`);
    assert.equal(err.reason, reason);
    return true;
  });
}

// ------------------------------------------------------------------------------------------------------------------
// The real SDK's formatter (optional: skipped if the package layout changes)
// ------------------------------------------------------------------------------------------------------------------

interface SdkRawMessage {
  readonly payload: string | ArrayBuffer;
}
interface SdkConnectionMessage {
  readonly headers: Record<string, string>;
  readonly body: string | ArrayBuffer | null;
}
interface SdkSpeechMessage {
  readonly path: string;
  readonly requestId: string;
  readonly contentType: string | null;
  readonly streamId: string | null;
  readonly body: string | ArrayBuffer | null;
}
interface SdkFormatter {
  fromConnectionMessage(message: unknown): Promise<SdkRawMessage>;
  toConnectionMessage(message: unknown): Promise<SdkConnectionMessage>;
}
interface Sdk {
  formatter: SdkFormatter;
  MessageType: { Text: number; Binary: number };
  newSpeechMessage(
    type: number,
    path: string,
    requestId: string,
    contentType: string | null,
    body: string | ArrayBuffer | null,
  ): unknown;
  newRaw(type: number, payload: string | ArrayBuffer): unknown;
  toSpeechMessage(message: SdkConnectionMessage): SdkSpeechMessage;
}

function loadSdk(): Sdk | undefined {
  try {
    const require = createRequire(import.meta.url);
    const base = 'microsoft-cognitiveservices-speech-sdk/distrib/lib/src';
    const fmt = require(`${base}/common.speech/WebsocketMessageFormatter.js`) as {
      WebsocketMessageFormatter: new () => SdkFormatter;
    };
    const scm = require(`${base}/common.speech/SpeechConnectionMessage.Internal.js`) as {
      SpeechConnectionMessage: (new (...args: unknown[]) => unknown) & {
        fromConnectionMessage(m: SdkConnectionMessage): SdkSpeechMessage;
      };
    };
    const common = require(`${base}/common/Exports.js`) as {
      MessageType: { Text: number; Binary: number };
      RawWebsocketMessage: new (type: number, payload: string | ArrayBuffer) => unknown;
    };
    return {
      formatter: new fmt.WebsocketMessageFormatter(),
      MessageType: common.MessageType,
      newSpeechMessage: (type, path, requestId, contentType, body) =>
        new scm.SpeechConnectionMessage(type, path, requestId, contentType, body),
      newRaw: (type, payload) => new common.RawWebsocketMessage(type, payload),
      toSpeechMessage: (m) => scm.SpeechConnectionMessage.fromConnectionMessage(m),
    };
  } catch {
    return undefined;
  }
}

const sdk = loadSdk();

function toArrayBuffer(buf: Buffer): ArrayBuffer {
  const copy = new ArrayBuffer(buf.length);
  new Uint8Array(copy).set(buf);
  return copy;
}

// ------------------------------------------------------------------------------------------------------------------
// Decoding: shapes the SDKs send
// ------------------------------------------------------------------------------------------------------------------

describe('decodeTextFrame', () => {
  it('decodes the JS SDK speech.context frame', () => {
    const body = '{"phraseDetection":{"language":"en-US","enrichment":{}},"phraseOutput":{}}';
    const text =
      `Path: speech.context\r\nX-RequestId: ${RID}\r\nX-Timestamp: ${FIXED_ISO}\r\n` +
      `Content-Type: application/json\r\n\r\n${body}`;
    const msg = decodeTextFrame(text);
    assert.equal(msg.path, ClientPath.SpeechContext);
    assert.equal(msg.requestId, RID);
    assert.equal(msg.contentType, 'application/json');
    assert.equal(msg.body, body);
    assert.equal(msg.headers.get(HeaderKey.Timestamp), FIXED_ISO);
    assert.deepEqual([...msg.headers.keys()], ['path', 'x-requestid', 'x-timestamp', 'content-type']);
  });

  it('accepts speech.config without X-RequestId (C++ core)', () => {
    const msg = decodeTextFrame('Path: speech.config\r\nContent-Type: application/json\r\n\r\n{"context":{}}');
    assert.equal(msg.path, 'speech.config');
    assert.equal(msg.requestId, undefined);
    assert.equal(msg.body, '{"context":{}}');
  });

  it('treats an empty X-RequestId as absent', () => {
    assert.equal(decodeTextFrame('Path:telemetry\r\nX-RequestId:\r\n\r\n{}').requestId, undefined);
  });

  it('is case-insensitive for header names and tolerant of whitespace', () => {
    const msg = decodeTextFrame('pATH:speech.context\r\nx-requestid:   abc  \r\nCONTENT-TYPE :application/json\r\n\r\n{}');
    assert.equal(msg.path, 'speech.context');
    assert.equal(msg.requestId, 'abc');
    assert.equal(msg.contentType, 'application/json');
    assert.equal(msg.headers.get('content-type'), 'application/json');
  });

  it('keeps the path spelling; pathMatches compares case-insensitively', () => {
    const msg = decodeTextFrame('Path: Speech.Context\r\nX-RequestId: a\r\n\r\n{}');
    assert.equal(msg.path, 'Speech.Context');
    assert.ok(pathMatches(msg.path, ClientPath.SpeechContext));
    assert.ok(!pathMatches(msg.path, ClientPath.SpeechConfig));
  });

  it('tolerates bare LF and mixed line ends', () => {
    const a = decodeTextFrame('Path: ssml\nX-RequestId: r1\n\n<speak/>');
    assert.equal(a.path, 'ssml');
    assert.equal(a.requestId, 'r1');
    assert.equal(a.body, '<speak/>');
    const b = decodeTextFrame('Path: ssml\r\nX-RequestId: r1\n\r\n<speak/>');
    assert.equal(b.body, '<speak/>');
  });

  it('handles empty and missing bodies', () => {
    assert.equal(decodeTextFrame('Path: text.end\r\nX-RequestId: r\r\n\r\n').body, '');
    assert.equal(decodeTextFrame('Path: text.end\r\nX-RequestId: r\r\n').body, '');
    assert.equal(decodeTextFrame('Path: text.end\r\nX-RequestId: r').body, '');
    assert.equal(decodeTextFrame('Path: text.end\r\nX-RequestId: r\r\n\r').body, '');
  });

  it('keeps the body verbatim, including later blank lines and unicode', () => {
    const body = 'line1\r\n\r\nline2 — ünïcødé 🎤\n\n';
    assert.equal(decodeTextFrame(`Path: text.piece\r\nX-RequestId: r\r\n\r\n${body}`).body, body);
  });

  it('keeps values containing colons and tolerates extra headers', () => {
    const msg = decodeTextFrame(
      'Path: speech.context\r\nX-RequestId: r\r\nX-Timestamp: 2026-01-01T00:00:00.000Z\r\n' +
        'X-StreamId: 1\r\nX-Continuation-Token: a:b:c\r\nX-Custom: \r\n\r\n{}',
    );
    assert.equal(msg.headers.get('x-timestamp'), '2026-01-01T00:00:00.000Z');
    assert.equal(msg.headers.get('x-continuation-token'), 'a:b:c');
    assert.equal(msg.headers.get('x-custom'), '');
    assert.equal(msg.headers.get(HeaderKey.StreamId), '1');
  });

  it('lets the last duplicate header win (as the JS SDK parser does)', () => {
    const msg = decodeTextFrame('Path: a\r\nPath: b\r\nX-RequestId: r\r\n\r\n');
    assert.equal(msg.path, 'b');
  });

  it('accepts exactly MAX_HEADER_COUNT headers and a header section of exactly the size bound', () => {
    const lines = ['Path: audio'];
    for (let i = 1; i < MAX_HEADER_COUNT; i++) {
      lines.push(`X-H${i}: v`);
    }
    assert.equal(decodeTextFrame(`${lines.join('\r\n')}\r\n\r\n`).headers.size, MAX_HEADER_COUNT);

    const prefix = 'Path: audio\r\nX-Pad: ';
    // The bound counts header lines with their terminators (here: the final CRLF), not the blank line.
    const pad = 'x'.repeat(MAX_HEADER_SECTION_SIZE - prefix.length - 2);
    const ok = `${prefix}${pad}\r\n\r\nbody`;
    assert.equal(decodeTextFrame(ok).body, 'body');
    expectFrameError(() => decodeTextFrame(`${prefix}${pad}x\r\n\r\nbody`), 'headers-too-large');
  });

  it('rejects bad frames with typed reasons', () => {
    expectFrameError(() => decodeTextFrame(''), 'missing-path');
    expectFrameError(() => decodeTextFrame('\r\n\r\n{}'), 'missing-path');
    expectFrameError(() => decodeTextFrame('X-RequestId: r\r\n\r\n{}'), 'missing-path');
    expectFrameError(() => decodeTextFrame('Path:\r\nX-RequestId: r\r\n\r\n{}'), 'missing-path');
    expectFrameError(() => decodeTextFrame('Path: a b\r\n\r\n'), 'invalid-path');
    expectFrameError(() => decodeTextFrame(`Path: ${'a'.repeat(129)}\r\n\r\n`), 'invalid-path');
    expectFrameError(() => decodeTextFrame('Path: speech.context\r\ngarbage\r\n\r\n{}'), 'malformed-header');
    expectFrameError(() => decodeTextFrame(': value\r\nPath: a\r\n\r\n'), 'malformed-header');
    expectFrameError(() => decodeTextFrame('Pa th: a\r\n\r\n'), 'malformed-header');
    expectFrameError(() => decodeTextFrame('Pätch: a\r\nPath: a\r\n\r\n'), 'malformed-header');
    expectFrameError(() => decodeTextFrame('Path: a\u0000\r\n\r\n'), 'invalid-header-value');
    expectFrameError(() => decodeTextFrame('Path: a\rX-RequestId: b\r\n\r\n'), 'invalid-header-value');
    expectFrameError(() => decodeTextFrame(`Path: a\r\nX-Big: ${'y'.repeat(20000)}\r\n\r\n`), 'headers-too-large');
    expectFrameError(() => decodeTextFrame('x'.repeat(100_000)), 'headers-too-large');
    const many = ['Path: a'];
    for (let i = 0; i < MAX_HEADER_COUNT; i++) {
      many.push(`X-H${i}: v`);
    }
    expectFrameError(() => decodeTextFrame(`${many.join('\r\n')}\r\n\r\n`), 'too-many-headers');
    // Duplicates count as lines too, so a flood of one header is still bounded.
    expectFrameError(() => decodeTextFrame(`${'Path: a\r\n'.repeat(MAX_HEADER_COUNT + 1)}\r\n`), 'too-many-headers');
  });

  it('rejects non-string input from untyped callers with FrameError', () => {
    expectFrameError(() => decodeTextFrame(42 as unknown as string), 'invalid-input');
    expectFrameError(() => decodeTextFrame(null as unknown as string), 'invalid-input');
  });
});

describe('decodeBinaryFrame', () => {
  it('decodes the JS SDK first audio frame (WAV header, audio/x-wav)', () => {
    const wav = sdkWavHeader();
    const frame = binaryFrame(
      `Path: audio\r\nX-RequestId: ${RID}\r\nX-Timestamp: ${FIXED_ISO}\r\nContent-Type: audio/x-wav\r\n`,
      wav,
    );
    const msg = decodeBinaryFrame(frame);
    assert.equal(msg.path, ClientPath.Audio);
    assert.equal(msg.requestId, RID);
    assert.equal(msg.contentType, 'audio/x-wav');
    assert.ok(Buffer.isBuffer(msg.body));
    assert.equal(msg.body.length, 44);
    assert.ok(msg.body.equals(wav));
  });

  it('decodes a PCM chunk without Content-Type', () => {
    const pcm = Buffer.alloc(3200, 7);
    const msg = decodeBinaryFrame(binaryFrame(`Path: audio\r\nX-RequestId: ${RID}\r\nX-Timestamp: ${FIXED_ISO}\r\n`, pcm));
    assert.equal(msg.contentType, undefined);
    assert.ok(!('contentType' in msg));
    assert.ok(msg.body.equals(pcm));
  });

  it('preserves the zero-length end-of-stream audio frame', () => {
    const msg = decodeBinaryFrame(binaryFrame(`Path: audio\r\nX-RequestId: ${RID}\r\nX-Timestamp: ${FIXED_ISO}\r\n`));
    assert.ok(Buffer.isBuffer(msg.body));
    assert.equal(msg.body.length, 0);
  });

  it('accepts a header block without final CRLF, with bare LF, empty lines and X-StreamId', () => {
    const msg = decodeBinaryFrame(binaryFrame('Path:audio\nX-RequestId:r\r\n\r\nx-streamid: 2', Buffer.from([1, 2])));
    assert.equal(msg.path, 'audio');
    assert.equal(msg.requestId, 'r');
    assert.equal(msg.headers.get('x-streamid'), '2');
    assert.deepEqual([...msg.body], [1, 2]);
  });

  it('accepts a plain Uint8Array', () => {
    const frame = binaryFrame('Path: audio\r\nX-RequestId: r\r\n', Buffer.from([9]));
    const msg = decodeBinaryFrame(new Uint8Array(frame) as Buffer);
    assert.deepEqual([...msg.body], [9]);
  });

  it('rejects bad frames with typed reasons', () => {
    expectFrameError(() => decodeBinaryFrame(Buffer.alloc(0)), 'truncated');
    expectFrameError(() => decodeBinaryFrame(Buffer.from([0])), 'truncated');
    expectFrameError(() => decodeBinaryFrame(Buffer.from([0, 0])), 'missing-path');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('Path: audio\r\n', Buffer.alloc(0), 20)), 'header-length-out-of-range');
    expectFrameError(() => decodeBinaryFrame(Buffer.from([0xff, 0xff, 1, 2, 3])), 'headers-too-large');
    expectFrameError(() => decodeBinaryFrame(Buffer.from([0x40, 0x01])), 'headers-too-large');
    expectFrameError(() => decodeBinaryFrame(Buffer.from([0x40, 0x00])), 'header-length-out-of-range');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('P\u00e4th: audio\r\n')), 'non-ascii-header');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('Pa\u0001th: audio\r\n')), 'non-ascii-header');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('Path: audio\u007f\r\n')), 'non-ascii-header');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('Path audio\r\n')), 'malformed-header');
    expectFrameError(() => decodeBinaryFrame(binaryFrame('X-RequestId: r\r\n')), 'missing-path');
    expectFrameError(() => decodeBinaryFrame(binaryFrame(`Path: audio\r\n${'X-A: b\r\n'.repeat(MAX_HEADER_COUNT)}`)), 'too-many-headers');
  });

  it('rejects non-Buffer input from untyped callers with FrameError', () => {
    expectFrameError(() => decodeBinaryFrame('abc' as unknown as Buffer), 'invalid-input');
    expectFrameError(() => decodeBinaryFrame(undefined as unknown as Buffer), 'invalid-input');
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Encoding
// ------------------------------------------------------------------------------------------------------------------

describe('encodeTextFrame', () => {
  it('produces the exact service header layout', () => {
    const text = fixedEncoder.encodeTextFrame(ServicePath.TurnStart, RID, { context: { serviceTag: 'tag' } });
    assert.equal(
      text,
      `X-RequestId:${RID}\r\nPath:turn.start\r\nContent-Type:application/json; charset=utf-8\r\n` +
        `X-Timestamp:${FIXED_ISO}\r\n\r\n{"context":{"serviceTag":"tag"}}`,
    );
  });

  it('round-trips through the decoder with numbers kept as numbers', () => {
    const body = {
      RecognitionStatus: 'Success',
      DisplayText: 'Line\r\n\r\nbreak "quoted"',
      Offset: 10_000_000,
      Duration: 15_000_000,
      NBest: [{ Confidence: 0.95, Display: 'x' }],
    };
    const text = fixedEncoder.encodeTextFrame(ServicePath.SpeechPhrase, RID, body);
    assert.ok(!text.slice(text.indexOf('\r\n\r\n') + 4).includes('\r\n'));
    const msg = decodeTextFrame(text);
    assert.equal(msg.path, 'speech.phrase');
    assert.equal(msg.requestId, RID);
    assert.equal(msg.contentType, 'application/json; charset=utf-8');
    assert.equal(msg.headers.get('x-timestamp'), FIXED_ISO);
    assert.deepEqual(JSON.parse(msg.body), body);
    assert.equal(typeof (JSON.parse(msg.body) as { Offset: unknown }).Offset, 'number');
  });

  it('uses the real clock by default', () => {
    const before = Date.now();
    const msg = decodeTextFrame(encodeTextFrame('turn.end', 'r', {}));
    const ts = Date.parse(msg.headers.get('x-timestamp') ?? '');
    assert.ok(ts >= before - 1 && ts <= Date.now() + 1);
    assert.equal(msg.body, '{}');
  });

  it('reports a broken injected clock as FrameError', () => {
    const broken = createFrameEncoder({ clock: { now: () => Number.NaN } });
    expectFrameError(() => broken.encodeTextFrame('turn.end', 'r', {}), 'internal');
  });

  it('applies extra headers, letting Content-Type and X-Timestamp override', () => {
    const text = fixedEncoder.encodeTextFrame('text.x', 'r', 'plain', {
      'Content-Type': 'text/plain',
      'X-Timestamp': 'T',
      'X-StreamId': 'S1',
    });
    assert.equal(text, 'X-RequestId:r\r\nPath:text.x\r\nContent-Type:text/plain\r\nX-Timestamp:T\r\nX-StreamId:S1\r\n\r\nplain');
  });

  it('re-serialises JSON string bodies that contain the separator, refuses other such strings', () => {
    const text = fixedEncoder.encodeTextFrame('speech.phrase', 'r', '{\r\n\r\n  "Offset": 1\r\n}');
    assert.ok(text.endsWith('\r\n\r\n{"Offset":1}'));
    expectFrameError(() => encodeTextFrame('x', 'r', 'a\r\n\r\nb'), 'body-contains-separator');
    assert.ok(encodeTextFrame('x', 'r', 'a\r\nb').endsWith('\r\n\r\na\r\nb'));
  });

  it('refuses bodies JSON would corrupt', () => {
    expectFrameError(() => encodeTextFrame('x', 'r', { Offset: Number.NaN }), 'invalid-body');
    expectFrameError(() => encodeTextFrame('x', 'r', { a: [Number.POSITIVE_INFINITY] }), 'invalid-body');
    expectFrameError(() => encodeTextFrame('x', 'r', { big: 1n }), 'invalid-body');
    const cyclic: Record<string, unknown> = {};
    cyclic['self'] = cyclic;
    expectFrameError(() => encodeTextFrame('x', 'r', cyclic), 'invalid-body');
    expectFrameError(() => encodeTextFrame('x', 'r', { toJSON: () => undefined }), 'invalid-body');
    expectFrameError(() => encodeTextFrame('x', 'r', null as unknown as object), 'invalid-body');
    expectFrameError(() => encodeTextFrame('x', 'r', 5 as unknown as object), 'invalid-body');
  });

  it('refuses invalid paths, request ids and headers (no header injection)', () => {
    expectFrameError(() => encodeTextFrame('', 'r', {}), 'missing-path');
    expectFrameError(() => encodeTextFrame('turn.end\r\nX-Evil: 1', 'r', {}), 'invalid-path');
    expectFrameError(() => encodeTextFrame('turn.end', '', {}), 'invalid-request-id');
    expectFrameError(() => encodeTextFrame('turn.end', 'r\r\nPath: x', {}), 'invalid-header-value');
    expectFrameError(() => encodeTextFrame('turn.end', ' r', {}), 'invalid-header-value');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { Path: 'x' }), 'reserved-header');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'x-requestid': 'x' }), 'reserved-header');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'X-A': '1', 'x-a': '2' }), 'reserved-header');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'Bad Name': '1' }), 'malformed-header');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'X-A': 'a\nb' }), 'invalid-header-value');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'X-A': 1 as unknown as string }), 'invalid-header-value');
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, { 'X-A': 'z'.repeat(MAX_HEADER_SECTION_SIZE) }), 'headers-too-large');
    const many: Record<string, string> = {};
    for (let i = 0; i < MAX_HEADER_COUNT; i++) {
      many[`X-H${i}`] = 'v';
    }
    expectFrameError(() => encodeTextFrame('turn.end', 'r', {}, many), 'too-many-headers');
  });
});

describe('encodeBinaryFrame', () => {
  it('produces the exact TTS audio frame layout', () => {
    const pcm = Buffer.from([1, 2, 3, 4]);
    const frame = fixedEncoder.encodeBinaryFrame(ServicePath.Audio, RID, pcm, {
      'X-StreamId': 'A1B2',
      'Content-Type': 'audio/x-wav',
    });
    const header =
      `X-RequestId:${RID}\r\nPath:audio\r\nContent-Type:audio/x-wav\r\nX-Timestamp:${FIXED_ISO}\r\nX-StreamId:A1B2\r\n`;
    assert.equal(frame.readUInt16BE(0), header.length);
    assert.equal(frame.readInt16BE(0), header.length, 'header length must be positive as a signed int16');
    assert.equal(frame.toString('latin1', 2, 2 + header.length), header);
    assert.ok(frame.subarray(2 + header.length).equals(pcm));

    const msg = decodeBinaryFrame(frame);
    assert.equal(msg.path, 'audio');
    assert.equal(msg.requestId, RID);
    assert.equal(msg.headers.get(HeaderKey.StreamId), 'A1B2');
    assert.equal(msg.contentType, 'audio/x-wav');
    assert.ok(msg.body.equals(pcm));
  });

  it('round-trips an empty payload', () => {
    const msg = decodeBinaryFrame(encodeBinaryFrame('audio', 'r', Buffer.alloc(0)));
    assert.equal(msg.body.length, 0);
    assert.equal(msg.contentType, undefined);
  });

  it('refuses non-ASCII headers and bad payloads', () => {
    expectFrameError(() => encodeBinaryFrame('audio', 'r', Buffer.alloc(1), { 'X-StreamId': 'é' }), 'non-ascii-header');
    expectFrameError(() => encodeBinaryFrame('audio', 'ré', Buffer.alloc(1)), 'non-ascii-header');
    expectFrameError(() => encodeBinaryFrame('audio', 'r', 'abc' as unknown as Buffer), 'invalid-body');
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Interop with the real SDK's formatter
// ------------------------------------------------------------------------------------------------------------------

describe('interop with the JS SDK WebsocketMessageFormatter', { skip: sdk === undefined ? 'SDK internals not loadable' : false }, () => {
  it('decodes text frames the SDK produces', async () => {
    assert.ok(sdk);
    const body = '{"phraseDetection":{"mode":"Interactive","language":"en-US","enrichment":{}},"phraseOutput":{}}';
    const raw = await sdk.formatter.fromConnectionMessage(
      sdk.newSpeechMessage(sdk.MessageType.Text, 'speech.context', RID, 'application/json', body),
    );
    assert.equal(typeof raw.payload, 'string');
    const msg = decodeTextFrame(raw.payload as string);
    assert.equal(msg.path, 'speech.context');
    assert.equal(msg.requestId, RID);
    assert.equal(msg.contentType, 'application/json');
    assert.equal(msg.body, body);
    assert.ok(!Number.isNaN(Date.parse(msg.headers.get('x-timestamp') ?? '')));
  });

  it('decodes binary audio frames the SDK produces (WAV header, PCM, end of stream)', async () => {
    assert.ok(sdk);
    const cases: Array<[string | null, Buffer | null, number]> = [
      ['audio/x-wav', sdkWavHeader(), 44],
      [null, Buffer.alloc(3200, 3), 3200],
      [null, null, 0],
    ];
    for (const [contentType, payload, size] of cases) {
      const raw = await sdk.formatter.fromConnectionMessage(
        sdk.newSpeechMessage(sdk.MessageType.Binary, 'audio', RID, contentType, payload === null ? null : toArrayBuffer(payload)),
      );
      assert.ok(raw.payload instanceof ArrayBuffer);
      const msg = decodeBinaryFrame(Buffer.from(raw.payload));
      assert.equal(msg.path, 'audio');
      assert.equal(msg.requestId, RID);
      assert.equal(msg.contentType, contentType ?? undefined);
      assert.equal(msg.body.length, size);
      if (payload !== null) {
        assert.ok(msg.body.equals(payload));
      }
    }
  });

  it('the SDK parses the text frames we produce', async () => {
    assert.ok(sdk);
    const body = { RecognitionStatus: 'Success', DisplayText: 'a\r\n\r\nb', Offset: 5, Duration: 7 };
    const text = encodeTextFrame(ServicePath.SpeechPhrase, RID, body);
    const conn = await sdk.formatter.toConnectionMessage(sdk.newRaw(sdk.MessageType.Text, text));
    const speech = sdk.toSpeechMessage(conn);
    assert.equal(speech.path, 'speech.phrase');
    assert.equal(speech.requestId, RID);
    assert.equal(speech.contentType, 'application/json; charset=utf-8');
    assert.deepEqual(JSON.parse(speech.body as string), body);
  });

  it('the SDK parses the binary frames we produce (X-StreamId, payload)', async () => {
    assert.ok(sdk);
    const pcm = Buffer.from(Array.from({ length: 640 }, (_, i) => i & 0xff));
    const frame = encodeBinaryFrame(ServicePath.Audio, RID, pcm, { 'X-StreamId': 'STREAM1' });
    const conn = await sdk.formatter.toConnectionMessage(sdk.newRaw(sdk.MessageType.Binary, toArrayBuffer(frame)));
    const speech = sdk.toSpeechMessage(conn);
    assert.equal(speech.path, 'audio');
    assert.equal(speech.requestId, RID);
    assert.equal(speech.streamId, 'STREAM1');
    assert.ok(speech.body instanceof ArrayBuffer);
    assert.ok(Buffer.from(speech.body).equals(pcm));
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Deterministic fuzzing
// ------------------------------------------------------------------------------------------------------------------

const FUZZ_SEED = 0x5eed_2026;
const FUZZ_CASES_PER_KIND = 2_500;

describe('fuzz: decoders only ever return a message or throw FrameError', () => {
  const rnd = prng(FUZZ_SEED);
  const int = (n: number): number => Math.floor(rnd() * n);
  const choose = <T>(xs: readonly T[]): T => {
    const x = xs[int(xs.length)];
    if (x === undefined) {
      throw new Error('empty pick');
    }
    return x;
  };
  const randomBytes = (n: number): Buffer => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i++) {
      b[i] = int(256);
    }
    return b;
  };
  const SNIPPETS = ['\r\n', '\n', '\r', ':', ': ', '\r\n\r\n', 'Path', 'path: audio', 'X-RequestId', '\u0000', ' ', '\t', '\u00e9', '🎤', '\ud800', '\udfff', '\u2028', '{', '}'];
  const randomUnicode = (n: number): string => {
    let s = '';
    for (let i = 0; i < n; i++) {
      const r = rnd();
      if (r < 0.2) {
        s += choose(SNIPPETS);
      } else if (r < 0.6) {
        s += String.fromCharCode(0x20 + int(0x5f));
      } else if (r < 0.8) {
        s += String.fromCharCode(int(0x20));
      } else {
        s += String.fromCharCode(int(0x10000));
      }
    }
    return s;
  };
  const validText = (): string => {
    const path = choose(['speech.context', 'speech.config', 'telemetry', 'ssml', 'synthesis.context', 'text.piece']);
    const eol = rnd() < 0.8 ? '\r\n' : '\n';
    const sep = rnd() < 0.5 ? ': ' : ':';
    const headers = [`Path${sep}${path}`, `X-RequestId${sep}${RID}`, `X-Timestamp${sep}${FIXED_ISO}`, `Content-Type${sep}application/json`];
    return `${headers.join(eol)}${eol}${eol}{"phraseDetection":{"language":"en-US"},"n":${int(1000)}}`;
  };
  const validBinary = (): Buffer => {
    const payload = choose([sdkWavHeader(), Buffer.alloc(0), randomBytes(int(400))]);
    return rnd() < 0.5
      ? binaryFrame(`Path: audio\r\nX-RequestId: ${RID}\r\nX-Timestamp: ${FIXED_ISO}\r\nContent-Type: audio/x-wav\r\n`, payload)
      : encodeBinaryFrame('audio', RID, payload, { 'X-StreamId': String(int(10)) });
  };
  const flipBits = (b: Buffer, flips: number): Buffer => {
    const c = Buffer.from(b);
    for (let i = 0; i < flips && c.length > 0; i++) {
      const at = int(c.length);
      c[at] = (c[at] ?? 0) ^ (1 << int(8));
    }
    return c;
  };

  const stats = { calls: 0, ok: 0, rejected: new Map<string, number>() };

  function check<B extends string | Buffer>(decode: () => SpeechMessage<B>, kind: 'text' | 'binary'): void {
    stats.calls += 1;
    let msg: SpeechMessage<B>;
    try {
      msg = decode();
    } catch (err) {
      if (!isFrameError(err)) {
        assert.fail(`non-FrameError escaped (${kind}): ${String(err)}`);
      }
      assert.notEqual(err.reason, 'internal', `internal error (${kind}): ${String(err.cause)}`);
      stats.rejected.set(err.reason, (stats.rejected.get(err.reason) ?? 0) + 1);
      return;
    }
    stats.ok += 1;
    // Invariants of every successfully decoded message.
    assert.match(msg.path, /^[A-Za-z0-9][A-Za-z0-9._-]*$/);
    assert.ok(msg.headers.size >= 1 && msg.headers.size <= MAX_HEADER_COUNT);
    assert.equal(msg.headers.get('path'), msg.path);
    assert.ok(msg.requestId === undefined || msg.requestId.length > 0);
    assert.equal(kind === 'text' ? typeof msg.body === 'string' : Buffer.isBuffer(msg.body), true);
    for (const [name] of msg.headers) {
      assert.equal(name, name.toLowerCase());
    }
  }

  it('random bytes as binary frames', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const frame = randomBytes(int(64));
      check(() => decodeBinaryFrame(frame), 'binary');
    }
  });

  it('random bytes as text frames (lossy UTF-8 decode)', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const text = randomBytes(int(200)).toString('utf8');
      check(() => decodeTextFrame(text), 'text');
    }
  });

  it('random unicode text (control chars, lone surrogates, separators)', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const text = rnd() < 0.5 ? randomUnicode(int(120)) : `Path: ${randomUnicode(int(20))}\r\n${randomUnicode(int(120))}`;
      check(() => decodeTextFrame(text), 'text');
    }
  });

  it('truncations of valid text and binary frames', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const t = validText();
      check(() => decodeTextFrame(t.slice(0, int(t.length + 1))), 'text');
      const b = validBinary();
      check(() => decodeBinaryFrame(b.subarray(0, int(b.length + 1))), 'binary');
    }
  });

  it('bit flips of valid text and binary frames', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const flips = 1 + int(4);
      const t = flipBits(Buffer.from(validText(), 'utf8'), flips).toString('utf8');
      check(() => decodeTextFrame(t), 'text');
      const b = flipBits(validBinary(), flips);
      check(() => decodeBinaryFrame(b), 'binary');
    }
  });

  it('huge and off-by-one header length values', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const b = Buffer.from(validBinary());
      const declared = b.readUInt16BE(0);
      const choice = int(4);
      const len =
        choice === 0 ? 0x8000 + int(0x8000) : choice === 1 ? MAX_HEADER_SECTION_SIZE + int(64) - 32 : Math.max(0, declared + int(9) - 4);
      b.writeUInt16BE(len & 0xffff, 0);
      check(() => decodeBinaryFrame(b), 'binary');
    }
  });

  it('header-line splicing: random lines inserted into valid frames', () => {
    for (let i = 0; i < FUZZ_CASES_PER_KIND; i++) {
      const t = validText();
      const cut = int(t.indexOf('\r\n\r\n') + 1);
      const injected = `${t.slice(0, cut)}${randomUnicode(int(30))}\r\n${t.slice(cut)}`;
      check(() => decodeTextFrame(injected), 'text');
      const lines = Array.from({ length: int(MAX_HEADER_COUNT + 8) }, () => `${randomUnicode(int(8)).replace(/[^\x20-\x7e]/g, 'x')}: v`);
      const head = `Path: audio\r\n${lines.join('\r\n')}`;
      check(() => decodeBinaryFrame(binaryFrame(head, randomBytes(int(16)))), 'binary');
    }
  });

  it('ran enough cases, with both outcomes represented', (t) => {
    t.diagnostic(`fuzz: ${stats.calls} cases, ${stats.ok} accepted, rejected by reason: ${JSON.stringify(Object.fromEntries(stats.rejected))}`);
    assert.ok(stats.calls >= 20_000, `only ${stats.calls} fuzz cases`);
    assert.ok(stats.ok > 1_000, `only ${stats.ok} accepted`);
    assert.ok(stats.rejected.size >= 6, `reasons seen: ${[...stats.rejected.keys()].join(', ')}`);
  });
});

describe('fuzz: encoders produce frames the decoder reads back exactly', () => {
  it('random paths, ids, bodies and extra headers', () => {
    const rnd = prng(FUZZ_SEED + 1);
    const int = (n: number): number => Math.floor(rnd() * n);
    const asciiWord = (n: number): string =>
      Array.from({ length: n }, () => String.fromCharCode(0x21 + int(0x5e))).join('');
    let encoded = 0;
    for (let i = 0; i < 3_000; i++) {
      const path = rnd() < 0.8 ? pick(rnd, ['turn.start', 'speech.phrase', 'audio', 'audio.metadata']) : asciiWord(int(12));
      const requestId = rnd() < 0.9 ? asciiWord(1 + int(32)) : ` ${asciiWord(3)}`;
      const extras: Record<string, string> = {};
      for (let k = int(4); k > 0; k--) {
        extras[`X-${asciiWord(1 + int(6)).replace(/[^A-Za-z0-9]/g, 'q')}`] = asciiWord(int(20));
      }
      const body = { Text: asciiWord(int(40)) + (rnd() < 0.1 ? '\r\n\r\n' : ''), Offset: int(1e9), Nested: { n: rnd() } };
      try {
        const text = encodeTextFrame(path, requestId, body, extras);
        const back = decodeTextFrame(text);
        assert.equal(back.path, path);
        assert.equal(back.requestId, requestId);
        assert.deepEqual(JSON.parse(back.body), body);
        for (const [k, v] of Object.entries(extras)) {
          assert.equal(back.headers.get(k.toLowerCase()), v);
        }
        const payload = Buffer.from(asciiWord(int(50)));
        const bin = decodeBinaryFrame(encodeBinaryFrame(path, requestId, payload, extras));
        assert.equal(bin.path, path);
        assert.equal(bin.requestId, requestId);
        assert.ok(bin.body.equals(payload));
        encoded += 1;
      } catch (err) {
        if (!isFrameError(err)) {
          assert.fail(`non-FrameError escaped the encoder: ${String(err)}`);
        }
        assert.notEqual(err.reason, 'internal');
      }
    }
    assert.ok(encoded > 1_000, `only ${encoded} encodable cases`);
  });
});

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  const x = xs[Math.floor(rnd() * xs.length)];
  if (x === undefined) {
    throw new Error('empty pick');
  }
  return x;
}
