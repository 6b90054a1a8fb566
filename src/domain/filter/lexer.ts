/**
 * Tokens of the Speech-to-text REST `filter=` language (an OData `$filter` subset, see README.md).
 *
 * The lexer knows nothing about keywords: every bare word (`displayName`, `eq`, `AND`, `true`) is a `word` token and
 * the parser decides what it means from where it stands. Literals it does recognise:
 *
 * - `'…'` strings, with `''` for a quote inside;
 * - bare runs starting with a digit (or `-` then a digit): numbers (`42`, `-1.5`, `1e3`) and date-times
 *   (`2022-02-01T11:00:00Z`, `2022-02-01T12:00:00.5+01:00`, `2022-02-01`), classified here and parsed to an instant.
 *
 * Positions are 0-based UTF-16 offsets into the filter text.
 */

import { ServiceError } from '../../kernel/errors.js';
import { ErrorCodes } from '../errors.js';

/** Azure's `innerError.code` for a rejected filter: malformed text vs. a well-formed filter the list cannot apply. */
export type FilterErrorCode = 'InvalidParameterValue' | 'UnsupportedFilter';

/**
 * A rejected `filter=` expression. It is a ServiceError with code `InvalidArgument` (HTTP 400), so any REST adapter
 * already maps it; the management API puts `innerCode` in `innerError.code`. `position` is the 0-based offset in the
 * filter text where the problem starts (also in the message and in `details`).
 */
export class FilterError extends ServiceError {
  readonly position: number;
  readonly innerCode: FilterErrorCode;

  constructor(innerCode: FilterErrorCode, message: string, position: number) {
    super(ErrorCodes.InvalidArgument, 400, `Invalid filter: ${message} (at position ${position}).`, {
      details: { parameter: 'filter', innerCode, position },
    });
    this.name = 'FilterError';
    this.position = position;
    this.innerCode = innerCode;
  }

  /** The text is not a well-formed filter. */
  static syntax(message: string, position: number): FilterError {
    return new FilterError('InvalidParameterValue', message, position);
  }

  /** Well-formed, but it names a property, operator or size this list does not support. */
  static unsupported(message: string, position: number): FilterError {
    return new FilterError('UnsupportedFilter', message, position);
  }
}

export type Token =
  | { kind: 'word'; text: string; pos: number; end: number }
  | { kind: 'string'; value: string; pos: number; end: number }
  | { kind: 'number'; value: number; text: string; pos: number; end: number }
  | { kind: 'datetime'; instant: Instant; text: string; pos: number; end: number }
  | { kind: 'lparen' | 'rparen' | 'comma'; pos: number; end: number }
  | { kind: 'eof'; pos: number; end: number };

/** A point in time with nanosecond resolution: `ms` since the Unix epoch (UTC) plus `nanos` (0…999 999) within it. */
export interface Instant {
  readonly ms: number;
  readonly nanos: number;
}

