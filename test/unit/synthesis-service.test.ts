import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick, setTimeout as sleep } from 'node:timers/promises';
import type { AudioEncoderSpec, CompressedAudioEncoder } from '../../src/domain/ports/audio.js';
import { EngineError, type SynthesisEvent, type SynthesisInput, type TtsEngine, type TtsVoice } from '../../src/domain/ports/engines.js';
import type { SynthesisPlan } from '../../src/domain/synthesis/plan.js';
import { SynthesisService, type SynthesisOptions, type SynthesisOutput } from '../../src/domain/synthesis/synthesis-service.js';
import { visemeId } from '../../src/domain/synthesis/visemes.js';
import { decodeMulaw } from '../../src/kernel/audio/g711.js';
import { parseWavHeader } from '../../src/kernel/audio/wav.js';
import { ServiceError } from '../../src/kernel/errors.js';
import { silentLogger } from '../../src/kernel/logger.js';
import { s16FromBytes } from '../helpers/pcm.js';

// ---------------------------------------------------------------------------------------------------------------
// A scripted engine: every spoken word is 100 ms of a tone, announced by a word and a phone event.

const WORD_MS = 100;
const TONE_HZ = 440;
const TONE_AMP = 10_000;
/** Phones the engine reports, word by word (cycling); 'p' and 'm' are viseme 21, 'hh' 12, 's' 15. */
const PHONES = ['hh', 'ae', 'l', 'ow', 'p', 'm', 's', 'f', 'k', 'r'] as const;

const FEMALE: TtsVoice = { id: 'fake:f', engine: 'fake', name: 'F', locale: 'en-US', gender: 'Female', sampleRate: 16_000, wordsPerMinute: 600 };
const MALE: TtsVoice = { id: 'fake:m', engine: 'fake', name: 'M', locale: 'en-US', gender: 'Male', sampleRate: 22_050, wordsPerMinute: 600 };

/** 100 ms of the tone at `rate`. */
function wordTone(rate: number): Int16Array {
  const n = (rate * WORD_MS) / 1000;
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(TONE_AMP * Math.sin((2 * Math.PI * TONE_HZ * i) / rate));
  return out;
}

/**
 * The words the engine speaks in `text`: whitespace-separated tokens with leading and trailing punctuation
 * trimmed off, as flite and eSpeak NG report them (a word event never covers the "." after a word).
 */
function spokenWords(text: string): Array<{ offset: number; length: number }> {
  const words: Array<{ offset: number; length: number }> = [];
  for (const m of text.matchAll(/\S+/gu)) {
    const lead = /^[^\p{L}\p{N}]*/u.exec(m[0])?.[0].length ?? 0;
    const core = m[0].slice(lead).replace(/[^\p{L}\p{N}]+$/u, '');
    if (core !== '') words.push({ offset: (m.index ?? 0) + lead, length: core.length });
  }
  return words;
}

class ScriptedEngine implements TtsEngine {
  readonly id = 'fake';
  readonly phoneSet = 'arpabet' as const;
  readonly calls: SynthesisInput[] = [];
  /** Words started so far, over all calls (each is a word, a phone and an audio event). */
  wordsProduced = 0;
  /** Events yielded so far, over all calls. */
  eventsProduced = 0;

  constructor(private readonly opts: { failAtWord?: number } = {}) {}

  voices(): readonly TtsVoice[] {
    return [FEMALE, MALE];
  }

  async *synthesize(input: SynthesisInput, signal?: AbortSignal): AsyncIterable<SynthesisEvent> {
    this.calls.push(input);
    const voice = this.voices().find((v) => v.id === input.voiceId);
    if (!voice) throw new EngineError('UnsupportedLocale', `no voice ${input.voiceId}`);
    const tone = wordTone(voice.sampleRate);
    let atMs = 0;
    for (const w of spokenWords(input.text)) {
      if (signal?.aborted) throw new EngineError('Aborted', 'aborted');
      if (this.opts.failAtWord !== undefined && this.wordsProduced >= this.opts.failAtWord) throw new EngineError('Overloaded', 'queue full');
      const phone = PHONES[this.wordsProduced % PHONES.length] ?? 'sil';
      this.wordsProduced += 1;
      this.eventsProduced += 1;
      yield { type: 'word', textOffset: w.offset, textLength: w.length, audioOffsetMs: atMs, durationMs: WORD_MS };
      this.eventsProduced += 1;
      yield { type: 'phone', phone, audioOffsetMs: atMs, durationMs: WORD_MS };
      this.eventsProduced += 1;
      yield { type: 'audio', pcm: tone.slice() };
      atMs += WORD_MS;
    }
  }

