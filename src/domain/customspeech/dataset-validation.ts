import { MAX_WAV_HEADER_BYTES, parseWavHeader } from '../../kernel/audio/wav.js';
import { ArchiveError, type Archive, type ArchiveEntry } from '../ports/archive-reader.js';
import type { EntityError } from './common.js';

/**
 * What a dataset's content must look like, per kind (protocol §D.6), as functions over bytes: no I/O
 * beyond the streams and archive handed in, so every rule is unit-tested on its own.
 *
 * - Language: UTF-8 plain text (BOM allowed), one sentence per line. Empty lines and lines longer than
 *   `maxLineChars` are rejected (counted); invalid UTF-8, NUL bytes or an empty file fail the dataset.
 * - Pronunciation: lines `display form<TAB>spoken form` (exactly one tab, both sides non-empty, the
 *   spoken form only letters, apostrophes and spaces).
 * - Acoustic: a zip of .wav audio and one or more .txt transcription files whose lines are
 *   `file name<TAB>transcription`, each naming audio in the zip.
 * - AudioFiles: a zip of .wav audio.
 * A dataset fails when nothing at all is usable; otherwise the rejected lines are counted and listed
 * in the report.
 */

export interface DatasetLimits {
  /** Language and Pronunciation files. */
  maxTextBytes: number;
  maxTextLines: number;
  maxLineChars: number;
  /** Transcription lines of acoustic datasets (file name, tab, transcription). */
  maxTranscriptLineChars: number;
  /** Acoustic and AudioFiles archives. */
  maxArchiveBytes: number;
  maxArchiveEntries: number;
  maxUncompressedBytes: number;
  /** Declared uncompressed bytes per archive byte, beyond `ratioCheckAboveBytes` (zip bombs). */
  maxCompressionRatio: number;
  ratioCheckAboveBytes: number;
  /** One transcription file inside an archive. */
  maxTranscriptFileBytes: number;
  /** Rejected lines listed in the report (all are counted). */
  maxReportedRejections: number;
}

export const DATASET_LIMITS: DatasetLimits = {
  maxTextBytes: 200 * 1024 * 1024,
  maxTextLines: 1_500_000,
  maxLineChars: 500,
  maxTranscriptLineChars: 2_000,
  maxArchiveBytes: 2 * 1024 * 1024 * 1024,
  maxArchiveEntries: 10_000,
  maxUncompressedBytes: 2 * 1024 * 1024 * 1024,
  maxCompressionRatio: 100,
  ratioCheckAboveBytes: 16 * 1024 * 1024,
  maxTranscriptFileBytes: 64 * 1024 * 1024,
  maxReportedRejections: 1_000,
};

/** Why a whole dataset is unusable; `code` becomes `properties.error.code`. */
export class DatasetContentError extends Error {
  override name = 'DatasetContentError';
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Rejection {
  /** Transcription file inside an archive, or the audio file (AudioFiles). */
  file?: string;
  /** 1-based line number. */
  line?: number;
  reason: string;
}

export interface ValidationOutcome {
  status: 'Succeeded' | 'Failed';
  acceptedLineCount: number;
  rejectedLineCount: number;
  /** Accepted audio (Acoustic, AudioFiles). */
  durationMs?: number;
  error?: EntityError;
  rejections: Rejection[];
  rejectionsTruncated: boolean;
  /** Things worth knowing that are neither accepted nor rejected (ignored archive entries, audio without transcription). */
  notes: string[];
}

// --- text lines --------------------------------------------------------------------------------------

export interface SplitLine {
  /** 1-based. */
  n: number;
  /** Decoded, without the line break (LF or CRLF) and without a leading BOM. */
  text: string;
  /** Longer than the splitter's line bound (`text` is then empty: the bytes were not kept). */
  tooLong: boolean;
}

/**
 * Splits a UTF-8 byte stream into lines while checking the encoding byte by byte (exact offsets in
 * errors), refusing NUL bytes (binary data) and bounding memory: a line longer than the bound is
 * reported as too long without being kept.
 */
export class LineSplitter {
  private need = 0;
  private lo = 0x80;
  private hi = 0xbf;
  private offset = 0;
  /** Where the multi-byte sequence being read started (errors point at its first byte). */
  private seqStart = 0;
  private parts: Uint8Array[] = [];
  private partBytes = 0;
  private overflow = false;
  private lineNo = 0;
  private readonly head: number[] = [];
  private readonly maxLineBytes: number;

