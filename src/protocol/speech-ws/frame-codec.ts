/**
 * Pure, synchronous codec for Speech WebSocket ("USP") frames.
 *
 * Text frame:   `Name: value\r\n` … `\r\n` body (UTF-8 string).
 * Binary frame: `[u16 BE header length N][N bytes ASCII header lines][payload]`.
 *
 * The decoder is deliberately tolerant of what real SDKs send (case-insensitive names, optional whitespace after
 * the colon, bare-LF line ends, missing body) and strict about everything that could hurt the service (bounded
 * header section and header count, control characters, non-ASCII binary headers). For any input it either returns a
 * {@link SpeechMessage} or throws a {@link FrameError}; nothing else escapes.
 *
 * The encoder applies the generator rules the JS SDK's fragile parser needs (spec §A.4): every frame carries `Path`
 * and `X-RequestId`, text bodies are compact JSON and never contain `\r\n\r\n`, binary headers are ASCII and their
 * length fits a signed int16.
 *
 * Frame size limits are the WebSocket server's job (`maxPayload`), not this module's.
 *
 * @module
 */
import type { Clock } from '../../kernel/time.js';
import { systemClock } from '../../kernel/time.js';
import { ContentTypes, HeaderKey, HeaderName } from './wire-names.js';

/** Upper bound of the header section of a frame (characters for text frames, bytes for binary frames). */
export const MAX_HEADER_SECTION_SIZE = 16 * 1024;

/** Upper bound of the number of header lines in a frame. */
export const MAX_HEADER_COUNT = 64;

/** Upper bound of a `Path` value. Real paths are at most ~25 characters. */
export const MAX_PATH_LENGTH = 128;

/**
 * A decoded frame.
 *
 * `headers` holds every header with its name lower-cased (duplicates: the last one wins, as in the JS SDK parser);
 * `path`, `requestId` and `contentType` are copies of the corresponding headers for convenience.
 * `path` keeps the sender's spelling: compare it case-insensitively (see `pathMatches` in wire-names).
 * `body` is a string for text frames and a Buffer for binary frames; a zero-length Buffer on `audio` is the
 * end-of-stream marker, so it is preserved rather than mapped to "no body".
 */
export interface SpeechMessage<B extends string | Buffer = string | Buffer> {
  readonly path: string;
  /** `undefined` when the header is absent or empty (C++ sends `speech.config` without one). */
  readonly requestId: string | undefined;
  readonly headers: Map<string, string>;
  readonly contentType?: string;
  readonly body: B;
}

/** Why a frame was rejected (decoding) or could not be produced (encoding). */
export type FrameErrorReason =
  /** Decoder was given something that is not a string / Buffer (only possible from untyped callers). */
  | 'invalid-input'
  /** Binary frame shorter than the 2-byte header length prefix. */
  | 'truncated'
  /** Binary header length points beyond the end of the frame. */
  | 'header-length-out-of-range'
  /** Header section larger than {@link MAX_HEADER_SECTION_SIZE}. */
  | 'headers-too-large'
  /** More than {@link MAX_HEADER_COUNT} header lines. */
  | 'too-many-headers'
  /** A header line without a colon, with an empty name, or with a name that is not an RFC 9110 token. */
  | 'malformed-header'
  /** A header value containing control characters (or, for encoding, a non-string value). */
  | 'invalid-header-value'
  /** A binary frame's header block contains bytes outside printable ASCII / HTAB / CR / LF. */
  | 'non-ascii-header'
  /** No `Path` header, or an empty one. */
  | 'missing-path'
  /** A `Path` value that is too long or contains characters other than `[A-Za-z0-9._-]`. */
  | 'invalid-path'
  /** Encoding: empty or unusable request id. */
  | 'invalid-request-id'
  /** Encoding: `Path` / `X-RequestId` passed as an extra header, or the same extra header twice. */
  | 'reserved-header'
  /** Encoding: body is not JSON-serialisable (cycles, BigInt, non-finite numbers, not an object). */
  | 'invalid-body'
  /** Encoding: a string body contains `\r\n\r\n` and is not JSON that could be re-serialised compactly. */
  | 'body-contains-separator'
  /**
   * A bug, never the peer's fault: an unexpected exception inside the decoder (caught so the "only FrameError"
   * contract holds; tests assert it never happens) or an injected clock returning an invalid time.
   */
  | 'internal';