/** Characters that can continue a bare literal: digits, letters (T, Z, e), and `. : + -`. */
const BARE = /[0-9A-Za-z.:+-]/;
const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;
const NUMBER = /^-?(?:\d+(?:\.\d+)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** `YYYY-MM-DD`, optionally `THH:MM[:SS[.fraction]]` with optional `Z` or `±HH:MM` / `±HHMM` / `±HH`. */
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?([Zz]|[+-]\d{2}(?::?\d{2})?)?)?$/;

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const ch = text.charAt(i);
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\n') {
      i++;
      continue;
    }
    if (ch === '(' || ch === ')') {
      tokens.push({ kind: ch === '(' ? 'lparen' : 'rparen', pos: i, end: i + 1 });
      i++;
      continue;
    }
    if (ch === "'") {
      const start = i;
      let value = '';
      i++;
      for (;;) {
        if (i >= n) throw FilterError.syntax('Unterminated string literal', start);
        const c = text.charAt(i);
        if (c === "'") {
          if (text.charAt(i + 1) === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += c;
        i++;
      }
      tokens.push({ kind: 'string', value, pos: start, end: i });
      continue;
    }
    if (ch === ',') {
      // Not part of the language; a token only so the parser can say "functions are not supported".
      tokens.push({ kind: 'comma', pos: i, end: i + 1 });
      i++;
      continue;
    }
    if (ch === '"') {
      throw FilterError.syntax("String literals use single quotes ('…'), not double quotes", i);
    }
    if (WORD_START.test(ch)) {
      const start = i;
      i++;
      for (;;) {
        while (i < n && WORD_PART.test(text.charAt(i))) i++;
        if (text.charAt(i) !== '/') break;
        // A property path segment separator must be followed by another segment.
        if (!WORD_START.test(text.charAt(i + 1))) throw FilterError.syntax('Expected a property name after "/"', i + 1);
        i++;
      }
      tokens.push({ kind: 'word', text: text.slice(start, i), pos: start, end: i });
      continue;
    }
    if (/[0-9]/.test(ch) || (ch === '-' && /[0-9.]/.test(text.charAt(i + 1))) || (ch === '.' && /[0-9]/.test(text.charAt(i + 1)))) {
      const start = i;
      i++;
      while (i < n && BARE.test(text.charAt(i))) i++;
      tokens.push(classifyBare(text.slice(start, i), start, i));
      continue;
    }
    throw FilterError.syntax(`Unexpected character '${ch}'`, i);
  }
  tokens.push({ kind: 'eof', pos: n, end: n });
  return tokens;
}

function classifyBare(raw: string, pos: number, end: number): Token {
  if (NUMBER.test(raw)) {
    const value = Number(raw);
    if (!Number.isFinite(value)) throw FilterError.syntax(`Number literal '${raw}' is out of range`, pos);
    return { kind: 'number', value, text: raw, pos, end };
  }
  if (/^\d{4}-/.test(raw)) {
    const instant = parseDateTime(raw);
    if (instant === undefined) throw FilterError.syntax(`Invalid date-time literal '${raw}' (expected ISO 8601, e.g. 2022-02-01T11:00:00Z)`, pos);
    return { kind: 'datetime', instant, text: raw, pos, end };
  }
  throw FilterError.syntax(`Invalid literal '${raw}'`, pos);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

/**
 * Parses an ISO 8601 date-time (or date) to an instant; undefined when malformed or out of range.
 * A date alone means midnight UTC; a time without `Z` or an offset is read as UTC.
 */
export function parseDateTime(text: string): Instant | undefined {
  const m = DATE_TIME.exec(text);
  if (!m) return undefined;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = m[4] === undefined ? 0 : Number(m[4]);
  const minute = m[5] === undefined ? 0 : Number(m[5]);
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const fraction = (m[7] ?? '').padEnd(9, '0');
  if (month < 1 || month > 12) return undefined;
  const dim = month === 2 && isLeap(year) ? 29 : (DAYS_IN_MONTH[month - 1] ?? 0);
  if (day < 1 || day > dim) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone !== undefined && zone !== 'Z' && zone !== 'z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    const oh = Number(digits.slice(0, 2));
    const om = digits.length > 2 ? Number(digits.slice(2, 4)) : 0;
    if (oh > 23 || om > 59) return undefined;
    offsetMinutes = sign * (oh * 60 + om);
  }
  // Date.UTC maps years 0…99 to 1900…1999; setUTCFullYear does not.
  const d = new Date(Date.UTC(2000, month - 1, day, hour, minute, second));
  d.setUTCFullYear(year);
  const base = d.getTime();
  if (!Number.isFinite(base)) return undefined;
  const nanosTotal = Number(fraction);
  const ms = base + Math.floor(nanosTotal / 1_000_000) - offsetMinutes * 60_000;
  return { ms, nanos: nanosTotal % 1_000_000 };
}

export function compareInstants(a: Instant, b: Instant): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  if (a.nanos !== b.nanos) return a.nanos < b.nanos ? -1 : 1;
  return 0;
}