  async ready(): Promise<void> {}
  async close(): Promise<void> {}
}

/** The compressed encoder port: a pass-through that records what was opened (PCM and G.711 must not open it). */
class StubEncoder implements CompressedAudioEncoder {
  readonly opened: AudioEncoderSpec[] = [];
  open(spec: AudioEncoderSpec): PassThrough {
    this.opened.push(spec);
    return new PassThrough();
  }
}

function setup(opts: { engine?: ScriptedEngine; maxAudioMs?: number } = {}): { service: SynthesisService; engine: ScriptedEngine; encoder: StubEncoder } {
  const engine = opts.engine ?? new ScriptedEngine();
  const encoder = new StubEncoder();
  const service = new SynthesisService([engine], encoder, { maxAudioMs: opts.maxAudioMs ?? 600_000, maxSsmlBytes: 65_536, maxVoiceElements: 50 }, silentLogger);
  return { service, engine, encoder };
}

// ---------------------------------------------------------------------------------------------------------------
// Running a synthesis

const NONE: SynthesisOptions = { wordBoundary: false, punctuationBoundary: false, sentenceBoundary: false, bookmarks: false, visemes: false };
const ALL: SynthesisOptions = { wordBoundary: true, punctuationBoundary: true, sentenceBoundary: true, bookmarks: true, visemes: true };
const RAW16 = 'raw-16khz-16bit-mono-pcm';

type Boundary = Extract<SynthesisOutput, { type: 'boundary' }>;

interface Run {
  events: SynthesisOutput[];
  /** Every audio byte, in order. */
  audio: Buffer;
  /** The first audio event's bytes (where a RIFF header must be). */
  firstAudio: Buffer | undefined;
  /** durationMs of the final 'end' event. */
  endMs: number;
  words: Boundary[];
  punctuation: Boundary[];
  sentences: Boundary[];
  bookmarks: Array<Extract<SynthesisOutput, { type: 'bookmark' }>>;
  visemes: Array<Extract<SynthesisOutput, { type: 'viseme' }>>;
}

async function collect(events: AsyncIterable<SynthesisOutput>): Promise<Run> {
  const all: SynthesisOutput[] = [];
  for await (const ev of events) all.push(ev);
  const last = all[all.length - 1];
  assert.ok(last !== undefined && last.type === 'end', `the last event is 'end', got ${JSON.stringify(last)}`);
  assert.equal(all.filter((e) => e.type === 'end').length, 1, 'exactly one end event');
  const audioChunks = all.flatMap((e) => (e.type === 'audio' ? [e.data] : []));
  const boundaries = all.filter((e): e is Boundary => e.type === 'boundary');
  return {
    events: all,
    audio: Buffer.concat(audioChunks),
    firstAudio: audioChunks[0],
    endMs: last.durationMs,
    words: boundaries.filter((b) => b.boundary === 'word'),
    punctuation: boundaries.filter((b) => b.boundary === 'punctuation'),
    sentences: boundaries.filter((b) => b.boundary === 'sentence'),
    bookmarks: all.filter((e): e is Extract<SynthesisOutput, { type: 'bookmark' }> => e.type === 'bookmark'),
    visemes: all.filter((e): e is Extract<SynthesisOutput, { type: 'viseme' }> => e.type === 'viseme'),
  };
}

async function run(service: SynthesisService, plan: SynthesisPlan, formatName = RAW16, opts: SynthesisOptions = NONE): Promise<Run> {
  return collect(service.synthesize(plan, service.outputFormat(formatName), opts));
}

/** A document with the body inside one voice element. */
function ssml(body: string, voice = 'en-US-JennyNeural'): string {
  return `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='${voice}'>${body}</voice></speak>`;
}

/** Each text is found in `source` after the previous one, the way the JS SDK locates boundary texts (indexOf). */
function assertFindableInOrder(source: string, texts: readonly string[]): void {
  let cursor = 0;
  for (const text of texts) {
    const at = source.indexOf(text, cursor);
    assert.ok(at >= 0, `"${text}" is a literal substring of the source after offset ${cursor}`);
    cursor = at + text.length;
  }
}