/**
 * The only exception the codec throws. Decoding errors mean "drop this frame / close the socket with 1007";
 * encoding errors are programming errors in the caller.
 */
export class FrameError extends Error {
  /** Machine-readable cause. */
  readonly reason: FrameErrorReason;

  constructor(reason: FrameErrorReason, message: string, options?: { cause?: unknown }) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'FrameError';
    this.reason = reason;
  }
}

/** Type guard for {@link FrameError}. */
export function isFrameError(err: unknown): err is FrameError {
  return err instanceof FrameError;
}

// ---------------------------------------------------------------------------------------------------------------
// Character classes
// ---------------------------------------------------------------------------------------------------------------

// RFC 9110 token: what a header name may be. Rejecting anything else keeps control bytes, spaces and non-ASCII out
// of header names without having to special-case each.
const TOKEN_RE = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

// Control characters other than HTAB; a bare CR inside a line lands here too (we only split on LF).
const CONTROL_RE = /[\u0000-\u0008\u000A-\u001F\u007F]/;

// Paths seen in the wild are dotted lower-case words; a tight charset makes paths safe to log and switch on.
const PATH_RE = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

// Only printable ASCII is allowed in encoded header values of binary frames, because the JS SDK decodes them
// byte-by-byte with getInt8 (spec §A.4 rule 4); text frames are decoded as UTF-8 strings and may carry more.
const PRINTABLE_ASCII_RE = /^[\u0020-\u007E\t]*$/;

const SEPARATOR = '\r\n\r\n';

// ---------------------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------------------

/**
 * Parses one header line into `headers`. `line` has no line terminator.
 * Optional whitespace around the name and value is trimmed (SDKs write `Name: value`, the service writes `Name:value`).
 */
function parseHeaderLine(line: string, headers: Map<string, string>): void {
  const colon = line.indexOf(':');
  if (colon < 0) {
    throw new FrameError('malformed-header', 'header line without ":"');
  }
  const name = line.slice(0, colon).trim();
  if (name.length === 0 || !TOKEN_RE.test(name)) {
    throw new FrameError('malformed-header', 'empty or invalid header name');
  }
  const value = line.slice(colon + 1).trim();
  if (CONTROL_RE.test(value)) {
    throw new FrameError('invalid-header-value', `control character in value of header ${name}`);
  }
  headers.set(name.toLowerCase(), value);
}

/** Builds the message from parsed headers, enforcing the `Path` rules shared by both frame kinds. */
function buildMessage<B extends string | Buffer>(headers: Map<string, string>, body: B): SpeechMessage<B> {
  const path = headers.get(HeaderKey.Path);
  if (path === undefined || path.length === 0) {
    throw new FrameError('missing-path', 'frame has no Path header');
  }
  if (path.length > MAX_PATH_LENGTH || !PATH_RE.test(path)) {
    throw new FrameError('invalid-path', 'invalid Path header value');
  }
  const requestId = headers.get(HeaderKey.RequestId);
  const contentType = headers.get(HeaderKey.ContentType);
  const message: SpeechMessage<B> = {
    path,
    // An empty X-RequestId carries no information; callers only have to handle one "absent" case.
    requestId: requestId === undefined || requestId.length === 0 ? undefined : requestId,
    headers,
    body,
    ...(contentType === undefined ? {} : { contentType }),
  };
  return message;
}

