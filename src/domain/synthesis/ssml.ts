/**
 * SSML (or plain text) → {@link SynthesisPlan}.
 *
 * fast-xml-parser checks well-formedness (its validator gives line and column) and builds the element tree in
 * document order (preserveOrder) with each element's source span (captureMetaData). Text between elements is
 * read here straight from the source, so every spoken token keeps the offset of its literal characters:
 * boundary events must quote the document exactly (the JS SDK locates them with indexOf, SynthesisTurn.js
 * updateTextOffset). Entities are decoded here too, with strict XML rules, for the same reason.
 *
 * Supported elements, value tables and the deliberate differences from Azure are in docs/ssml.md. Work is
 * bounded: the document size is checked first (64 KB), nesting is limited to {@link MAX_NESTING_DEPTH}, and
 * every pass is linear in the document.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { ServiceError } from '../../kernel/errors.js';
import { ErrorCodes } from '../errors.js';
import type { Prosody } from '../ports/engines.js';
import { NEUTRAL_PROSODY, clampProsody, type PlanItem, type SourceWord, type SpeechItem, type SynthesisPlan, type VoiceRequest } from './plan.js';
import { sentenceEnds } from './sentences.js';
import { expandSayAs, normalizeForSpeech } from './text-normalizer.js';

/** Azure's SSML size limit per request on the WebSocket API: 64 KB of UTF-8. */
export const MAX_SSML_BYTES = 65_536;
/** Azure: at most 50 `voice` elements per document. */
export const MAX_VOICE_ELEMENTS = 50;
/** Azure: at most 50 `audio` elements per document. */
export const MAX_AUDIO_ELEMENTS = 50;
/** Deeper element nesting is refused: real SSML is a few levels deep, and this bounds recursion. */
export const MAX_NESTING_DEPTH = 64;
/** Longest single `break` / `mstts:silence` (Azure documents 0–20000 ms and uses the maximum above it). */
export const MAX_BREAK_MS = 20_000;
/** Pause after a `p` element that had speech (an engine pauses between sentences itself, less so between paragraphs). */
export const PARAGRAPH_PAUSE_MS = 250;
/** Language used when `speak` has no `xml:lang` and the caller gave none. */
export const DEFAULT_LANG = 'en-US';
/** Pitch in Hz values is taken relative to this nominal voice pitch (engines do not tell theirs). */
export const NOMINAL_PITCH_HZ = 150;

/** Options for {@link parseSsml}. */
export interface ParseSsmlOptions {
  /** Most `voice` elements accepted (default {@link MAX_VOICE_ELEMENTS}). */
  maxVoices?: number;
  /** Largest document in UTF-8 bytes (default {@link MAX_SSML_BYTES}). */
  maxBytes?: number;
  /** Most `audio` elements accepted (default {@link MAX_AUDIO_ELEMENTS}). */
  maxAudio?: number;
  /** Language when `speak` has no `xml:lang` (default {@link DEFAULT_LANG}). */
  defaultLang?: string;
}

/**
 * Parses an SSML document into a synthesis plan. Throws ServiceError('InvalidSsml', 400) with a message naming
 * the problem (and its line/column when it has one) for anything it does not accept.
 */
export function parseSsml(ssml: string, opts: ParseSsmlOptions = {}): SynthesisPlan {
  const maxBytes = opts.maxBytes ?? MAX_SSML_BYTES;
  if (utf8LengthExceeds(ssml, maxBytes)) {
    throw invalid(`The SSML document is larger than ${maxBytes} bytes (UTF-8); split the text over several requests.`);
  }
  if (ssml.trim() === '') throw invalid('The SSML document is empty; it must be a <speak> element.');
  // A byte-order mark is not XML; a space keeps every offset the same.
  const raw = ssml.charCodeAt(0) === 0xfeff ? ` ${ssml.slice(1)}` : ssml;
  const doc = new Doc(raw);
  doc.checkProlog();

  let verdict: ReturnType<typeof XMLValidator.validate>;
  try {
    verdict = XMLValidator.validate(raw);
  } catch (err) {
    throw invalid(`The SSML is not well-formed XML: ${errorMessage(err)}.`);
  }
  if (verdict !== true) {
    const { msg, line, col } = verdict.err;
    const where = typeof col === 'number' ? `line ${line}, column ${col}` : `line ${line}`;
    throw invalid(`The SSML is not well-formed XML: ${msg.replace(/\.$/, '')} (${where}).`, { line, column: col });
  }

  let tree: unknown;
  try {
    tree = PARSER.parse(raw);
  } catch (err) {
    const message = errorMessage(err);
    if (/nested/i.test(message)) throw invalid(`The SSML nests elements deeper than ${MAX_NESTING_DEPTH} levels.`);
    throw invalid(`The SSML is not well-formed XML: ${message}.`);
  }
  const roots = doc.elements(tree, 1);
  const root = roots[0];
  if (root === undefined) throw invalid('The SSML has no root element; it must be <speak>.');
  if (roots.length > 1) throw doc.fail('The SSML has more than one root element; everything must be inside <speak>', roots[1]?.start ?? 0);
  doc.checkOutside(0, root.start);
  doc.checkOutside(root.end, raw.length);
  if (root.name !== 'speak') throw doc.fail(`The root element is <${root.name}>; it must be <speak>`, root.start);

  const version = root.attrs.get('version');
  if (version !== undefined && version.trim() !== '1.0' && version.trim() !== '1.1') {
    throw doc.fail(`<speak> version "${version}" is not supported; use version="1.0"`, root.start);
  }
  const lang = doc.langAttr(root) ?? opts.defaultLang ?? DEFAULT_LANG;
  const walker = new Walker(doc, {
    maxVoices: opts.maxVoices ?? MAX_VOICE_ELEMENTS,
    maxAudio: opts.maxAudio ?? MAX_AUDIO_ELEMENTS,
  });
  const scope = walker.scopeOf(root);
  walker.children(root, { voice: { name: '', lang: undefined }, lang, prosody: { ...NEUTRAL_PROSODY }, scope, loose: false });
  walker.endScope(scope);
  return { lang, items: finishItems(walker.plan.finish(), raw), sourceLength: raw.length };
}