function peak(pcm: Int16Array, from = 0, to = pcm.length): number {
  let p = 0;
  for (let i = from; i < to; i++) p = Math.max(p, Math.abs(pcm[i] ?? 0));
  return p;
}

async function rejectsWithCode(events: AsyncIterable<SynthesisOutput>, code: string): Promise<{ error: ServiceError; before: SynthesisOutput[] }> {
  const before: SynthesisOutput[] = [];
  let caught: unknown;
  try {
    for await (const ev of events) before.push(ev);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ServiceError, `expected a ServiceError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.ok(!before.some((e) => e.type === 'end'), 'no end event before the error');
  return { error: caught, before };
}

function throwsCode(fn: () => unknown, code: string): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServiceError, `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.status, 400);
    return true;
  });
}

/**
 * Runs `fn` with 'unhandledRejection' events captured here instead of reaching the test runner (restored after),
 * waiting `settleMs` for late ones; returns what `fn` returned and the rejection reasons.
 */
async function capturingUnhandledRejections<T>(fn: () => Promise<T>, settleMs = 50): Promise<{ result: T; rejections: unknown[] }> {
  const saved = process.listeners('unhandledRejection');
  process.removeAllListeners('unhandledRejection');
  const rejections: unknown[] = [];
  const capture = (reason: unknown): void => {
    rejections.push(reason);
  };
  process.on('unhandledRejection', capture);
  try {
    const result = await fn();
    await sleep(settleMs);
    return { result, rejections };
  } finally {
    process.off('unhandledRejection', capture);
    for (const listener of saved) process.on('unhandledRejection', listener);
  }
}

const FIVE = 'one two three four five';
const NATO = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel'];
/** `n` plain words (letters only, so the text normalizer leaves them alone: one spoken word each). */
const wordsText = (n: number): string => Array.from({ length: n }, (_, i) => NATO[i % NATO.length]).join(' ');

// ---------------------------------------------------------------------------------------------------------------

describe('SynthesisService: audio', () => {
  const cases: Array<{ format: string; rate: number; bytesPerSample: number; header: number }> = [
    { format: 'raw-16khz-16bit-mono-pcm', rate: 16_000, bytesPerSample: 2, header: 0 },
    { format: 'riff-16khz-16bit-mono-pcm', rate: 16_000, bytesPerSample: 2, header: 44 },
    { format: 'raw-24khz-16bit-mono-pcm', rate: 24_000, bytesPerSample: 2, header: 0 },
    { format: 'raw-8khz-8bit-mono-mulaw', rate: 8000, bytesPerSample: 1, header: 0 },
    { format: 'riff-8khz-8bit-mono-mulaw', rate: 8000, bytesPerSample: 1, header: 44 },
  ];
  for (const c of cases) {
    for (const [voiceName, voice] of [['en-US-JennyNeural', FEMALE], ['en-US-GuyNeural', MALE]] as const) {
      it(`${c.format} from the ${voice.sampleRate} Hz voice: bytes = header + duration × rate × bytes/sample, end = duration`, async () => {
        const { service, engine, encoder } = setup();
        const r = await run(service, service.planText(FIVE, voiceName, 'en-US'), c.format);
        assert.equal(engine.calls[0]?.voiceId, voice.id);
        const durationMs = 5 * WORD_MS;
        assert.equal(r.audio.length, c.header + (durationMs * c.rate * c.bytesPerSample) / 1000);
        assert.ok(Math.abs(r.endMs - durationMs) <= 1, `end ${r.endMs} ms`);
        assert.deepEqual(encoder.opened, [], 'PCM and G.711 never use the compressed encoder');
        if (c.header > 0) {
          const first = r.firstAudio;
          assert.ok(first !== undefined && first.length >= 44, 'the header is in the first audio event');
          assert.equal(first.subarray(0, 4).toString('latin1'), 'RIFF');
          const h = parseWavHeader(first.subarray(0, 44));
          assert.ok(!('needMore' in h));
          assert.equal(h.dataOffset, 44);
          assert.deepEqual(h.format, { encoding: c.bytesPerSample === 2 ? 'pcm-s16' : 'mulaw', sampleRate: c.rate, channels: 1 });
        }
        // The tone survives resampling and encoding: full level in the middle of the audio.
        const body = r.audio.subarray(c.header);
        const pcm = c.bytesPerSample === 2 ? s16FromBytes(body) : decodeMulaw(body);
        const p = peak(pcm, pcm.length / 4, (3 * pcm.length) / 4);
        assert.ok(p > TONE_AMP * 0.9 && p < TONE_AMP * 1.1, `peak ${p}`);
      });
    }
  }

  it('16 kHz voice to raw 16 kHz PCM: the engine samples pass through unchanged', async () => {
    const { service } = setup();
    const r = await run(service, service.planText(FIVE, 'en-US-JennyNeural', 'en-US'));
    const tone = wordTone(16_000);
    const expected = new Int16Array(5 * tone.length);
    for (let k = 0; k < 5; k++) expected.set(tone, k * tone.length);
    assert.deepEqual(s16FromBytes(r.audio), expected);
  });

  it('the last event is end, with the duration of several sentences and voices together', async () => {
    const { service } = setup();
    const doc = `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-JennyNeural'>One two. Three.</voice><voice name='en-US-GuyNeural'>Four five six.</voice></speak>`;
    const r = await run(service, service.planSsml(doc), 'riff-16khz-16bit-mono-pcm');
    assert.equal(r.audio.length, 44 + 0.6 * 16_000 * 2);
    assert.ok(Math.abs(r.endMs - 600) <= 1, `end ${r.endMs}`);
    assert.equal(r.events[r.events.length - 1]?.type, 'end');
  });
});

