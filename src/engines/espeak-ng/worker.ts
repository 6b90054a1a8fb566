/**
 * Worker thread that owns one copy of eSpeak NG, so its blocking C calls never run on the main event loop.
 *
 * One synthesis at a time, in arrival order. Each synthesis is one espeak_Synth call over the whole text:
 * eSpeak's own clause splitter knows each language's punctuation and abbreviations, and its buffers reach us
 * through the callback while it works, so the first audio leaves after the first clause, not after the text.
 * This side turns eSpeak's buffers and events into Parlance's SynthesisEvents (word spans in UTF-16, durations)
 * and posts them in batches; the main thread (index.ts) only schedules and forwards.
 */
import { parentPort, workerData } from 'node:worker_threads';

import { EngineError, type SynthesisEvent, serializeEngineError, type SerializedEngineError } from '../../domain/ports/engines.js';
import { EVENT, EspeakSynthesizer, type RawEvent } from './bindings.js';

// ---------------------------------------------------------------------------------------------------------------
// Protocol (imported as types by index.ts)
// ---------------------------------------------------------------------------------------------------------------

export interface WorkerInit {
  /** The library file this worker loads; workers after the first get private copies (see index.ts). */
  libraryPath: string;
  /** Directory containing espeak-ng-data, or undefined for the library's built-in default. */
  dataPath: string | undefined;
  /** Audio per eSpeak callback, ms. */
  bufferMs: number;
  /** Longest audio held back waiting for a clause end before it is posted anyway, ms. */
  maxBatchMs: number;
  /** eSpeak voice names to check at start-up; the ones that fail are reported in `ready`. */
  voiceNames: string[];
  /** Int32Array(1): the main thread stores the id of a request to stop here (read from eSpeak's callback). */
  abortFlag: SharedArrayBuffer;
}

export type { SerializedEngineError } from '../../domain/ports/engines.js';

export type ToWorker =
  | { type: 'synth'; id: number; text: string; voice: string; rateWpm: number; pitch: number }
  /** Releases eSpeak (see EspeakSynthesizer.release) and exits. */
  | { type: 'shutdown' }
  /** Test hook: exit abruptly, as a crashed worker would. */
  | { type: 'crash' };

export type FromWorker =
  | { type: 'ready'; sampleRate: number; loadMs: number; missingVoices: string[] }
  | { type: 'init-failed'; error: SerializedEngineError }
  /** The next events of request `id`, in audio-time order; the audio buffers are transferred. */
  | { type: 'events'; id: number; events: SynthesisEvent[] }
  | { type: 'done'; id: number; synthMs: number; aborted: boolean }
  | { type: 'failed'; id: number; error: SerializedEngineError }
  | { type: 'shut-down' };

// ---------------------------------------------------------------------------------------------------------------
// Event assembly
// ---------------------------------------------------------------------------------------------------------------