/**
 * A plan for plain text (no markup): one voice, the text normalized for `lang`, split into sentences. Word
 * offsets index `text` itself.
 */
export function planFromText(text: string, voiceName: string, lang: string): SynthesisPlan {
  const builder = new PlanBuilder();
  const scope: VoiceScope = { leadingMs: 0, tailingMs: 0, sentenceMs: 0, spoke: false };
  speakRun(builder, text, { decoded: text, offsets: undefined, base: 0 }, {
    voice: { name: voiceName, lang },
    lang,
    prosody: { ...NEUTRAL_PROSODY },
    scope,
    loose: false,
  });
  return { lang, items: finishItems(builder.finish(), text), sourceLength: text.length };
}

// ---------------------------------------------------------------------------------------------------------------
// Errors

function invalid(message: string, details?: Record<string, unknown>): ServiceError {
  return new ServiceError(ErrorCodes.InvalidSsml, 400, message, details === undefined ? undefined : { details });
}

function errorMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.replace(/\.$/, '').slice(0, 200);
}

/** Whether `s` is longer than `max` bytes in UTF-8; stops counting as soon as it is. */
function utf8LengthExceeds(s: string, max: number): boolean {
  if (s.length > max) return true; // every UTF-16 unit is at least one byte
  if (s.length * 3 <= max) return false; // and at most three
  let bytes = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
    if (bytes > max) return true;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------------------------
// The document: elements with source spans, text runs with offsets

const PARSER = new XMLParser({
  preserveOrder: true,
  captureMetaData: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  // Entities are decoded by Doc, strictly and with offsets; the parser's tree is only read for elements.
  processEntities: false,
  htmlEntities: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  maxNestedTags: MAX_NESTING_DEPTH + 1,
});
const META_KEY: unknown = XMLParser.getMetaDataSymbol();

interface Element {
  name: string;
  attrs: ReadonlyMap<string, string>;
  /** Offset of '<' of the start tag. */
  start: number;
  /** Offset just after the start tag's '>'. */
  openEnd: number;
  /** Offset of '<' of the end tag (= openEnd for an empty-element tag). */
  closeStart: number;
  /** Offset just after the element. */
  end: number;
  children: Element[];
}

/**
 * Text of one stretch of character data, decoded, with the source offset of each UTF-16 unit:
 * `offsets[k]` (or `base + k` when `offsets` is undefined: no entity changed lengths), and one more entry
 * for the end.
 */
interface TextRun {
  decoded: string;
  offsets: number[] | undefined;
  base: number;
}

function sourceOffset(run: TextRun, k: number): number {
  return run.offsets === undefined ? run.base + k : (run.offsets[k] ?? run.base);
}

const PREDEFINED_ENTITIES: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

class Doc {
  constructor(readonly raw: string) {}

  fail(message: string, offset: number): ServiceError {
    const { line, column } = this.lineColumn(offset);
    return invalid(`${message} (line ${line}, column ${column}).`, { line, column });
  }

  lineColumn(offset: number): { line: number; column: number } {
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < this.raw.length; i++) {
      if (this.raw.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { line, column: offset - lineStart + 1 };
  }

  /** Refuses a DOCTYPE before the root (entity definitions are an expansion hazard Azure does not accept either). */
  checkProlog(): void {
    const raw = this.raw;
    let p = 0;
    for (;;) {
      while (p < raw.length && isXmlSpace(raw.charCodeAt(p))) p++;
      if (raw.startsWith('<?', p)) {
        const e = raw.indexOf('?>', p + 2);
        if (e < 0) return; // the validator reports it
        p = e + 2;
      } else if (raw.startsWith('<!--', p)) {
        const e = raw.indexOf('-->', p + 4);
        if (e < 0) return;
        p = e + 3;
      } else if (raw.startsWith('<!DOCTYPE', p)) {
        throw this.fail('DOCTYPE declarations are not allowed in SSML', p);
      } else {
        return;
      }
    }
  }

  /** Only whitespace, comments and processing instructions may surround the root element. */
  checkOutside(from: number, to: number): void {
    for (const run of this.lex(from, to, true)) {
      const k = run.decoded.search(/\S/u);
      if (k >= 0) throw this.fail('Text outside the root element; everything must be inside <speak>', sourceOffset(run, k));
    }
  }

  /** Elements of a preserveOrder tree level, with their spans; checks them against the source. */
  elements(nodes: unknown, depth: number): Element[] {
    if (!Array.isArray(nodes)) throw invalid('The SSML could not be read as XML.');
    const out: Element[] = [];
    for (const node of nodes) {
      if (typeof node !== 'object' || node === null) continue;
      const name = Object.keys(node).find((k) => k !== ':@');
      if (name === undefined || name === '#text') continue;
      const start = metaIndex(node, 'startIndex');
      const end = metaIndex(node, 'endIndex');
      if (start === undefined || end === undefined || end <= start) throw invalid(`The SSML could not be read as XML near <${name}>.`);
      if (depth > MAX_NESTING_DEPTH) throw this.fail(`The SSML nests elements deeper than ${MAX_NESTING_DEPTH} levels`, start);
      const openEnd = this.startTagEnd(start, name);
      const selfClosing = this.raw.charCodeAt(openEnd - 2) === 47; // '/'
      const closeStart = selfClosing ? openEnd : this.raw.lastIndexOf('<', end - 1);
      if (!selfClosing && (closeStart < openEnd || !this.raw.startsWith(`</${name}`, closeStart))) {
        throw this.fail(`The SSML could not be read as XML near <${name}>`, start);
      }
      const attrs = this.attributes(Reflect.get(node, ':@'), start);
      const children = this.elements(Reflect.get(node, name), depth + 1);
      let prevEnd = openEnd;
      for (const c of children) {
        if (c.start < prevEnd || c.end > closeStart) throw this.fail(`The SSML could not be read as XML near <${c.name}>`, c.start);
        prevEnd = c.end;
      }
      out.push({ name, attrs, start, openEnd, closeStart, end, children });
    }
    return out;
  }

  /** Offset after the '>' of the start tag at `start` (quoted attribute values may contain '>'). */
  private startTagEnd(start: number, name: string): number {
    const raw = this.raw;
    const after = raw.charAt(start + 1 + name.length);
    if (!raw.startsWith(`<${name}`, start) || !/^[\s/>]$/.test(after)) {
      // The parser renames a few names (hasOwnProperty, toString); report the name as written.
      const written = /^<([^\s/>]{1,64})/.exec(raw.slice(start, start + 66))?.[1] ?? name;
      if (!written.includes(':') && !KNOWN_ELEMENTS.has(written)) throw this.fail(`Unknown SSML element <${written}>`, start);
      throw this.fail(`The SSML could not be read as XML near <${written}>`, start);
    }
    let quote = '';
    for (let i = start + 1 + name.length; i < raw.length; i++) {
      const c = raw.charAt(i);
      if (quote !== '') {
        if (c === quote) quote = '';
      } else if (c === '"' || c === "'") {
        quote = c;
      } else if (c === '>') {
        return i + 1;
      }
    }
    throw this.fail(`Unclosed start tag <${name}>`, start);
  }

  private attributes(value: unknown, at: number): Map<string, string> {
    const attrs = new Map<string, string>();
    if (typeof value !== 'object' || value === null) return attrs;
    for (const [k, v] of Object.entries(value)) {
      if (typeof v !== 'string') throw this.fail(`Attribute ${k} has no value`, at);
      attrs.set(k, this.decodeAttribute(v, k, at));
    }
    return attrs;
  }

  private decodeAttribute(value: string, name: string, at: number): string {
    if (value.includes('<')) throw this.fail(`Attribute ${name} contains '<', which XML does not allow in attribute values`, at);
    if (!value.includes('&')) return value;
    let out = '';
    let i = 0;
    while (i < value.length) {
      const c = value.charAt(i);
      if (c !== '&') {
        out += c;
        i++;
        continue;
      }
      const ref = this.entity(value, i);
      if (ref === undefined) throw this.fail(`Attribute ${name} has an undefined or malformed entity reference`, at);
      out += ref.text;
      i = ref.next;
    }
    return out;
  }

  /** The entity or character reference at `s[i]` ('&'), or undefined when malformed/undefined. */
  private entity(s: string, i: number): { text: string; next: number } | undefined {
    const semi = s.indexOf(';', i + 1);
    if (semi < 0 || semi - i > 12) return undefined;
    const body = s.slice(i + 1, semi);
    const named = PREDEFINED_ENTITIES[body];
    if (named !== undefined) return { text: named, next: semi + 1 };
    const m = /^#(?:x([0-9a-fA-F]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (m === null) return undefined;
    const cp = m[1] !== undefined ? parseInt(m[1], 16) : Number(m[2]);
    if (!isXmlChar(cp)) return undefined;
    return { text: String.fromCodePoint(cp), next: semi + 1 };
  }

  /**
   * Character data between `from` and `to` (no elements inside): text and CDATA runs, comments and processing
   * instructions skipped. `outside` allows nothing but those (around the root).
   */
  lex(from: number, to: number, outside = false): TextRun[] {
    const raw = this.raw;
    const runs: TextRun[] = [];
    let p = from;
    while (p < to) {
      if (raw.charCodeAt(p) === 60) {
        if (raw.startsWith('<!--', p)) {
          p = this.skipTo('-->', p, to, 'Unterminated comment');
        } else if (raw.startsWith('<?', p)) {
          p = this.skipTo('?>', p, to, 'Unterminated processing instruction');
        } else if (raw.startsWith('<![CDATA[', p) && !outside) {
          const end = this.skipTo(']]>', p, to, 'Unterminated CDATA section');
          const decoded = raw.slice(p + 9, end - 3);
          this.checkChars(decoded, p + 9);
          runs.push({ decoded, offsets: undefined, base: p + 9 });
          p = end;
        } else if (raw.startsWith('<!DOCTYPE', p)) {
          throw this.fail('DOCTYPE declarations are not allowed in SSML', p);
        } else if (outside) {
          throw this.fail('Text outside the root element; everything must be inside <speak>', p);
        } else {
          throw this.fail(`Unexpected markup ${JSON.stringify(raw.slice(p, Math.min(to, p + 12)))}`, p);
        }
        continue;
      }
      let q = p;
      while (q < to && raw.charCodeAt(q) !== 60) q++;
      runs.push(this.decodeText(p, q));
      p = q;
    }
    return runs;
  }

  private skipTo(terminator: string, p: number, to: number, what: string): number {
    const e = this.raw.indexOf(terminator, p + 2);
    if (e < 0 || e + terminator.length > to) throw this.fail(what, p);
    return e + terminator.length;
  }

  /** Decodes raw character data [from, to) (no '<' inside), keeping each decoded unit's source offset. */
  private decodeText(from: number, to: number): TextRun {
    const raw = this.raw;
    const slice = raw.slice(from, to);
    this.checkChars(slice, from);
    if (!slice.includes('&')) return { decoded: slice, offsets: undefined, base: from };
    let decoded = '';
    const offsets: number[] = [];
    let i = from;
    while (i < to) {
      if (raw.charCodeAt(i) !== 38) {
        decoded += raw.charAt(i);
        offsets.push(i);
        i++;
        continue;
      }
      const ref = this.entity(raw, i);
      if (ref === undefined || ref.next > to) {
        const semi = raw.indexOf(';', i);
        const shown = semi > i && semi - i <= 12 ? raw.slice(i, semi + 1) : '&';
        throw this.fail(`Undefined or malformed entity reference ${shown}; escape '&' as &amp;`, i);
      }
      for (let k = 0; k < ref.text.length; k++) {
        decoded += ref.text.charAt(k);
        offsets.push(i);
      }
      i = ref.next;
    }
    offsets.push(to);
    return { decoded, offsets, base: from };
  }

  /** Refuses characters XML 1.0 does not allow (C0 controls other than tab, LF, CR; U+FFFE, U+FFFF). */
  private checkChars(text: string, at: number): void {
    const bad = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/u.exec(text);
    if (bad !== null) {
      const code = bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0');
      throw this.fail(`Character U+${code} is not allowed in XML`, at + bad.index);
    }
  }

  /** Concatenated decoded text content of an element with no child elements, and its trimmed literal span. */
  textContent(el: Element): { text: string; literal: { offset: number; text: string } | undefined } {
    const runs = this.lex(el.openEnd, el.closeStart);
    const text = runs.map((r) => r.decoded).join('');
    let first: number | undefined;
    let last: number | undefined;
    for (const run of runs) {
      for (let k = 0; k < run.decoded.length; k++) {
        if (/\s/u.test(run.decoded.charAt(k))) continue;
        first ??= sourceOffset(run, k);
        last = run.offsets === undefined ? run.base + k + 1 : (run.offsets[k + 1] ?? run.base);
      }
    }
    const literal = first === undefined || last === undefined || last <= first ? undefined : { offset: first, text: this.raw.slice(first, last) };
    return { text, literal };
  }

  /** xml:lang of an element, checked to look like a language tag. */
  langAttr(el: Element): string | undefined {
    const value = el.attrs.get('xml:lang');
    if (value === undefined) return undefined;
    const lang = value.trim();
    if (!/^[A-Za-z]{1,8}(?:[-_][A-Za-z0-9]{1,8})*$/.test(lang)) throw this.fail(`xml:lang "${value}" is not a language tag like "en-US"`, el.start);
    return lang;
  }
}

function metaIndex(node: object, key: 'startIndex' | 'endIndex'): number | undefined {
  if (typeof META_KEY !== 'symbol' && typeof META_KEY !== 'string') return undefined;
  const meta: unknown = Reflect.get(node, META_KEY);
  if (typeof meta !== 'object' || meta === null) return undefined;
  const v: unknown = Reflect.get(meta, key);
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : undefined;
}

function isXmlSpace(c: number): boolean {
  return c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
}

function isXmlChar(cp: number): boolean {
  return cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff);
}

// ---------------------------------------------------------------------------------------------------------------
// Plan building

/** mstts:silence settings of one voice element (or of the text directly under speak). */
interface VoiceScope {
  leadingMs: number;
  tailingMs: number;
  sentenceMs: number;
  /** Some speech of this scope is in the plan already. */
  spoke: boolean;
}

interface Context {
  voice: VoiceRequest;
  lang: string;
  prosody: Prosody;
  scope: VoiceScope;
  /** Inside an element whose children are not SSML (math): any element is read for its text. */
  loose: boolean;
}

interface Draft {
  item: SpeechItem;
  /** The item's text so far, in pieces (joined on close: re-reading a growing concatenation would be quadratic). */
  parts: string[];
  length: number;
  last: string;
  /** The text so far ended with whitespace in the source (spoken as one space if more text joins). */
  pendingSpace: boolean;
}

/** Accumulates plan items: joins text of the same voice/language/prosody, cuts at sentence ends. */
class PlanBuilder {
  private readonly items: PlanItem[] = [];
  private draft: Draft | undefined;
  private sentencePending = true;
  private pauseOwedMs = 0;
  /** Number of speech items so far (including the open one). */
  speechCount = 0;

  /** Adds spoken text (possibly with a leading/trailing space) whose words' spoken offsets index `text`. */
  speak(ctx: Context, text: string, words: readonly SourceWord[]): void {
    const content = text.trim();
    if (content === '') {
      if (this.draft !== undefined && text !== '') this.draft.pendingSpace = true;
      return;
    }
    let draft = this.draft;
    // Punctuation alone after a prosody/emphasis change ("<emphasis>really</emphasis>.") stays with the words it
    // closes: an engine call for a lone "." would only add an odd pause.
    const punctuationOnly = words.length > 0 && words.every((w) => w.kind === 'punctuation') && /^[\p{P}\s]+$/u.test(content);
    if (draft === undefined || this.sentencePending || (!punctuationOnly && !sameVoice(draft.item, ctx))) draft = this.open(ctx);
    const lead = text.length - text.trimStart().length;
    let prefix = '';
    if (draft.length > 0 && (lead > 0 || draft.pendingSpace || needsSpace(draft.last, content))) prefix = ' ';
    const shift = draft.length + prefix.length - lead;
    for (const w of words) draft.item.words.push({ ...w, spokenOffset: w.spokenOffset + shift });
    if (prefix !== '') draft.parts.push(prefix);
    draft.parts.push(content);
    draft.length += prefix.length + content.length;
    draft.last = content.charAt(content.length - 1);
    draft.pendingSpace = text.length > lead + content.length;
  }

  endSentence(): void {
    this.close();
    this.sentencePending = true;
  }

  silence(ms: number): void {
    this.close();
    if (ms > 0) this.items.push({ kind: 'silence', ms });
  }

  bookmark(name: string): void {
    this.close();
    this.items.push({ kind: 'bookmark', name });
  }

  /** A pause before the next speech, if any comes (so a document never ends in it). */
  owePause(ms: number): void {
    this.pauseOwedMs = Math.max(this.pauseOwedMs, ms);
  }

  finish(): PlanItem[] {
    this.close();
    return this.items;
  }

  private open(ctx: Context): Draft {
    this.close();
    if (this.pauseOwedMs > 0 && this.speechCount > 0) this.items.push({ kind: 'silence', ms: this.pauseOwedMs });
    this.pauseOwedMs = 0;
    const scope = ctx.scope;
    if (!scope.spoke && scope.leadingMs > 0) this.items.push({ kind: 'silence', ms: scope.leadingMs });
    else if (scope.spoke && this.sentencePending && scope.sentenceMs > 0) this.items.push({ kind: 'silence', ms: scope.sentenceMs });
    const item: SpeechItem = {
      kind: 'speech',
      voice: { ...ctx.voice },
      lang: ctx.lang,
      text: '',
      prosody: { ...ctx.prosody },
      words: [],
      sentenceStart: this.sentencePending,
    };
    this.sentencePending = false;
    scope.spoke = true;
    this.speechCount++;
    this.draft = { item, parts: [], length: 0, last: '', pendingSpace: false };
    return this.draft;
  }

  private close(): void {
    if (this.draft === undefined) return;
    this.draft.item.text = this.draft.parts.join('');
    this.items.push(this.draft.item);
    this.draft = undefined;
  }
}

function sameVoice(item: SpeechItem, ctx: Context): boolean {
  return (
    item.voice.name === ctx.voice.name &&
    item.voice.lang === ctx.voice.lang &&
    item.lang === ctx.lang &&
    item.prosody.rate === ctx.prosody.rate &&
    item.prosody.pitch === ctx.prosody.pitch &&
    item.prosody.volume === ctx.prosody.volume
  );
}

/** Whether two pieces of text from different nodes need a space between them ("really" + "." does not). */
function needsSpace(lastBefore: string, after: string): boolean {
  return !/^[.,!?;:)\]}%…]/u.test(after) && !'([{'.includes(lastBefore);
}