describe('SynthesisService: word boundaries', () => {
  it('one per source word, in order, quoting the source, at the audio offsets of the words', async () => {
    const { service } = setup();
    const text = 'The quick brown fox jumps over the lazy dog.';
    const r = await run(service, service.planText(text, 'en-US-JennyNeural', 'en-US'), RAW16, { ...NONE, wordBoundary: true });
    const expected = ['The', 'quick', 'brown', 'fox', 'jumps', 'over', 'the', 'lazy', 'dog'];
    assert.deepEqual(
      r.words.map((w) => w.text),
      expected,
    );
    assert.deepEqual(
      r.words.map((w) => [w.offsetMs, w.durationMs]),
      expected.map((_, i) => [i * WORD_MS, WORD_MS]),
    );
    assertFindableInOrder(text, expected);
    for (const w of r.words) assert.ok(w.offsetMs >= 0 && w.offsetMs + w.durationMs <= r.endMs + 1, `${w.text} inside the audio`);
    assert.equal(r.endMs, 900);
    assert.deepEqual(r.punctuation, [], 'no punctuation boundaries unless asked');
  });

  it('"$3.50" gets ONE boundary spanning the words it is spoken as', async () => {
    const { service, engine } = setup();
    const text = 'I paid $3.50 today.';
    const r = await run(service, service.planText(text, 'en-US-JennyNeural', 'en-US'), RAW16, { ...NONE, wordBoundary: true });
    const spoken = engine.calls.map((c) => c.text).join(' ');
    const moneyWords = spokenWords(spoken).length - 3; // everything but "I", "paid", "today"
    assert.ok(moneyWords >= 2, `"$3.50" is spoken as several words: ${spoken}`);
    assert.deepEqual(
      r.words.map((w) => w.text),
      ['I', 'paid', '$3.50', 'today'],
    );
    const money = r.words[2];
    assert.ok(money);
    assert.equal(money.offsetMs, 2 * WORD_MS);
    assert.equal(money.durationMs, moneyWords * WORD_MS, 'from the start of its first spoken word to the end of its last');
    assert.equal(r.words[3]?.offsetMs, (2 + moneyWords) * WORD_MS);
    assert.equal(r.endMs, (3 + moneyWords) * WORD_MS);
    for (const w of r.words) assert.ok(w.offsetMs + w.durationMs <= r.endMs + 1);
    assertFindableInOrder(text, ['I', 'paid', '$3.50', 'today']);
  });

  it('boundary texts are literal substrings of the SSML (escaped text, say-as, sub)', async () => {
    const { service } = setup();
    const doc = ssml(`AT&amp;T said <say-as interpret-as='cardinal'>42</say-as> <sub alias='World Wide Web'>WWW</sub> things.`);
    const r = await run(service, service.planSsml(doc), RAW16, { ...NONE, wordBoundary: true });
    const texts = r.words.map((w) => w.text);
    assert.deepEqual(texts, ['AT&amp;T', 'said', '42', 'WWW', 'things']);
    assertFindableInOrder(doc, texts);
    for (let i = 1; i < r.words.length; i++) assert.ok((r.words[i]?.offsetMs ?? 0) > (r.words[i - 1]?.offsetMs ?? 0), 'offsets increase');
    for (const w of r.words) assert.ok(w.offsetMs + w.durationMs <= r.endMs + 1, `${w.text} inside the audio`);
  });

  it('punctuation boundaries for "," and "." only when punctuationBoundary is on, between the words', async () => {
    const { service } = setup();
    const text = 'Hello, world. Goodbye.';
    const plan = service.planText(text, 'en-US-JennyNeural', 'en-US');
    const on = await run(service, plan, RAW16, { ...NONE, wordBoundary: true, punctuationBoundary: true });
    const order = on.events.flatMap((e) => (e.type === 'boundary' ? [`${e.boundary}:${e.text}@${e.offsetMs}`] : []));
    assert.deepEqual(order, ['word:Hello@0', 'punctuation:,@100', 'word:world@100', 'punctuation:.@200', 'word:Goodbye@200', 'punctuation:.@300']);
    for (const p of on.punctuation) assert.equal(p.durationMs, 0);
    assertFindableInOrder(
      text,
      order.map((o) => o.replace(/^\w+:(.*)@\d+$/u, '$1')),
    );
    const off = await run(service, plan, RAW16, { ...NONE, wordBoundary: true });
    assert.deepEqual(off.punctuation, []);
    assert.deepEqual(off.words, on.words, 'word boundaries do not depend on the punctuation flag');
  });

  it('sentence boundaries only when enabled, at the start of each sentence', async () => {
    const { service } = setup();
    const plan = service.planText('Hello, world. Goodbye now.', 'en-US-JennyNeural', 'en-US');
    const on = await run(service, plan, RAW16, { ...NONE, sentenceBoundary: true });
    assert.deepEqual(
      on.sentences.map((s) => [s.text, s.offsetMs]),
      [
        ['Hello, world.', 0],
        ['Goodbye now.', 200],
      ],
    );
    assert.deepEqual(on.words, [], 'no word boundaries unless asked');
    const off = await run(service, plan, RAW16, { ...NONE, wordBoundary: true });
    assert.deepEqual(off.sentences, []);
  });

  it('bookmarks carry the offset of the audio written so far', async () => {
    const { service } = setup();
    const doc = ssml(`<bookmark mark='start'/>One two <bookmark mark='m1'/>three<break time='250ms'/><bookmark mark='m2'/> four<bookmark mark='end'/>`);
    const plan = service.planSsml(doc);
    const on = await run(service, plan, RAW16, { ...NONE, bookmarks: true });
    assert.deepEqual(
      on.bookmarks.map((b) => [b.name, b.offsetMs]),
      [
        ['start', 0],
        ['m1', 200],
        ['m2', 550],
        ['end', 650],
      ],
    );
    assert.equal(on.endMs, 650);
    const off = await run(service, plan, RAW16, NONE);
    assert.deepEqual(off.bookmarks, []);
  });

  it('visemes: one per engine phone, ids from the viseme table, at the phone offsets', async () => {
    const { service } = setup();
    const plan = service.planText('a b c d e f', 'en-US-JennyNeural', 'en-US');
    const on = await run(service, plan, RAW16, { ...NONE, visemes: true });
    assert.deepEqual(
      on.visemes.map((v) => [v.visemeId, v.offsetMs]),
      PHONES.slice(0, 6).map((p, i) => [visemeId(p, 'arpabet'), i * WORD_MS]),
    );
    // Spot checks of the table itself: hh → 12, ae → 1, p → 21, m → 21.
    assert.deepEqual(
      on.visemes.map((v) => v.visemeId),
      [12, 1, 14, 8, 21, 21],
    );
    const off = await run(service, plan, RAW16, NONE);
    assert.deepEqual(off.visemes, []);
  });

  it('all metadata off: only audio and the end event', async () => {
    const { service } = setup();
    const doc = ssml(`Hello, <bookmark mark='b'/>world. How are you?`);
    const r = await run(service, service.planSsml(doc), RAW16, NONE);
    assert.ok(r.events.length > 1);
    assert.deepEqual([...new Set(r.events.map((e) => e.type))], ['audio', 'end']);
  });

  it('everything on: word, punctuation, sentence, bookmark and viseme events all in audio-time order', async () => {
    const { service } = setup();
    const doc = ssml(`Hello, <bookmark mark='b'/>world. How are you?`);
    const r = await run(service, service.planSsml(doc), RAW16, ALL);
    assert.deepEqual(
      r.words.map((w) => w.text),
      ['Hello', 'world', 'How', 'are', 'you'],
    );
    assert.deepEqual(
      r.punctuation.map((p) => p.text),
      [',', '.', '?'],
    );
    assert.deepEqual(
      r.sentences.map((s) => s.text),
      // A sentence's text stops at the first markup inside it (plan.ts, SentenceSource): here the bookmark.
      ['Hello,', 'How are you?'],
    );
    assert.deepEqual(
      r.bookmarks.map((b) => [b.name, b.offsetMs]),
      [['b', 100]],
    );
    assert.equal(r.visemes.length, 5);
    assertFindableInOrder(
      doc,
      r.events.flatMap((e) => (e.type === 'boundary' && e.boundary !== 'sentence' ? [e.text] : [])),
    );
  });
});