/** Runs a decoder, turning any unexpected exception into a FrameError so the "only FrameError" contract holds. */
function guarded<T>(fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    if (err instanceof FrameError) {
      throw err;
    }
    throw new FrameError('internal', 'unexpected error while decoding frame', { cause: err });
  }
}

/** True if `text[start, end)` is empty or a lone CR, i.e. the header/body separator line. */
function isBlankLine(text: string, start: number, end: number): boolean {
  return end === start || (end === start + 1 && text.charCodeAt(start) === 0x0d);
}

function decodeTextFrameUnguarded(text: string): SpeechMessage<string> {
  if (typeof text !== 'string') {
    throw new FrameError('invalid-input', 'text frame must be a string');
  }
  const headers = new Map<string, string>();
  let pos = 0;
  let bodyStart = -1;
  let lines = 0;
  while (pos < text.length) {
    const lf = text.indexOf('\n', pos);
    const lineEnd = lf < 0 ? text.length : lf;
    const next = lf < 0 ? text.length : lf + 1;
    // The header section is every header line with its terminator, not the blank line (the same quantity a binary
    // frame's length prefix counts). Checked before slicing so an oversized line is never copied.
    if (next > MAX_HEADER_SECTION_SIZE && !isBlankLine(text, pos, lineEnd)) {
      throw new FrameError('headers-too-large', `header section exceeds ${MAX_HEADER_SECTION_SIZE} characters`);
    }
    // CRLF is the protocol's line end; a bare LF is tolerated, so only a CR directly before the LF is stripped.
    const crlf = lineEnd > pos && text.charCodeAt(lineEnd - 1) === 0x0d;
    const line = text.slice(pos, crlf ? lineEnd - 1 : lineEnd);
    if (line.length === 0) {
      // The blank line: the body follows it. A trailing lone "\r" (no LF) is an empty body, not a header.
      bodyStart = next;
      break;
    }
    lines += 1;
    if (lines > MAX_HEADER_COUNT) {
      throw new FrameError('too-many-headers', `more than ${MAX_HEADER_COUNT} headers`);
    }
    parseHeaderLine(line, headers);
    pos = next;
  }
  const body = bodyStart < 0 ? '' : text.slice(bodyStart);
  return buildMessage(headers, body);
}

/**
 * Decodes a text WebSocket frame.
 *
 * Accepts CRLF or bare-LF line ends, case-insensitive header names, optional whitespace around values, an empty
 * body, and no blank line at all (then the body is `""`).
 *
 * @param text - the frame as a string (the WebSocket layer has already validated UTF-8)
 * @returns the decoded message; `body` is the verbatim text after the first blank line
 * @throws FrameError - for malformed, oversized or Path-less frames; never any other exception
 */
export function decodeTextFrame(text: string): SpeechMessage<string> {
  return guarded(() => decodeTextFrameUnguarded(text));
}