/** Speaks a text run: cut at sentence ends, each piece normalized, words mapped to source offsets. */
function speakRun(builder: PlanBuilder, raw: string, run: TextRun, ctx: Context): void {
  const text = run.decoded;
  const ends = sentenceEnds(text);
  let pos = 0;
  for (let k = 0; k <= ends.length; k++) {
    const end = ends[k] ?? text.length;
    if (end > pos) {
      const normalized = normalizeForSpeech(text.slice(pos, end), ctx.lang);
      const words = normalized.words.map((w): SourceWord => {
        const a = sourceOffset(run, pos + w.sourceOffset);
        const b = sourceOffset(run, pos + w.sourceOffset + w.sourceText.length);
        return { ...w, sourceOffset: a, sourceText: raw.slice(a, b) };
      });
      builder.speak(ctx, normalized.text, words);
    }
    if (k < ends.length) builder.endSentence();
    pos = end;
  }
}

/** Adds each sentence start's literal sentence span (see PlanItem.sentence). Linear in the document. */
function finishItems(items: PlanItem[], raw: string): PlanItem[] {
  let current: { item: SpeechItem; start: number; end: number; open: boolean } | undefined;
  const settle = (): void => {
    if (current === undefined) return;
    const sourceText = raw.slice(current.start, current.end);
    // A say-as literal with a comment inside is the only way the first word can hold markup.
    if (!sourceText.includes('<')) current.item.sentence = { sourceOffset: current.start, sourceText };
  };
  for (const item of items) {
    if (item.kind !== 'speech') continue;
    if (item.sentenceStart) {
      settle();
      current = undefined;
    }
    for (const w of item.words) {
      const wEnd = w.sourceOffset + w.sourceText.length;
      if (current === undefined) {
        if (!item.sentenceStart) continue; // words of a sentence whose start had none
        current = { item, start: w.sourceOffset, end: wEnd, open: !w.sourceText.includes('<') };
        continue;
      }
      if (!current.open) continue;
      // The sentence text stays literal only up to the first markup.
      let clean = true;
      for (let i = current.end; i < wEnd; i++) {
        if (raw.charCodeAt(i) === 60) {
          clean = false;
          break;
        }
      }
      if (clean) current.end = wEnd;
      else current.open = false;
    }
  }
  settle();
  return items;
}