describe('SynthesisService: silence and prosody', () => {
  it('break adds silence of the right length, where it stands', async () => {
    const { service } = setup();
    const doc = ssml(`One<break time='500ms'/>two<break time='1s'/>three`);
    const r = await run(service, service.planSsml(doc), RAW16, { ...NONE, wordBoundary: true });
    assert.equal(r.endMs, 300 + 500 + 1000);
    const pcm = s16FromBytes(r.audio);
    assert.equal(pcm.length, 1.8 * 16_000);
    const at = (ms: number): number => (ms * 16_000) / 1000;
    assert.equal(peak(pcm, at(100), at(600)), 0, 'silence from 100 to 600 ms');
    assert.equal(peak(pcm, at(700), at(1700)), 0, 'silence from 700 to 1700 ms');
    for (const [from, to] of [
      [0, 100],
      [600, 700],
      [1700, 1800],
    ] as const) {
      assert.ok(peak(pcm, at(from), at(to)) > TONE_AMP * 0.9, `tone from ${from} to ${to} ms`);
    }
    assert.deepEqual(
      r.words.map((w) => [w.text, w.offsetMs]),
      [
        ['One', 0],
        ['two', 600],
        ['three', 1700],
      ],
    );
  });

  it('silence is added at the output rate for a resampled voice too', async () => {
    const { service } = setup();
    const r = await run(service, service.planSsml(ssml(`One<break time='500ms'/>two`, 'en-US-GuyNeural')), 'raw-8khz-8bit-mono-mulaw');
    assert.equal(r.audio.length, 0.7 * 8000);
    assert.equal(r.endMs, 700);
  });

  it('prosody volume scales the samples: x-soft is a fifth of x-loud', async () => {
    const { service } = setup();
    const loud = await run(service, service.planSsml(ssml(`<prosody volume='x-loud'>Hello there</prosody>`)));
    const soft = await run(service, service.planSsml(ssml(`<prosody volume='x-soft'>Hello there</prosody>`)));
    const loudPcm = s16FromBytes(loud.audio);
    const softPcm = s16FromBytes(soft.audio);
    assert.equal(loudPcm.length, softPcm.length);
    const pl = peak(loudPcm);
    const ps = peak(softPcm);
    assert.equal(pl, peak(wordTone(16_000)), 'x-loud is the voice default level');
    assert.ok(Math.abs(pl / ps - 5) < 0.01, `peaks ${pl} / ${ps}`);
    for (let i = 0; i < loudPcm.length; i += 37) assert.ok(Math.abs((softPcm[i] ?? 0) - 0.2 * (loudPcm[i] ?? 0)) <= 0.5, `sample ${i}`);
  });
});