function decodeBinaryFrameUnguarded(frame: Buffer): SpeechMessage<Buffer> {
  // Typed as Buffer, but untyped callers (or ws with another binaryType) may pass anything.
  const input: unknown = frame;
  if (!(input instanceof Uint8Array)) {
    throw new FrameError('invalid-input', 'binary frame must be a Buffer');
  }
  // A plain Uint8Array from an untyped caller gets a zero-copy Buffer view so the Buffer API is available.
  const buf = Buffer.isBuffer(input) ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
  if (buf.length < 2) {
    throw new FrameError('truncated', 'binary frame shorter than its 2-byte header length');
  }
  const headerLength = buf.readUInt16BE(0);
  if (headerLength > MAX_HEADER_SECTION_SIZE) {
    throw new FrameError('headers-too-large', `binary header length ${headerLength} exceeds ${MAX_HEADER_SECTION_SIZE}`);
  }
  const headerEnd = 2 + headerLength;
  if (headerEnd > buf.length) {
    throw new FrameError('header-length-out-of-range', `binary header length ${headerLength} exceeds frame size`);
  }
  for (let i = 2; i < headerEnd; i++) {
    const b = buf[i] ?? 0;
    // Printable ASCII plus HTAB, CR, LF. Anything else has no defined meaning in the ASCII header block.
    if (b > 0x7e || (b < 0x20 && b !== 0x09 && b !== 0x0a && b !== 0x0d)) {
      throw new FrameError('non-ascii-header', `byte 0x${b.toString(16)} in binary header block`);
    }
  }
  const headerText = buf.toString('latin1', 2, headerEnd);
  const headers = new Map<string, string>();
  let lines = 0;
  let pos = 0;
  while (pos < headerText.length) {
    const lf = headerText.indexOf('\n', pos);
    const lineEnd = lf < 0 ? headerText.length : lf;
    const crlf = lineEnd > pos && headerText.charCodeAt(lineEnd - 1) === 0x0d;
    const line = headerText.slice(pos, crlf ? lineEnd - 1 : lineEnd);
    pos = lf < 0 ? headerText.length : lf + 1;
    // The binary header block has no blank-line terminator; empty lines carry nothing and are skipped (as JS does).
    if (line.length === 0) {
      continue;
    }
    lines += 1;
    if (lines > MAX_HEADER_COUNT) {
      throw new FrameError('too-many-headers', `more than ${MAX_HEADER_COUNT} headers`);
    }
    parseHeaderLine(line, headers);
  }
  // A view, not a copy: audio is the hot path, and the frame buffer is owned by this message from here on.
  const payload = buf.subarray(headerEnd);
  return buildMessage(headers, payload);
}

/**
 * Decodes a binary WebSocket frame: u16 big-endian header length N, N bytes of ASCII header lines (CRLF or LF
 * separated, final terminator optional), then the payload.
 *
 * @param buf - the frame
 * @returns the decoded message; `body` is a view of `buf` after the headers, possibly zero-length
 *   (on `audio` that means end of stream)
 * @throws FrameError - for short frames, bad header lengths, non-ASCII or malformed headers, missing Path;
 *   never any other exception
 */
export function decodeBinaryFrame(buf: Buffer): SpeechMessage<Buffer> {
  return guarded(() => decodeBinaryFrameUnguarded(buf));
}

// ---------------------------------------------------------------------------------------------------------------
// Encoding
// ---------------------------------------------------------------------------------------------------------------

/** Options for {@link createFrameEncoder}. */
export interface FrameEncoderOptions {
  /** Source of the `X-Timestamp` header (ms since epoch, must be finite). Defaults to the system clock. */
  readonly clock?: Clock;
}

/** Encoder bound to a clock; tests build one with a fixed clock to get byte-exact frames. */
export interface FrameEncoder {
  /** See {@link encodeTextFrame}. */
  encodeTextFrame(path: string, requestId: string, body: object | string, extraHeaders?: Record<string, string>): string;
  /** See {@link encodeBinaryFrame}. */
  encodeBinaryFrame(path: string, requestId: string, payload: Buffer, extraHeaders?: Record<string, string>): Buffer;
}

function checkPath(path: string): void {
  if (typeof path !== 'string' || path.length === 0) {
    throw new FrameError('missing-path', 'path is required');
  }
  if (path.length > MAX_PATH_LENGTH || !PATH_RE.test(path)) {
    throw new FrameError('invalid-path', `invalid path ${JSON.stringify(path)}`);
  }
}

function checkHeaderValue(name: string, value: unknown, asciiOnly: boolean): string {
  if (typeof value !== 'string') {
    throw new FrameError('invalid-header-value', `value of header ${name} is not a string`);
  }
  // Values are written verbatim, so anything that could end the line or be trimmed away on decode is refused:
  // that is what keeps header injection and lossy round trips impossible.
  if (CONTROL_RE.test(value) || value !== value.trim()) {
    throw new FrameError('invalid-header-value', `invalid characters in value of header ${name}`);
  }
  if (asciiOnly && !PRINTABLE_ASCII_RE.test(value)) {
    throw new FrameError('non-ascii-header', `non-ASCII value in binary frame header ${name}`);
  }
  return value;
}