// ---------------------------------------------------------------------------------------------------------------
// Element semantics

/** Element names (without namespace prefix) Parlance reads; other unprefixed names are refused. */
const KNOWN_ELEMENTS = new Set([
  'speak', 'voice', 'lang', 'p', 's', 'paragraph', 'sentence', 'break', 'prosody', 'emphasis', 'say-as', 'sub', 'phoneme',
  'bookmark', 'mark', 'audio', 'desc', 'lexicon', 'meta', 'metadata', 'math', 'w', 'token',
]);

const BREAK_STRENGTHS: ReadonlyMap<string, number> = new Map([
  ['none', 0], ['x-weak', 250], ['weak', 500], ['medium', 750], ['strong', 1000], ['x-strong', 1250],
]);

const SILENCE_TYPES = new Set([
  'leading', 'leading-exact', 'tailing', 'tailing-exact', 'sentenceboundary', 'sentenceboundary-exact', 'comma-exact',
  'semicolon-exact', 'enumerationcomma-exact',
]);

/** Emphasis as rate/volume multipliers (Azure changes intonation; local engines can only do this). */
const EMPHASIS: ReadonlyMap<string, { rate: number; volume: number }> = new Map([
  ['strong', { rate: 0.9, volume: 1.25 }], ['moderate', { rate: 0.95, volume: 1.1 }], ['reduced', { rate: 1.05, volume: 0.8 }], ['none', { rate: 1, volume: 1 }],
]);