describe('SynthesisService: voices, documents and formats', () => {
  it('en-US-JennyNeural is served by the female voice, en-US-GuyNeural by the male one', async () => {
    for (const [name, id] of [
      ['en-US-JennyNeural', 'fake:f'],
      ['en-US-GuyNeural', 'fake:m'],
    ] as const) {
      const { service, engine } = setup();
      await run(service, service.planSsml(ssml('Hi there.', name)));
      assert.deepEqual(
        engine.calls.map((c) => c.voiceId),
        [id],
        name,
      );
      const { service: s2, engine: e2 } = setup();
      await run(s2, s2.planText('Hi there.', name, 'en-US'));
      assert.deepEqual(
        e2.calls.map((c) => c.voiceId),
        [id],
        `${name} (plain text)`,
      );
    }
  });

  it('a voice of a locale no engine speaks is UnsupportedVoice at planning time', () => {
    const { service, engine } = setup();
    throwsCode(() => service.planSsml(ssml('Hello.', 'xx-XX-NobodyNeural')), 'UnsupportedVoice');
    throwsCode(() => service.planText('Hello.', 'xx-XX-NobodyNeural', 'xx-XX'), 'UnsupportedVoice');
    assert.equal(engine.calls.length, 0);
  });

  it('bad SSML is InvalidSsml', () => {
    const { service } = setup();
    for (const bad of [
      `<speak version='1.0' xml:lang='en-US'><voice name='en-US-JennyNeural'>unclosed</speak>`,
      `<voice name='en-US-JennyNeural'>not in speak</voice>`,
      'just text',
      '',
    ]) {
      throwsCode(() => service.planSsml(bad), 'InvalidSsml');
    }
  });

  it('outputFormat: known but unproducible and unknown names are UnsupportedOutputFormat', () => {
    const { service } = setup();
    throwsCode(() => service.outputFormat('amr-wb-16000hz'), 'UnsupportedOutputFormat');
    throwsCode(() => service.outputFormat('nope'), 'UnsupportedOutputFormat');
    assert.equal(service.outputFormat('Riff-16khz-16bit-mono-pcm').name, 'riff-16khz-16bit-mono-pcm');
  });
});