/** Letters, marks and digits: what a word span may consist of when eSpeak does not give its length. */
const WORD_CHAR = /[\p{L}\p{M}\p{N}]/u;
const LETTER = /\p{L}/u;
/** Trimmed off word spans: eSpeak's spans for numbers can include the separator or space after them. */
const LEADING_JUNK = /^[\s"'“‘„«‹([{]+/u;
const TRAILING_JUNK = /[\s,.;:!?"'”’»›)\]}]+$/u;

/** eSpeak's pause phonemes: "_", "_:" (clause pauses), "_!"…; they all start with an underscore. */
function isPause(event: SynthesisEvent): boolean {
  return event.type === 'phone' && event.phone.startsWith('_');
}

/** A word or phone whose end is not known yet (it ends where the next one, or a pause, starts). */
interface OpenItem {
  startMs: number;
  event: Extract<SynthesisEvent, { type: 'word' | 'phone' }>;
}

/**
 * Builds SynthesisEvents from one espeak_Synth call's buffers. Words and phones get their durations when the
 * next one starts, so they are held until then; audio is held with them so that every batch lists the events
 * first and then the audio they fall in. A batch goes out at each clause end (eSpeak's END event) or when
 * `maxBatchSamples` of audio are waiting.
 */
class EventAssembler {
  /** UTF-16 offset of each code point of the text, plus one entry for the end. */
  private readonly utf16At: number[];
  private readonly codePoints: string[];
  private readonly msPerSample: number;
  private readonly samplesPerMs: number;

  private openWord: OpenItem | undefined;
  private openPhone: OpenItem | undefined;
  /** Closed words and phones not yet posted. */
  private closed: OpenItem[] = [];
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  /** Samples produced so far / already posted. */
  private producedSamples = 0;
  private postedSamples = 0;
  /** End (UTF-16) of the furthest word span accepted so far; eSpeak repeats and overlaps spans of numbers. */
  private lastWordEnd = 0;
  /** The most recent word, open or closed. */
  private lastWord: OpenItem | undefined;
  /** Audio position of the latest event, ms. */
  private lastEventMs = 0;

  constructor(
    private readonly text: string,
    sampleRate: number,
    private readonly maxBatchSamples: number,
    private readonly post: (events: SynthesisEvent[]) => void,
  ) {
    this.codePoints = Array.from(text);
    this.utf16At = new Array<number>(this.codePoints.length + 1);
    let offset = 0;
    for (let i = 0; i < this.codePoints.length; i++) {
      this.utf16At[i] = offset;
      offset += (this.codePoints[i] ?? '').length;
    }
    this.utf16At[this.codePoints.length] = offset;
    this.msPerSample = 1000 / sampleRate;
    this.samplesPerMs = sampleRate / 1000;
  }

  /** One eSpeak buffer: its events (positions within the whole call) and then its samples. */
  add(pcm: Int16Array, events: readonly RawEvent[]): void {
    let clauseEnded = false;
    for (const raw of events) {
      // Positions can step back a few ms when eSpeak speeds up with libsonic (above 450 wpm); events must not.
      const e = raw.audioPositionMs < this.lastEventMs ? { ...raw, audioPositionMs: this.lastEventMs } : raw;
      this.lastEventMs = e.audioPositionMs;
      switch (e.type) {
        case EVENT.WORD:
          this.onWord(e);
          break;
        case EVENT.PHONEME:
          this.closePhone(e.audioPositionMs);
          this.openPhone = { startMs: e.audioPositionMs, event: { type: 'phone', phone: e.phoneme, audioOffsetMs: e.audioPositionMs, durationMs: 0 } };
          break;
        case EVENT.END:
        case EVENT.MSG_TERMINATED:
          this.closeWord(e.audioPositionMs);
          this.closePhone(e.audioPositionMs);
          // No word continues past a clause end.
          this.lastWord = undefined;
          clauseEnded = true;
          break;
        default:
          // SENTENCE, SAMPLERATE; MARK and PLAY need SSML input, which we never send.
          break;
      }
    }
    if (pcm.length > 0) {
      this.pending.push(pcm);
      this.pendingSamples += pcm.length;
      this.producedSamples += pcm.length;
    }
    if (clauseEnded || this.pendingSamples >= this.maxBatchSamples) this.flush();
  }

  /** End of the synthesis: whatever is open ends with the audio. */
  finish(): void {
    const endMs = this.producedSamples * this.msPerSample;
    this.closeWord(endMs);
    this.closePhone(endMs);
    this.lastWord = undefined;
    this.flush();
  }

  private onWord(e: RawEvent): void {
    const span = this.wordSpan(e.textPosition - 1, e.length);
    // No word at that position (eSpeak sends such events at the end of some texts).
    if (span === undefined) return;
    const last = this.openWord ?? this.lastWord;
    const open = last?.event;
    if (last !== undefined && open?.type === 'word' && this.continues(open, span)) {
      // Parts of one written token ("$1,234.50", "3/4/2024", "10:30", kanji runs repeated): one word. eSpeak may
      // have paused inside it, which closed it; while it has not been posted it opens again.
      if (this.openWord === undefined) {
        const i = this.closed.indexOf(last);
        if (i < 0) return;
        this.closed.splice(i, 1);
        this.openWord = last;
      }
      const end = Math.max(open.textOffset + open.textLength, span.offset + span.length);
      open.textLength = end - open.textOffset;
      this.lastWordEnd = Math.max(this.lastWordEnd, end);
      return;
    }
    // Within or before a word already done (the rest of a number after a pause inside it): that word is over.
    if (span.offset < this.lastWordEnd) return;
    this.closeWord(e.audioPositionMs);
    this.lastWordEnd = span.offset + span.length;
    this.openWord = {
      startMs: e.audioPositionMs,
      event: { type: 'word', textOffset: span.offset, textLength: span.length, audioOffsetMs: e.audioPositionMs, durationMs: 0 },
    };
    this.lastWord = this.openWord;
  }

  /**
   * Whether `span` is another part of the open word: it overlaps it, or follows it with no whitespace between
   * and not as one letter after another (CJK characters come as adjacent one-letter words and stay separate).
   */
  private continues(open: { textOffset: number; textLength: number }, span: { offset: number; length: number }): boolean {
    const end = open.textOffset + open.textLength;
    if (span.offset < end) return span.offset >= open.textOffset;
    if (/\s/u.test(this.text.slice(end, span.offset))) return false;
    const before = this.text.slice(Math.max(0, span.offset - 1), span.offset);
    const at = this.text.slice(span.offset, span.offset + 1);
    return !(LETTER.test(before) && LETTER.test(at));
  }

  /** Code-point position and length (0 = unknown) → UTF-16 span of `text`, or undefined when there is no word. */
  private wordSpan(cpIndex: number, cpLength: number): { offset: number; length: number } | undefined {
    const n = this.codePoints.length;
    if (!Number.isInteger(cpIndex) || cpIndex < 0 || cpIndex >= n) return undefined;
    let end = cpIndex;
    if (cpLength > 0) {
      end = Math.min(n, cpIndex + cpLength);
    } else {
      while (end < n && WORD_CHAR.test(this.codePoints[end] ?? '')) end++;
    }
    // eSpeak's lengths for numbers can take in the space after them.
    while (end > cpIndex && /\s/u.test(this.codePoints[end - 1] ?? '')) end--;
    if (end <= cpIndex) return undefined;
    const offset = this.utf16At[cpIndex] ?? 0;
    return { offset, length: (this.utf16At[end] ?? offset) - offset };
  }

  /** Ends the open word at `atMs`, or where a pause inside it began (the word does not include the silence). */
  private closeWord(atMs: number): void {
    const w = this.openWord;
    if (w === undefined) return;
    this.openWord = undefined;
    const p = this.openPhone;
    const end = p !== undefined && isPause(p.event) && p.startMs > w.startMs && p.startMs < atMs ? p.startMs : atMs;
    this.close(w, end);
  }

  private closePhone(atMs: number): void {
    const p = this.openPhone;
    if (p === undefined) return;
    // A pause with a length ends the word it follows; zero-length ones ("_|") are boundary markers inside words.
    if (isPause(p.event) && atMs > p.startMs && this.openWord !== undefined && this.openWord.startMs < p.startMs) this.closeWord(atMs);
    this.openPhone = undefined;
    this.close(p, atMs);
  }

  private close(item: OpenItem, atMs: number): void {
    const durationMs = atMs - item.startMs;
    // Zero-length items are markers (eSpeak's "_|" boundary at the start of some words), not sounds.
    if (durationMs <= 0) return;
    item.event.durationMs = durationMs;
    if (item.event.type === 'word' && !this.trim(item.event)) return;
    this.closed.push(item);
  }

  /** Trims punctuation and spaces off a word span's ends; false when nothing is left. */
  private trim(word: { textOffset: number; textLength: number }): boolean {
    const raw = this.text.slice(word.textOffset, word.textOffset + word.textLength);
    const lead = LEADING_JUNK.exec(raw)?.[0].length ?? 0;
    const rest = raw.slice(lead);
    const trail = TRAILING_JUNK.exec(rest)?.[0].length ?? 0;
    if (rest.length - trail <= 0) return false;
    word.textOffset += lead;
    word.textLength = rest.length - trail;
    return true;
  }

  /**
   * Where the earliest item that may still change starts, ms (+Infinity when none): the open word and phone, and
   * the last word while no other has begun (a pause inside a number closes it, and the rest of the number opens
   * it again).
   */
  private openStartMs(): number {
    const last = this.openWord === undefined ? this.lastWord : undefined;
    const reopenable = last !== undefined && this.closed.includes(last) ? last.startMs : Number.POSITIVE_INFINITY;
    return Math.min(this.openWord?.startMs ?? Number.POSITIVE_INFINITY, this.openPhone?.startMs ?? Number.POSITIVE_INFINITY, reopenable);
  }

  /**
   * Posts what can go out without breaking audio-time order: the closed items that start before every open one
   * (a later phone waits for the open word it belongs to), then the audio up to that point.
   */
  private flush(): void {
    const cutMs = this.openStartMs();
    const cutSample = cutMs === Number.POSITIVE_INFINITY ? this.producedSamples : Math.min(this.producedSamples, Math.floor(cutMs * this.samplesPerMs));
    const ready: OpenItem[] = [];
    const held: OpenItem[] = [];
    for (const item of this.closed) (item.startMs < cutMs ? ready : held).push(item);
    const count = Math.max(0, cutSample - this.postedSamples);
    if (count === 0 && ready.length === 0) return;
    this.closed = held;
    // A word before the first phone that starts with it.
    const rank = (item: OpenItem): number => (item.event.type === 'word' ? 0 : 1);
    const events: SynthesisEvent[] = ready.sort((a, b) => a.startMs - b.startMs || rank(a) - rank(b)).map((item) => item.event);
    if (count > 0) events.push({ type: 'audio', pcm: this.take(count) });
    this.post(events);
  }

  /** Removes the first `count` pending samples, as one buffer. */
  private take(count: number): Int16Array<ArrayBuffer> {
    const out = new Int16Array(count);
    let filled = 0;
    while (filled < count) {
      const head = this.pending[0];
      if (head === undefined) break;
      const n = Math.min(head.length, count - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) this.pending.shift();
      else this.pending[0] = head.subarray(n);
    }
    this.pendingSamples -= filled;
    this.postedSamples += filled;
    return filled === count ? out : out.slice(0, filled);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Worker body
// ---------------------------------------------------------------------------------------------------------------

function isWorkerInit(value: unknown): value is WorkerInit {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Partial<Record<keyof WorkerInit, unknown>>;
  return (
    typeof v.libraryPath === 'string' &&
    typeof v.bufferMs === 'number' &&
    typeof v.maxBatchMs === 'number' &&
    Array.isArray(v.voiceNames) &&
    v.abortFlag instanceof SharedArrayBuffer
  );
}

class SynthHost {
  private synth: EspeakSynthesizer | undefined;
  private readonly abortFlag: Int32Array;

  constructor(
    private readonly init: WorkerInit,
    private readonly send: (msg: FromWorker, transfer?: ArrayBuffer[]) => void,
  ) {
    this.abortFlag = new Int32Array(init.abortFlag);
  }

  start(): void {
    const t0 = performance.now();
    let synth: EspeakSynthesizer;
    try {
      synth = EspeakSynthesizer.load(this.init.libraryPath, this.init.bufferMs, this.init.dataPath);
    } catch (err) {
      this.send({ type: 'init-failed', error: serializeEngineError(err) });
      return;
    }
    this.synth = synth;
    // Loading each voice once also warms eSpeak's per-language dictionaries; a missing one is reported rather
    // than fatal, so one absent language does not take the others down.
    const missingVoices = this.init.voiceNames.filter((name) => !synth.setVoice(name));
    // Every voice switch queues a SAMPLERATE event, and eSpeak's per-buffer event list has a fixed size (≈30 at
    // 50 ms buffers): 30 queued switches pushed the first word and phone events of the next synthesis out of
    // it (measured). A throw-away synthesis drains them.
    try {
      synth.synthesize('a', () => true);
    } catch (err) {
      this.send({ type: 'init-failed', error: serializeEngineError(err) });
      return;
    }
    this.send({ type: 'ready', sampleRate: synth.sampleRate, loadMs: performance.now() - t0, missingVoices });
  }

  handle(msg: ToWorker): void {
    switch (msg.type) {
      case 'synth':
        return this.synthesize(msg);
      case 'shutdown':
        this.synth?.release();
        this.synth = undefined;
        this.send({ type: 'shut-down' });
        return;
      case 'crash':
        process.exit(70);
    }
  }

  private synthesize(msg: Extract<ToWorker, { type: 'synth' }>): void {
    const synth = this.synth;
    const t0 = performance.now();
    try {
      if (synth === undefined) throw new EngineError('Internal', 'eSpeak NG is not initialised');
      if (!synth.setVoice(msg.voice)) throw new EngineError('UnsupportedLocale', `eSpeak NG has no voice '${msg.voice}'`);
      synth.setProsody(msg.rateWpm, msg.pitch);
      const assembler = new EventAssembler(msg.text, synth.sampleRate, Math.round((this.init.maxBatchMs * synth.sampleRate) / 1000), (events) => {
        const transfer: ArrayBuffer[] = [];
        for (const e of events) if (e.type === 'audio' && e.pcm.buffer instanceof ArrayBuffer) transfer.push(e.pcm.buffer);
        this.send({ type: 'events', id: msg.id, events }, transfer);
      });
      const completed = synth.synthesize(msg.text, (pcm, events) => {
        // The main thread asks for a stop through shared memory: this callback is the only code that runs while
        // eSpeak works, and messages cannot be read until it returns.
        if (Atomics.load(this.abortFlag, 0) === msg.id) return false;
        assembler.add(pcm, events);
        return true;
      });
      if (completed) assembler.finish();
      this.send({ type: 'done', id: msg.id, synthMs: performance.now() - t0, aborted: !completed });
    } catch (err) {
      this.send({ type: 'failed', id: msg.id, error: serializeEngineError(err) });
    }
  }
}

const port = parentPort;
if (port === null) throw new Error('espeak-ng/worker.js must run in a worker thread');
if (!isWorkerInit(workerData)) throw new Error('espeak-ng worker started without valid workerData');

const host = new SynthHost(workerData, (msg, transfer) => port.postMessage(msg, transfer ?? []));
port.on('message', (msg: ToWorker) => {
  host.handle(msg);
  // Closing the port lets the thread end on its own.
  if (msg.type === 'shutdown') port.close();
});
host.start();