const RATE_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['x-slow', 0.5], ['slow', 0.64], ['medium', 1], ['fast', 1.55], ['x-fast', 2], ['default', 1],
]);
const PITCH_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['x-low', 0.5], ['low', 0.75], ['medium', 1], ['high', 1.25], ['x-high', 1.5], ['default', 1],
]);
const VOLUME_KEYWORDS: ReadonlyMap<string, number> = new Map([
  ['silent', 0], ['x-soft', 0.2], ['soft', 0.4], ['medium', 0.6], ['loud', 0.8], ['x-loud', 1], ['default', 1],
]);

const NUM = String.raw`(\d+(?:\.\d*)?|\.\d+)`;
const RE_SIGNED_PERCENT = new RegExp(`^([+-])${NUM}%$`);
const RE_PERCENT = new RegExp(`^${NUM}%$`);
const RE_PLAIN = new RegExp(`^${NUM}$`);
const RE_SIGNED_PLAIN = new RegExp(`^([+-])${NUM}$`);
const RE_SEMITONES = new RegExp(`^([+-]?)${NUM}st$`);
const RE_SIGNED_HZ = new RegExp(`^([+-])${NUM}hz$`);
const RE_HZ = new RegExp(`^${NUM}hz$`);
const RE_DB = new RegExp(`^([+-]?)${NUM}db$`);
const RE_DURATION = new RegExp(`^${NUM}\\s*(ms|s)$`);