describe('SynthesisService: limits, failures, cancellation, backpressure', () => {
  const LONG = wordsText(40);

  it('maxAudioMs truncates long text and still ends with end', async () => {
    const { service, engine } = setup({ maxAudioMs: 250 });
    const r = await run(service, service.planText(LONG, 'en-US-JennyNeural', 'en-US'), RAW16, { ...NONE, wordBoundary: true });
    assert.equal(r.audio.length, 250 * 16 * 2);
    assert.equal(r.endMs, 250);
    assert.ok(engine.wordsProduced < 10, `the engine stopped early (${engine.wordsProduced} of 40 words)`);
    for (const w of r.words) assert.ok(w.offsetMs < r.endMs, `${w.text} starts inside the audio`);
  });

  it('maxAudioMs applies to a resampled voice and to silence as well', async () => {
    const { service } = setup({ maxAudioMs: 250 });
    const r = await run(service, service.planSsml(ssml(`One<break time='5s'/>two`, 'en-US-GuyNeural')), 'riff-16khz-16bit-mono-pcm');
    assert.equal(r.audio.length, 44 + 250 * 16 * 2);
    assert.equal(r.endMs, 250);
  });

  // Unhandled rejections on the failure paths are captured here and asserted absent by the test at the end.

  it("an engine's EngineError('Overloaded') mid-way makes the iterable throw EngineOverloaded", async () => {
    const { service } = setup({ engine: new ScriptedEngine({ failAtWord: 3 }) });
    const plan = service.planText(LONG, 'en-US-JennyNeural', 'en-US');
    const { result } = await capturingUnhandledRejections(() => rejectsWithCode(service.synthesize(plan, service.outputFormat(RAW16), NONE), 'EngineOverloaded'));
    assert.equal(result.error.status, 503);
    const bytes = result.before.reduce((n, e) => n + (e.type === 'audio' ? e.data.length : 0), 0);
    assert.ok(bytes <= 3 * WORD_MS * 16 * 2, `at most the audio of the words before the failure (${bytes} bytes)`);
  });

  async function abortAfterFirstAudio(service: SynthesisService, plan: SynthesisPlan): Promise<unknown> {
    const abort = new AbortController();
    const events = service.synthesize(plan, service.outputFormat(RAW16), { ...NONE, signal: abort.signal });
    let audioEvents = 0;
    try {
      for await (const ev of events) {
        if (ev.type === 'audio') audioEvents += 1;
        if (audioEvents === 1) abort.abort();
        assert.notEqual(ev.type, 'end', 'no end after an abort');
      }
    } catch (err) {
      return err;
    }
    return undefined;
  }

  it('abort via the signal stops the synthesis early with an error', async () => {
    const { service, engine } = setup();
    const plan = service.planText(LONG, 'en-US-JennyNeural', 'en-US');
    const { result: caught } = await capturingUnhandledRejections(() => abortAfterFirstAudio(service, plan));
    assert.ok(caught instanceof ServiceError, `expected a ServiceError, got ${String(caught)}`);
    assert.equal(caught.code, 'RequestTimeout');
    assert.ok(engine.wordsProduced < 40, `the engine stopped early (${engine.wordsProduced} of 40 words)`);
  });

  it('an already aborted signal fails without running the engine', async () => {
    const { service, engine } = setup();
    const abort = new AbortController();
    abort.abort();
    const plan = service.planText(FIVE, 'en-US-JennyNeural', 'en-US');
    await capturingUnhandledRejections(() => rejectsWithCode(service.synthesize(plan, service.outputFormat(RAW16), { ...NONE, signal: abort.signal }), 'RequestTimeout'));
    assert.equal(engine.wordsProduced, 0);
  });

  it(
    'a failed or aborted synthesis leaves no unhandled promise rejection behind',
    async () => {
      const failing = setup({ engine: new ScriptedEngine({ failAtWord: 2 }) });
      const overloaded = await capturingUnhandledRejections(() =>
        rejectsWithCode(failing.service.synthesize(failing.service.planText(LONG, 'en-US-JennyNeural', 'en-US'), failing.service.outputFormat(RAW16), NONE), 'EngineOverloaded'),
      );
      const { service } = setup();
      const aborted = await capturingUnhandledRejections(() => abortAfterFirstAudio(service, service.planText(LONG, 'en-US-JennyNeural', 'en-US')));
      assert.ok(aborted.result instanceof ServiceError);
      assert.deepEqual(
        [...overloaded.rejections, ...aborted.rejections].map((r) => String(r)),
        [],
      );
    },
  );

  /** Starts a synthesis of `words` words nobody reads, and returns how many words the engine produced before it stalled. */
  async function producedWithoutReader(words: number, formatName: string): Promise<{ engine: ScriptedEngine; events: AsyncIterable<SynthesisOutput> }> {
    const { service, engine } = setup();
    const events = service.synthesize(service.planText(wordsText(words), 'en-US-JennyNeural', 'en-US'), service.outputFormat(formatName), NONE);
    // Wait until the engine stops making progress (it is held back) or is done.
    let last = -1;
    for (let i = 0; i < 100 && engine.wordsProduced !== last; i++) {
      last = engine.wordsProduced;
      await sleep(30);
    }
    return { engine, events };
  }

  it('a slow consumer holds the engine back (bounded read-ahead), and still gets everything', async () => {
    const words = 6000; // ten minutes of audio
    const bytesPerWord = WORD_MS * 16 * 2;
    const { engine, events } = await producedWithoutReader(words, RAW16);
    const idleAhead = engine.wordsProduced;
    assert.ok(idleAhead < words / 4, `with no reader the engine produced ${idleAhead} of ${words} words`);
    let consumedBytes = 0;
    let maxAhead = 0;
    let n = 0;
    let end: number | undefined;
    for await (const ev of events) {
      if (ev.type === 'audio') consumedBytes += ev.data.length;
      if (ev.type === 'end') end = ev.durationMs;
      maxAhead = Math.max(maxAhead, engine.wordsProduced - Math.floor(consumedBytes / bytesPerWord));
      if (++n % 2 === 0) await tick();
    }
    assert.ok(maxAhead < words / 4, `the engine ran at most ${maxAhead} words (${(maxAhead * WORD_MS) / 1000} s) ahead of the reader`);
    assert.equal(consumedBytes, words * bytesPerWord);
    assert.equal(end, words * WORD_MS);
    assert.equal(engine.eventsProduced, 3 * words);
  });

  for (const formatName of [RAW16, 'raw-8khz-8bit-mono-mulaw']) {
    it(
      `${formatName}: the engine runs at most a few seconds of audio ahead of a reader that does not read`,
      async () => {
        const { engine } = await producedWithoutReader(6000, formatName);
        const aheadMs = engine.wordsProduced * WORD_MS;
        assert.ok(aheadMs <= 10_000, `with no reader the engine produced ${aheadMs / 1000} s of audio`);
      },
    );
  }
});