/**
 * Builds the header block (each line CRLF-terminated). Order: X-RequestId, Path, Content-Type (if any), X-Timestamp,
 * then the remaining extra headers in insertion order. Extra `Content-Type` / `X-Timestamp` override the defaults.
 */
function buildHeaderBlock(
  path: string,
  requestId: string,
  defaultContentType: string | undefined,
  timestamp: string,
  extraHeaders: Record<string, string> | undefined,
  asciiOnly: boolean,
): string {
  checkPath(path);
  if (typeof requestId !== 'string' || requestId.length === 0) {
    throw new FrameError('invalid-request-id', 'request id is required');
  }
  checkHeaderValue(HeaderName.RequestId, requestId, asciiOnly);

  let contentType = defaultContentType;
  let stamp = timestamp;
  const extras: string[] = [];
  const seen = new Set<string>();
  if (extraHeaders !== undefined && extraHeaders !== null) {
    for (const [name, raw] of Object.entries(extraHeaders)) {
      if (!TOKEN_RE.test(name)) {
        throw new FrameError('malformed-header', `invalid header name ${JSON.stringify(name)}`);
      }
      const key = name.toLowerCase();
      if (key === HeaderKey.Path || key === HeaderKey.RequestId || seen.has(key)) {
        throw new FrameError('reserved-header', `header ${name} is reserved or duplicated`);
      }
      seen.add(key);
      const value = checkHeaderValue(name, raw, asciiOnly);
      if (key === HeaderKey.ContentType) {
        contentType = value;
      } else if (key === HeaderKey.Timestamp) {
        stamp = value;
      } else {
        extras.push(`${name}:${value}\r\n`);
      }
    }
  }
  if (extras.length + 4 > MAX_HEADER_COUNT) {
    throw new FrameError('too-many-headers', `more than ${MAX_HEADER_COUNT} headers`);
  }
  // No space after the colon: accepted by both the JS and the C++ parser (spec §A.4 rule 7).
  let block = `${HeaderName.RequestId}:${requestId}\r\n${HeaderName.Path}:${path}\r\n`;
  if (contentType !== undefined) {
    block += `${HeaderName.ContentType}:${contentType}\r\n`;
  }
  block += `${HeaderName.Timestamp}:${stamp}\r\n`;
  block += extras.join('');
  if (block.length > MAX_HEADER_SECTION_SIZE) {
    throw new FrameError('headers-too-large', `header section exceeds ${MAX_HEADER_SECTION_SIZE}`);
  }
  return block;
}

// A replacer that refuses values JSON would silently corrupt: NaN/±Infinity become `null` (the SDK then adds null
// to its offset base) and `undefined` at the top level makes the body disappear.
function strictReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value)) {
    throw new FrameError('invalid-body', 'non-finite number in body');
  }
  return value;
}

function serialiseJson(value: unknown): string {
  let json: string | undefined;
  try {
    // JSON.stringify is typed as returning string but yields undefined for e.g. a toJSON() returning undefined.
    json = JSON.stringify(value, strictReplacer) as string | undefined;
  } catch (err) {
    if (err instanceof FrameError) {
      throw err;
    }
    throw new FrameError('invalid-body', 'body is not JSON-serialisable', { cause: err });
  }
  if (json === undefined) {
    throw new FrameError('invalid-body', 'body serialises to nothing');
  }
  return json;
}