const sign = (s: string | undefined): number => (s === '-' ? -1 : 1);

/** New rate multiplier from a prosody rate value, or undefined if the value is not valid. */
export function applyRate(value: string, current: number): number | undefined {
  const v = value.trim().toLowerCase();
  const keyword = RATE_KEYWORDS.get(v);
  if (keyword !== undefined) return keyword;
  let m = RE_SIGNED_PERCENT.exec(v);
  if (m !== null) return current * (1 + (sign(m[1]) * Number(m[2])) / 100);
  // W3C: an unsigned percentage is the rate relative to the current one ("50%" = half as fast).
  if ((m = RE_PERCENT.exec(v)) !== null) return (current * Number(m[1])) / 100;
  if ((m = RE_PLAIN.exec(v)) !== null) return current * Number(m[1]);
  return undefined;
}

/** New pitch multiplier from a prosody pitch value, or undefined if the value is not valid. */
export function applyPitch(value: string, current: number): number | undefined {
  const v = value.trim().toLowerCase();
  const keyword = PITCH_KEYWORDS.get(v);
  if (keyword !== undefined) return keyword;
  let m = RE_SIGNED_PERCENT.exec(v);
  if (m !== null) return current * (1 + (sign(m[1]) * Number(m[2])) / 100);
  // Azure writes pitch changes with a sign; an unsigned percentage is read as a raise, like "+10%".
  if ((m = RE_PERCENT.exec(v)) !== null) return current * (1 + Number(m[1]) / 100);
  if ((m = RE_SEMITONES.exec(v)) !== null) return current * 2 ** ((sign(m[1]) * Number(m[2])) / 12);
  if ((m = RE_SIGNED_HZ.exec(v)) !== null) return (current * NOMINAL_PITCH_HZ + sign(m[1]) * Number(m[2])) / NOMINAL_PITCH_HZ;
  if ((m = RE_HZ.exec(v)) !== null) return Number(m[1]) / NOMINAL_PITCH_HZ;
  return undefined;
}

/** New volume multiplier from a prosody volume value, or undefined if the value is not valid. */
export function applyVolume(value: string, current: number): number | undefined {
  const v = value.trim().toLowerCase();
  const keyword = VOLUME_KEYWORDS.get(v);
  if (keyword !== undefined) return keyword;
  let m = RE_SIGNED_PERCENT.exec(v);
  if (m !== null) return current * (1 + (sign(m[1]) * Number(m[2])) / 100);
  if ((m = RE_PERCENT.exec(v)) !== null) return current * (1 + Number(m[1]) / 100);
  if ((m = RE_DB.exec(v)) !== null) return current * 10 ** ((sign(m[1]) * Number(m[2])) / 20);
  // Azure's absolute scale: 0–100 where 100 is the voice's default loudness.
  if ((m = RE_PLAIN.exec(v)) !== null) return Math.min(100, Number(m[1])) / 100;
  if ((m = RE_SIGNED_PLAIN.exec(v)) !== null) return current + (sign(m[1]) * Number(m[2])) / 100;
  return undefined;
}