  constructor(
    private readonly what: string,
    private readonly maxLineChars: number,
    private readonly maxLines: number,
  ) {
    // A character is at most 4 bytes; a BOM and a CR may come on top.
    this.maxLineBytes = maxLineChars * 4 + 4;
  }

  /** Bytes seen so far. */
  get bytes(): number {
    return this.offset;
  }

  push(chunk: Uint8Array, emit: (line: SplitLine) => void): void {
    for (let i = 0; i < chunk.length && this.head.length < 2; i++) this.head.push(chunk[i] as number);
    let start = 0;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.need > 0) {
        if (b < this.lo || b > this.hi) throw this.invalidUtf8(this.seqStart);
        this.lo = 0x80;
        this.hi = 0xbf;
        this.need--;
        continue;
      }
      if (b < 0x80) {
        if (b === 0x0a) {
          this.append(chunk, start, i);
          this.emit(emit);
          start = i + 1;
        } else if (b === 0) {
          throw new DatasetContentError('BinaryContent', `${this.what} contains NUL bytes (at byte offset ${this.offset + i}): it is binary data, not UTF-8 text.`);
        }
        continue;
      }
      this.seqStart = this.offset + i;
      if (b >= 0xc2 && b <= 0xdf) this.expect(1, 0x80, 0xbf);
      else if (b === 0xe0) this.expect(2, 0xa0, 0xbf);
      else if ((b >= 0xe1 && b <= 0xec) || b === 0xee || b === 0xef) this.expect(2, 0x80, 0xbf);
      else if (b === 0xed) this.expect(2, 0x80, 0x9f);
      else if (b === 0xf0) this.expect(3, 0x90, 0xbf);
      else if (b >= 0xf1 && b <= 0xf3) this.expect(3, 0x80, 0xbf);
      else if (b === 0xf4) this.expect(3, 0x80, 0x8f);
      else throw this.invalidUtf8(this.offset + i);
    }
    this.append(chunk, start, chunk.length);
    this.offset += chunk.length;
  }

  end(emit: (line: SplitLine) => void): void {
    if (this.need > 0) throw this.invalidUtf8(this.seqStart);
    if (this.partBytes > 0 || this.overflow) this.emit(emit);
  }

  private expect(need: number, lo: number, hi: number): void {
    this.need = need;
    this.lo = lo;
    this.hi = hi;
  }

  private append(chunk: Uint8Array, start: number, end: number): void {
    if (end <= start || this.overflow) return;
    if (this.partBytes + (end - start) > this.maxLineBytes) {
      this.overflow = true;
      this.parts = [];
      this.partBytes = 0;
      return;
    }
    this.parts.push(Uint8Array.prototype.slice.call(chunk, start, end));
    this.partBytes += end - start;
  }

  private emit(emit: (line: SplitLine) => void): void {
    this.lineNo++;
    if (this.lineNo > this.maxLines) {
      throw new DatasetContentError('TooManyLines', `${this.what} has more than ${this.maxLines} lines.`);
    }
    let text = '';
    let tooLong = this.overflow;
    if (!tooLong) {
      text = Buffer.concat(this.parts, this.partBytes).toString('utf8');
      if (this.lineNo === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      if (text.length > this.maxLineChars && codePoints(text) > this.maxLineChars) {
        tooLong = true;
        text = '';
      }
    }
    this.parts = [];
    this.partBytes = 0;
    this.overflow = false;
    emit({ n: this.lineNo, text, tooLong });
  }

  private invalidUtf8(at: number): DatasetContentError {
    const [a, b] = this.head;
    if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff)) {
      return new DatasetContentError('InvalidEncoding', `${this.what} is encoded as UTF-16; save it as UTF-8 (a byte order mark is allowed).`);
    }
    return new DatasetContentError('InvalidEncoding', `${this.what} is not valid UTF-8 text (invalid byte sequence at byte offset ${at}, line ${this.lineNo + 1}).`);
  }
}