function textBody(body: object | string): string {
  if (typeof body === 'string') {
    if (!body.includes(SEPARATOR)) {
      return body;
    }
    // The JS SDK keeps only the text between the first and second "\r\n\r\n" (spec §A.4 rule 2). JSON can only have
    // raw CR/LF as insignificant whitespace, so re-serialising it compactly removes them without changing meaning.
    let parsed: unknown;
    try {
      parsed = JSON.parse(body);
    } catch {
      throw new FrameError('body-contains-separator', 'text body contains "\\r\\n\\r\\n" and is not JSON');
    }
    return serialiseJson(parsed);
  }
  if (typeof body !== 'object' || body === null) {
    throw new FrameError('invalid-body', 'body must be an object or a string');
  }
  // Compact JSON never contains raw CR/LF (they are escaped inside strings), so the separator rule holds.
  return serialiseJson(body);
}

/**
 * Creates an encoder whose `X-Timestamp` comes from `options.clock`.
 *
 * @param options - clock injection for deterministic tests
 */
export function createFrameEncoder(options: FrameEncoderOptions = {}): FrameEncoder {
  const clock = options.clock ?? systemClock;
  const timestamp = (): string => {
    const ms = clock.now();
    // toISOString throws a RangeError for NaN or out-of-range times; keep the "only FrameError" contract.
    if (!Number.isFinite(ms) || Math.abs(ms) > 8.64e15) {
      throw new FrameError('internal', `clock returned an invalid time: ${String(ms)}`);
    }
    return new Date(ms).toISOString();
  };

  return {
    encodeTextFrame(path, requestId, body, extraHeaders) {
      const block = buildHeaderBlock(path, requestId, ContentTypes.JsonUtf8, timestamp(), extraHeaders, false);
      return `${block}\r\n${textBody(body)}`;
    },

    encodeBinaryFrame(path, requestId, payload, extraHeaders) {
      if (!(payload instanceof Uint8Array)) {
        throw new FrameError('invalid-body', 'binary payload must be a Buffer');
      }
      const block = buildHeaderBlock(path, requestId, undefined, timestamp(), extraHeaders, true);
      // The block is printable ASCII (checked above), so its string length is its byte length and latin1 is exact.
      const headerLength = block.length;
      const frame = Buffer.allocUnsafe(2 + headerLength + payload.length);
      frame.writeUInt16BE(headerLength, 0);
      frame.write(block, 2, headerLength, 'latin1');
      frame.set(payload, 2 + headerLength);
      return frame;
    },
  };
}

const defaultEncoder = createFrameEncoder();

/**
 * Encodes a service→client text frame:
 * `X-RequestId:<id>\r\nPath:<path>\r\nContent-Type:application/json; charset=utf-8\r\nX-Timestamp:<ISO>\r\n\r\n<body>`.
 *
 * Objects are serialised as compact JSON (numbers stay numbers; non-finite numbers, cycles and BigInt are refused).
 * Strings are sent verbatim unless they contain `\r\n\r\n`, in which case they must be JSON and are re-serialised
 * compactly. `extraHeaders` are appended; `Content-Type` and `X-Timestamp` in it replace the defaults, while `Path`
 * and `X-RequestId` are refused.
 *
 * @throws FrameError - on invalid path, request id, header names/values, or body (caller bug)
 */
export function encodeTextFrame(
  path: string,
  requestId: string,
  body: object | string,
  extraHeaders?: Record<string, string>,
): string {
  return defaultEncoder.encodeTextFrame(path, requestId, body, extraHeaders);
}

/**
 * Encodes a service→client binary frame: u16 BE header length, ASCII header lines
 * (`X-RequestId`, `Path`, optional `Content-Type`, `X-Timestamp`, extras such as `X-StreamId`), then `payload`.
 * The header block is bounded by {@link MAX_HEADER_SECTION_SIZE}, far below the 32 KiB the JS SDK's signed-int16
 * read allows.
 *
 * @throws FrameError - on invalid path, request id, non-ASCII or malformed headers (caller bug)
 */
export function encodeBinaryFrame(
  path: string,
  requestId: string,
  payload: Buffer,
  extraHeaders?: Record<string, string>,
): Buffer {
  return defaultEncoder.encodeBinaryFrame(path, requestId, payload, extraHeaders);
}