/** Milliseconds of a duration like "500ms" or "1.5s", or undefined if it is not one. */
export function parseDurationMs(value: string): number | undefined {
  const m = RE_DURATION.exec(value.trim().toLowerCase());
  if (m === null) return undefined;
  const n = Number(m[1]);
  return Math.round(m[2] === 's' ? n * 1000 : n);
}

class Walker {
  readonly plan = new PlanBuilder();
  private voices = 0;
  private audios = 0;

  constructor(
    private readonly doc: Doc,
    private readonly limits: { maxVoices: number; maxAudio: number },
  ) {}

  /** Child nodes of `el` in order: text runs spoken, elements interpreted. */
  children(el: Element, ctx: Context): void {
    let pos = el.openEnd;
    for (const child of el.children) {
      this.text(pos, child.start, ctx);
      this.element(child, ctx);
      pos = child.end;
    }
    this.text(pos, el.closeStart, ctx);
  }

  /** The mstts:silence settings among a voice's (or speak's) direct children. */
  scopeOf(el: Element): VoiceScope {
    const scope: VoiceScope = { leadingMs: 0, tailingMs: 0, sentenceMs: 0, spoke: false };
    for (const c of el.children) {
      if (c.name !== 'mstts:silence') continue;
      const { type, ms } = this.silence(c);
      // "-exact" replaces the natural pause and wins over the plain type; both just add silence here.
      if (type.startsWith('leading') && (type.endsWith('-exact') || scope.leadingMs === 0)) scope.leadingMs = ms;
      if (type.startsWith('tailing') && (type.endsWith('-exact') || scope.tailingMs === 0)) scope.tailingMs = ms;
      if (type.startsWith('sentenceboundary') && (type.endsWith('-exact') || scope.sentenceMs === 0)) scope.sentenceMs = ms;
    }
    return scope;
  }

  endScope(scope: VoiceScope): void {
    if (scope.spoke && scope.tailingMs > 0) this.plan.silence(scope.tailingMs);
  }

  private text(from: number, to: number, ctx: Context): void {
    if (to <= from) return;
    for (const run of this.doc.lex(from, to)) speakRun(this.plan, this.doc.raw, run, ctx);
  }

  private element(el: Element, ctx: Context): void {
    const doc = this.doc;
    const name = el.name;
    if (ctx.loose) {
      this.children(el, ctx);
      return;
    }
    const langAttr = name === 'voice' || name === 'lang' || name === 'p' || name === 's' || name === 'paragraph' || name === 'sentence' ? doc.langAttr(el) : undefined;
    const inner: Context = langAttr === undefined ? ctx : { ...ctx, lang: langAttr };
    switch (name) {
      case 'speak':
        throw doc.fail('<speak> can only be the root element', el.start);
      case 'voice': {
        this.voices++;
        if (this.voices > this.limits.maxVoices) {
          throw doc.fail(`The SSML has more than ${this.limits.maxVoices} <voice> elements`, el.start);
        }
        const voiceName = (el.attrs.get('name') ?? '').trim();
        if (voiceName === '') throw doc.fail('<voice> needs a name attribute, e.g. name="en-US-AvaMultilingualNeural"', el.start);
        const scope = this.scopeOf(el);
        this.plan.endSentence();
        this.children(el, { ...inner, voice: { name: voiceName, lang: langAttr }, scope });
        this.endScope(scope);
        this.plan.endSentence();
        return;
      }
      case 'lang':
        if (langAttr === undefined) throw doc.fail('<lang> needs an xml:lang attribute', el.start);
        this.children(el, inner);
        return;
      case 'p':
      case 'paragraph': {
        this.plan.endSentence();
        const before = this.plan.speechCount;
        this.children(el, inner);
        this.plan.endSentence();
        if (this.plan.speechCount > before) this.plan.owePause(PARAGRAPH_PAUSE_MS);
        return;
      }
      case 's':
      case 'sentence':
        this.plan.endSentence();
        this.children(el, inner);
        this.plan.endSentence();
        return;
      case 'break':
        this.requireEmpty(el);
        this.plan.silence(this.breakMs(el));
        return;
      case 'prosody':
        this.children(el, { ...ctx, prosody: this.prosody(el, ctx.prosody) });
        return;
      case 'emphasis': {
        const level = (el.attrs.get('level') ?? 'moderate').trim().toLowerCase();
        const e = EMPHASIS.get(level);
        if (e === undefined) throw doc.fail(`<emphasis> level "${el.attrs.get('level') ?? ''}" is not valid; use strong, moderate, reduced or none`, el.start);
        const prosody = clampProsody({ rate: ctx.prosody.rate * e.rate, pitch: ctx.prosody.pitch, volume: ctx.prosody.volume * e.volume });
        this.children(el, { ...ctx, prosody });
        return;
      }
      case 'say-as': {
        const interpretAs = el.attrs.get('interpret-as');
        if (interpretAs === undefined || interpretAs.trim() === '') throw doc.fail('<say-as> needs an interpret-as attribute', el.start);
        const content = this.textOnly(el);
        const spoken = expandSayAs(content.text, { interpretAs, format: el.attrs.get('format'), detail: el.attrs.get('detail') }, ctx.lang);
        this.speakAtomic(ctx, spoken, content.literal);
        return;
      }
      case 'sub': {
        const alias = el.attrs.get('alias');
        if (alias === undefined) throw doc.fail('<sub> needs an alias attribute', el.start);
        const content = this.textOnly(el);
        this.speakAtomic(ctx, normalizeForSpeech(alias, ctx.lang).text.trim(), content.literal);
        return;
      }
      case 'bookmark':
      case 'mark': {
        const attr = name === 'bookmark' ? 'mark' : 'name';
        const mark = el.attrs.get(attr);
        if (mark === undefined || mark === '') throw doc.fail(`<${name}> needs a non-empty ${attr} attribute`, el.start);
        this.requireEmpty(el);
        this.plan.bookmark(mark);
        return;
      }
      case 'audio':
        this.audios++;
        if (this.audios > this.limits.maxAudio) throw doc.fail(`The SSML has more than ${this.limits.maxAudio} <audio> elements`, el.start);
        // Audio files are not fetched: the fallback content is spoken instead.
        this.children(el, inner);
        return;
      case 'desc':
      case 'lexicon':
      case 'meta':
      case 'metadata':
        return; // not spoken
      case 'math':
        this.children(el, { ...inner, loose: true });
        return;
      case 'phoneme':
      case 'w':
      case 'token':
        this.children(el, inner);
        return;
      case 'mstts:silence':
        this.silence(el); // validated; applied by scopeOf on its voice
        return;
      default:
        if (!name.includes(':') && !KNOWN_ELEMENTS.has(name)) {
          throw doc.fail(`Unknown SSML element <${name}>`, el.start);
        }
        // mstts:express-as and other namespaced extensions: accepted, their content spoken.
        this.children(el, inner);
    }
  }