function codePoints(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

// Control characters other than TAB (line breaks were split off already).
const CONTROL = /[\u0001-\u0008\u000B-\u001F\u007F]/;

/** Why a Language line is rejected, or undefined when it is accepted. */
export function languageLineProblem(line: SplitLine, maxLineChars = DATASET_LIMITS.maxLineChars): string | undefined {
  if (line.tooLong) return `the line is longer than ${maxLineChars} characters`;
  if (line.text.trim() === '') return 'the line is empty';
  if (CONTROL.test(line.text)) return 'the line contains control characters';
  return undefined;
}

const SPOKEN_FORM = /^[\p{L}\p{M}' ]+$/u;

/** Why a Pronunciation line (`display form<TAB>spoken form`) is rejected, or undefined. */
export function pronunciationLineProblem(line: SplitLine, maxLineChars = DATASET_LIMITS.maxLineChars): string | undefined {
  if (line.tooLong) return `the line is longer than ${maxLineChars} characters`;
  if (line.text.trim() === '') return 'the line is empty';
  const parts = line.text.split('\t');
  if (parts.length !== 2) return `expected 'display form<TAB>spoken form' (exactly one tab), found ${parts.length - 1} tabs`;
  const [display = '', spoken = ''] = parts.map((p) => p.trim());
  if (display === '') return 'the display form is empty';
  if (spoken === '') return 'the spoken form is empty';
  if (CONTROL.test(line.text)) return 'the line contains control characters';
  if (!SPOKEN_FORM.test(spoken)) return `the spoken form '${clip(spoken)}' may contain only letters, apostrophes and spaces`;
  return undefined;
}

/** A transcription line of an acoustic dataset: `file name<TAB>transcription`. */
export function parseTranscriptLine(line: SplitLine, maxLineChars = DATASET_LIMITS.maxTranscriptLineChars): { file: string; text: string } | { problem: string } {
  if (line.tooLong) return { problem: `the line is longer than ${maxLineChars} characters` };
  const tab = line.text.indexOf('\t');
  if (tab < 0) return { problem: "expected 'file name<TAB>transcription' (no tab found)" };
  const file = line.text.slice(0, tab).trim();
  const text = line.text.slice(tab + 1).trim();
  if (file === '') return { problem: 'the file name is empty' };
  if (text === '') return { problem: `the transcription of '${clip(file)}' is empty` };
  if (text.includes('\t')) return { problem: 'the transcription contains a tab' };
  if (CONTROL.test(line.text)) return { problem: 'the line contains control characters' };
  return { file, text };
}

function clip(s: string, n = 80): string {
  return s.length > n ? `${s.slice(0, n)}…` : s;
}

/** Collects accepted and rejected counts, and the first rejections for the report. */
class Tally {
  accepted = 0;
  rejected = 0;
  durationMs = 0;
  readonly rejections: Rejection[] = [];
  readonly notes: string[] = [];

  constructor(private readonly maxListed: number) {}

  reject(r: Rejection): void {
    this.rejected++;
    if (this.rejections.length < this.maxListed) this.rejections.push(r);
  }

  outcome(extra: { withDuration?: boolean; noneUsable: () => DatasetContentError }): ValidationOutcome {
    const base = {
      acceptedLineCount: this.accepted,
      rejectedLineCount: this.rejected,
      ...(extra.withDuration ? { durationMs: Math.round(this.durationMs) } : {}),
      rejections: this.rejections,
      rejectionsTruncated: this.rejected > this.rejections.length,
      notes: this.notes,
    };
    if (this.accepted === 0) {
      const err = extra.noneUsable();
      return { status: 'Failed', ...base, error: { code: err.code, message: err.message } };
    }
    return { status: 'Succeeded', ...base };
  }
}

function describe(r: Rejection | undefined): string {
  if (!r) return '';
  const where = [r.file, r.line !== undefined ? `line ${r.line}` : undefined].filter(Boolean).join(', ');
  return where ? ` First problem: ${where}: ${r.reason}.` : ` First problem: ${r.reason}.`;
}

/** A failed outcome for a whole-dataset problem. */
export function failedOutcome(error: EntityError, notes: string[] = []): ValidationOutcome {
  return { status: 'Failed', acceptedLineCount: 0, rejectedLineCount: 0, error, rejections: [], rejectionsTruncated: false, notes };
}

function checkAbort(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
}

/** Validates a Language or Pronunciation file. Rethrows only aborts; content problems become a Failed outcome. */
export async function validateTextDataset(
  kind: 'Language' | 'Pronunciation',
  chunks: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
  limits: DatasetLimits = DATASET_LIMITS,
  signal?: AbortSignal,
  /** Receives each accepted line (reading a validated dataset for training). */
  onAccepted?: (text: string) => void,
): Promise<ValidationOutcome> {
  const tally = new Tally(limits.maxReportedRejections);
  const splitter = new LineSplitter('The file', limits.maxLineChars, limits.maxTextLines);
  const check = kind === 'Language' ? languageLineProblem : pronunciationLineProblem;
  const onLine = (line: SplitLine): void => {
    const problem = check(line, limits.maxLineChars);
    if (problem) tally.reject({ line: line.n, reason: problem });
    else {
      tally.accepted++;
      onAccepted?.(line.text);
    }
  };
  try {
    for await (const chunk of chunks) {
      checkAbort(signal);
      splitter.push(chunk, onLine);
      if (splitter.bytes > limits.maxTextBytes) throw new DatasetContentError('DatasetTooLarge', `The file is larger than ${limits.maxTextBytes} bytes.`);
    }
    splitter.end(onLine);
  } catch (err) {
    if (err instanceof DatasetContentError) return failedOutcome({ code: err.code, message: err.message });
    throw err;
  }
  if (splitter.bytes === 0) return failedOutcome({ code: 'EmptyFile', message: 'The file is empty.' });
  const format = kind === 'Language' ? 'one sentence per line' : "one 'display form<TAB>spoken form' entry per line";
  return tally.outcome({
    noneUsable: () => new DatasetContentError('NoValidLines', `The file has no usable line (expected UTF-8 text, ${format}).${describe(tally.rejections[0])}`),
  });
}

// --- archives ----------------------------------------------------------------------------------------

/** Why an entry name is unsafe (absolute, drive letter, `..`, backslash, NUL), or undefined. */
export function entryNameProblem(name: string): string | undefined {
  if (name.includes('\u0000')) return `the entry name '${clip(name)}' contains a NUL character`;
  if (name.includes('\\')) return `the entry name '${clip(name)}' contains a backslash`;
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) return `the entry '${clip(name)}' has an absolute path`;
  if (name.split('/').includes('..')) return `the entry '${clip(name)}' has a path outside the archive ('..')`;
  return undefined;
}

/** Archive-level bounds (entry count, total size, compression ratio) and entry names. */
export function archiveProblem(entries: readonly ArchiveEntry[], archiveBytes: number, limits: DatasetLimits = DATASET_LIMITS): DatasetContentError | undefined {
  if (entries.length > limits.maxArchiveEntries) {
    return new DatasetContentError('InvalidArchive', `The archive has ${entries.length} entries; at most ${limits.maxArchiveEntries} are allowed.`);
  }
  let total = 0;
  for (const e of entries) {
    const problem = entryNameProblem(e.name);
    if (problem) return new DatasetContentError('InvalidArchive', `The archive is refused: ${problem}.`);
    total += e.uncompressedSize;
    if (total > limits.maxUncompressedBytes) {
      return new DatasetContentError('InvalidArchive', `The archive expands to more than ${limits.maxUncompressedBytes} bytes.`);
    }
  }
  if (total > limits.ratioCheckAboveBytes && total > archiveBytes * limits.maxCompressionRatio) {
    return new DatasetContentError('InvalidArchive', `The archive expands ${Math.round(total / Math.max(1, archiveBytes))} times its size (more than ${limits.maxCompressionRatio}): refused as a possible zip bomb.`);
  }
  return undefined;
}

/** Duration of a WAV file from its first bytes and its full size, or why it cannot be used. */
export function wavInfo(prefix: Uint8Array, totalBytes: number): { durationMs: number } | { problem: string } {
  let header;
  try {
    header = parseWavHeader(prefix);
  } catch (err) {
    return { problem: err instanceof Error ? err.message : String(err) };
  }
  if ('needMore' in header) return { problem: 'the WAV header is incomplete' };
  if (header.format.sampleRate < 8_000) return { problem: `the sample rate ${header.format.sampleRate} Hz is below 8 kHz` };
  const available = Math.max(0, totalBytes - header.dataOffset);
  const dataBytes = Math.min(header.dataBytes ?? available, available);
  const durationMs = (Math.floor(dataBytes / header.blockAlign) / header.format.sampleRate) * 1000;
  if (durationMs <= 0) return { problem: 'the WAV file contains no audio' };
  return { durationMs };
}

function ext(name: string): string {
  const base = name.slice(name.lastIndexOf('/') + 1);
  const dot = base.lastIndexOf('.');
  return dot <= 0 ? '' : base.slice(dot + 1).toLowerCase();
}

function isJunk(name: string): boolean {
  const base = name.slice(name.lastIndexOf('/') + 1);
  return name.endsWith('/') || name.startsWith('__MACOSX/') || base.startsWith('._') || base === '.DS_Store' || base === 'Thumbs.db';
}

/** An accepted line of an Acoustic archive: the audio entry it names and its transcription. */
export interface AcousticPair {
  /** Entry name of the WAV file in the archive. */
  audio: string;
  text: string;
  durationMs: number;
  /** Uncompressed size of the WAV entry. */
  bytes: number;
}

/**
 * Validates an Acoustic (audio + transcriptions) or AudioFiles (audio only) archive. Whole-archive
 * problems fail the dataset; unusable lines or audio files are rejected and counted.
 */
export async function validateArchiveDataset(
  kind: 'Acoustic' | 'AudioFiles',
  archive: Archive,
  limits: DatasetLimits = DATASET_LIMITS,
  signal?: AbortSignal,
  /** Receives each accepted (audio entry, transcription) pair of an Acoustic archive (reading it for an evaluation). */
  onAccepted?: (pair: AcousticPair) => void,
): Promise<ValidationOutcome> {
  try {
    const bad = archiveProblem(archive.entries, archive.archiveBytes, limits);
    if (bad) throw bad;
    const tally = new Tally(limits.maxReportedRejections);
    const wavs = new Map<string, ArchiveEntry>();
    const texts: ArchiveEntry[] = [];
    let ignored = 0;
    for (const e of archive.entries) {
      if (isJunk(e.name)) continue;
      const x = ext(e.name);
      if (x === 'wav') wavs.set(e.name, e);
      else if (x === 'txt' && kind === 'Acoustic') texts.push(e);
      else {
        ignored++;
        if (ignored <= 20) tally.notes.push(`ignored '${clip(e.name)}': only .wav audio${kind === 'Acoustic' ? ' and .txt transcriptions' : ''} are used`);
      }
    }
    if (ignored > 20) tally.notes.push(`${ignored - 20} more entries were ignored`);
    if (wavs.size === 0) throw new DatasetContentError('NoAudioFiles', 'The archive contains no .wav audio files.');

    const infoCache = new Map<string, { durationMs: number } | { problem: string }>();
    const audio = async (e: ArchiveEntry): Promise<{ durationMs: number } | { problem: string }> => {
      let info = infoCache.get(e.name);
      if (!info) {
        checkAbort(signal);
        const prefix = await archive.read(e.name, { maxBytes: MAX_WAV_HEADER_BYTES, prefixOnly: true });
        info = wavInfo(prefix, e.uncompressedSize);
        infoCache.set(e.name, info);
      }
      return info;
    };

    if (kind === 'AudioFiles') {
      for (const e of wavs.values()) {
        const info = await audio(e);
        if ('problem' in info) tally.reject({ file: e.name, reason: info.problem });
        else {
          tally.accepted++;
          tally.durationMs += info.durationMs;
        }
      }
      return tally.outcome({
        withDuration: true,
        noneUsable: () => new DatasetContentError('NoValidAudio', `No audio file of the archive can be used.${describe(tally.rejections[0])}`),
      });
    }

    if (texts.length === 0) {
      throw new DatasetContentError('MissingTranscriptions', "The archive contains no .txt transcription file (lines 'file name<TAB>transcription').");
    }
    // File names in transcriptions are relative to the transcription file, or to the archive root, or a unique base name.
    const byBase = new Map<string, ArchiveEntry | null>();
    for (const e of wavs.values()) {
      const base = e.name.slice(e.name.lastIndexOf('/') + 1);
      byBase.set(base, byBase.has(base) ? null : e);
    }
    const transcribed = new Set<string>();
    for (const t of texts) {
      checkAbort(signal);
      if (t.uncompressedSize > limits.maxTranscriptFileBytes) {
        throw new DatasetContentError('InvalidArchive', `The transcription file '${clip(t.name)}' is larger than ${limits.maxTranscriptFileBytes} bytes.`);
      }
      const dir = t.name.includes('/') ? t.name.slice(0, t.name.lastIndexOf('/') + 1) : '';
      const bytes = await archive.read(t.name, { maxBytes: limits.maxTranscriptFileBytes });
      const lines: SplitLine[] = [];
      const splitter = new LineSplitter(`The transcription file '${clip(t.name)}'`, limits.maxTranscriptLineChars, limits.maxTextLines);
      splitter.push(bytes, (l) => lines.push(l));
      splitter.end((l) => lines.push(l));
      for (const line of lines) {
        if (line.text.trim() === '' && !line.tooLong) continue;
        const parsed = parseTranscriptLine(line, limits.maxTranscriptLineChars);
        if ('problem' in parsed) {
          tally.reject({ file: t.name, line: line.n, reason: parsed.problem });
          continue;
        }
        const target = wavs.get(dir + parsed.file) ?? wavs.get(parsed.file) ?? byBase.get(parsed.file) ?? undefined;
        if (!target) {
          const why = ext(parsed.file) !== 'wav' ? `'${clip(parsed.file)}' is not a .wav file in the archive` : `the audio file '${clip(parsed.file)}' is not in the archive`;
          tally.reject({ file: t.name, line: line.n, reason: why });
          continue;
        }
        if (transcribed.has(target.name)) {
          tally.reject({ file: t.name, line: line.n, reason: `'${clip(parsed.file)}' already has a transcription` });
          continue;
        }
        const info = await audio(target);
        if ('problem' in info) {
          tally.reject({ file: t.name, line: line.n, reason: `the audio file '${clip(parsed.file)}' cannot be used: ${info.problem}` });
          continue;
        }
        transcribed.add(target.name);
        onAccepted?.({ audio: target.name, text: parsed.text, durationMs: info.durationMs, bytes: target.uncompressedSize });
        tally.accepted++;
        tally.durationMs += info.durationMs;
      }
    }
    const untranscribed = wavs.size - transcribed.size;
    if (untranscribed > 0) tally.notes.push(`${untranscribed} audio file(s) have no usable transcription and are not used`);
    return tally.outcome({
      withDuration: true,
      noneUsable: () => new DatasetContentError('NoValidLines', `No transcription line of the archive can be used.${describe(tally.rejections[0])}`),
    });
  } catch (err) {
    if (err instanceof DatasetContentError) return failedOutcome({ code: err.code, message: err.message });
    if (err instanceof ArchiveError) return failedOutcome({ code: 'InvalidArchive', message: `The archive cannot be read: ${err.message}` });
    throw err;
  }
}

/** ISO 8601 duration as the v3.2 API writes them (`PT1M2.5S`). */
export function isoDuration(ms: number): string {
  const total = Math.max(0, Math.round(ms));
  const h = Math.floor(total / 3_600_000);
  const m = Math.floor((total % 3_600_000) / 60_000);
  const s = (total % 60_000) / 1000;
  let out = 'PT';
  if (h) out += `${h}H`;
  if (m) out += `${m}M`;
  if (s || (!h && !m)) out += `${s}S`;
  return out;
}

/** The DatasetReport file's JSON. */
export function datasetReport(datasetKind: string, outcome: ValidationOutcome): Record<string, unknown> {
  return {
    datasetKind,
    status: outcome.status,
    acceptedLineCount: outcome.acceptedLineCount,
    rejectedLineCount: outcome.rejectedLineCount,
    ...(outcome.durationMs !== undefined ? { duration: isoDuration(outcome.durationMs) } : {}),
    ...(outcome.error ? { error: outcome.error } : {}),
    rejectedLines: outcome.rejections,
    rejectedLinesTruncated: outcome.rejectionsTruncated,
    notes: outcome.notes,
  };
}