  private speakAtomic(ctx: Context, spoken: string, literal: { offset: number; text: string } | undefined): void {
    if (spoken === '') return;
    const words: SourceWord[] =
      literal === undefined ? [] : [{ spokenOffset: 0, spokenLength: spoken.length, sourceText: literal.text, sourceOffset: literal.offset, kind: 'word' }];
    this.plan.speak(ctx, spoken, words);
  }

  private textOnly(el: Element): ReturnType<Doc['textContent']> {
    const child = el.children[0];
    if (child !== undefined) throw this.doc.fail(`<${el.name}> may contain only text, not <${child.name}>`, child.start);
    return this.doc.textContent(el);
  }

  private requireEmpty(el: Element): void {
    const child = el.children[0];
    if (child !== undefined) throw this.doc.fail(`<${el.name}> must be empty`, child.start);
    if (el.closeStart > el.openEnd && this.doc.textContent(el).literal !== undefined) throw this.doc.fail(`<${el.name}> must be empty`, el.openEnd);
  }

  private breakMs(el: Element): number {
    const time = el.attrs.get('time');
    if (time !== undefined) {
      const ms = parseDurationMs(time);
      if (ms === undefined) throw this.doc.fail(`<break> time "${time}" is not a duration like "500ms" or "2s"`, el.start);
      return Math.min(ms, MAX_BREAK_MS);
    }
    const strength = el.attrs.get('strength');
    if (strength === undefined) return BREAK_STRENGTHS.get('medium') ?? 750;
    const ms = BREAK_STRENGTHS.get(strength.trim().toLowerCase());
    if (ms === undefined) throw this.doc.fail(`<break> strength "${strength}" is not valid; use none, x-weak, weak, medium, strong or x-strong`, el.start);
    return ms;
  }

  private silence(el: Element): { type: string; ms: number } {
    const typeAttr = el.attrs.get('type');
    const value = el.attrs.get('value');
    const type = (typeAttr ?? '').trim().toLowerCase();
    if (!SILENCE_TYPES.has(type)) {
      throw this.doc.fail(
        `<mstts:silence> type "${typeAttr ?? ''}" is not valid; use Leading, Leading-exact, Tailing, Tailing-exact, Sentenceboundary, Sentenceboundary-exact, Comma-exact, Semicolon-exact or Enumerationcomma-exact`,
        el.start,
      );
    }
    const ms = value === undefined ? undefined : parseDurationMs(value);
    if (ms === undefined) throw this.doc.fail(`<mstts:silence> value "${value ?? ''}" is not a duration like "200ms"`, el.start);
    return { type, ms: Math.min(ms, MAX_BREAK_MS) };
  }

  private prosody(el: Element, current: Prosody): Prosody {
    const next = { ...current };
    const read = (attr: 'rate' | 'pitch' | 'volume', apply: (v: string, cur: number) => number | undefined, expected: string): void => {
      const value = el.attrs.get(attr);
      if (value === undefined) return;
      const result = apply(value, current[attr]);
      if (result === undefined || !Number.isFinite(result)) throw this.doc.fail(`<prosody> ${attr} "${value}" is not valid; expected ${expected}`, el.start);
      next[attr] = result;
    };
    read('rate', applyRate, 'x-slow, slow, medium, fast, x-fast, default, a relative percentage like "+20%", or a multiplier like "1.5"');
    read('pitch', applyPitch, 'x-low, low, medium, high, x-high, default, a relative change like "+10%", "-2st" or "+50Hz", or an absolute "200Hz"');
    read('volume', applyVolume, 'silent, x-soft, soft, medium, loud, x-loud, default, a number 0–100, a relative change like "+20%", "-6dB" or "+10"');
    return clampProsody(next);
  }
}
