import { EngineError, type EngineHypothesis, type LiveDecoder, type SttEngine } from '../ports/engines.js';
import type { Logger } from '../../kernel/logger.js';
import { isServiceError, type ServiceError } from '../../kernel/errors.js';
import { ENGINE_SAMPLE_RATE } from '../../kernel/audio/format.js';
import { msToSamples, samplesToMs } from '../../kernel/time.js';
import { Errors } from '../errors.js';
import { AudioWindow } from './audio-window.js';
import { buildDisplayForms } from './display-form.js';
import { Segmenter, type SegmentEvent } from './segmenter.js';
import type { PhraseResult, RecognitionOptions, TurnListener } from './types.js';

export interface TurnDeps {
  engine: SttEngine;
  logger: Logger;
  /** Audio between two partial hypotheses. */
  hypothesisIntervalMs: number;
  /** The turn ends (as if the stream ended) after this much audio. */
  maxTurnAudioMs: number;
}

/** Audio kept before the detected speech start, so the decoder hears the onset. */
const PREROLL_MS = 500;
/** Audio kept after the last voiced frame, so the decoder hears the word's tail. */
const TAIL_MS = 500;
/** Finals queued before the caller is asked to stop sending audio. */
const MAX_PENDING_FINALS = 2;

interface Utterance {
  startSample: number;
  speechStartMs: number;
  fedUpTo: number;
  live: Promise<LiveDecoder | undefined> | undefined;
  liveTail: Promise<unknown>;
  /** Newest partial from the live decoder, and the last one sent. */
  latest: { text: string; durationMs: number } | undefined;
  lastSent: string;
  finalized: boolean;
}

/**
 * One recognition turn: 16 kHz PCM in, ordered result events out (see TurnListener).
 *
 * Segmentation happens here on the event loop; decoding happens in the engine's workers. Partial
 * hypotheses come from a live decoder while an utterance is open; every closed utterance is decoded
 * again as a whole for its final result (deterministic and more accurate; docs/engines.md §4.3).
 * Finals are emitted strictly in utterance order through one promise chain.
 */
export class RecognitionTurn {
  readonly #opts: RecognitionOptions;
  readonly #listener: TurnListener;
  readonly #deps: TurnDeps;
  readonly #segmenter: Segmenter;
  readonly #window = new AudioWindow();
  readonly #abort = new AbortController();
  readonly #maxTurnSamples: number;

  #samplesIn = 0;
  /** End (exclusive) of the audio already handed to a final decode. */
  #decodedUpTo = 0;
  #utterance: Utterance | undefined;
  #chain: Promise<void> = Promise.resolve();
  #pendingFinals = 0;
  #drainWaiters: Array<() => void> = [];
  /** Speech seen that may still become words (reset when an interactive utterance was only noise). */
  #anySpeech = false;
  #startReported = false;
  #heldNoMatch: PhraseResult | undefined;
  #initialSilenceReported = false;
  #acceptingAudio = true;
  #ended = false;
  #aborted = false;
  #endPromise: Promise<void> | undefined;
  /** A turnEnd is already queued (interactive phrase, initial-silence timeout or error). */
  #endQueued = false;

  constructor(opts: RecognitionOptions, listener: TurnListener, deps: TurnDeps) {
    this.#opts = opts;
    this.#listener = listener;
    this.#deps = deps;
    this.#segmenter = new Segmenter({
      segmentationSilenceMs: opts.segmentationSilenceTimeoutMs,
      maxUtteranceMs: opts.maxUtteranceMs,
    });
    this.#maxTurnSamples = msToSamples(deps.maxTurnAudioMs, ENGINE_SAMPLE_RATE);
  }

  /** True once the turn has emitted turnEnd (or was aborted); further audio is ignored. */
  get finished(): boolean {
    return this.#ended || this.#aborted;
  }

  /**
   * True once the turn will reach turnEnd without more audio: end() was called (end of stream or the
   * turn's audio limit) or it queued its own end (interactive result, initial silence, error).
   */
  get ending(): boolean {
    return !this.finished && (this.#endPromise !== undefined || this.#endQueued);
  }

  /**
   * Resolves once every result already due was reported: the phrases of the utterances that have
   * ended so far (not of one still open, nor of any that end after this call).
   */
  reported(): Promise<void> {
    return this.#chain;
  }

  /** Audio received so far, in ms of the turn's timeline. */
  get audioMs(): number {
    return samplesToMs(this.#samplesIn, ENGINE_SAMPLE_RATE);
  }

  /** Whether the caller should wait (`whenDrained`) before writing more audio. */
  get backlogged(): boolean {
    return !this.finished && this.#pendingFinals > MAX_PENDING_FINALS;
  }

  whenDrained(): Promise<void> {
    if (!this.backlogged) return Promise.resolve();
    return new Promise((resolve) => this.#drainWaiters.push(resolve));
  }

  write(pcm: Int16Array): void {
    if (!this.#acceptingAudio || this.finished || pcm.length === 0) return;
    let chunk = pcm;
    const room = this.#maxTurnSamples - this.#samplesIn;
    if (chunk.length > room) chunk = chunk.subarray(0, Math.max(0, room));
    this.#window.append(chunk);
    this.#samplesIn += chunk.length;
    for (const ev of this.#segmenter.push(chunk)) {
      // An interactive turn stops at its first utterance end, even mid-chunk.
      if (!this.#acceptingAudio) break;
      this.#onSegment(ev);
    }
    if (!this.#acceptingAudio) return;
    this.#feedLive();
    this.#checkInitialSilence();
    if (!this.#utterance) this.#window.dropBefore(this.#samplesIn - msToSamples(PREROLL_MS, ENGINE_SAMPLE_RATE));
    // Azure ends a turn that reaches its audio limit; the SDK then starts a new turn and replays.
    if (this.#samplesIn >= this.#maxTurnSamples) void this.end();
  }

  /** End of the audio stream: flush the open utterance, report, then turnEnd. Resolves after turnEnd. */
  end(): Promise<void> {
    if (this.#endPromise) return this.#endPromise;
    const wasAccepting = this.#acceptingAudio;
    this.#acceptingAudio = false;
    if (wasAccepting) {
      for (const ev of this.#segmenter.finish()) this.#onSegment(ev);
    }
    // Interactive turns that already produced their phrase have queued their own turnEnd.
    if (!this.#endQueued) {
      const endAtMs = this.audioMs;
      this.#enqueue(async () => {
        if (this.#heldNoMatch) {
          this.#emitPhrase(this.#heldNoMatch);
        } else if (!this.#anySpeech && !this.#initialSilenceReported && this.#samplesIn > 0) {
          this.#initialSilenceReported = true;
          this.#emitPhrase(this.#silencePhrase());
        }
        if (this.#opts.mode === 'dictation') {
          this.#emitPhrase({ status: 'end-of-dictation', offsetMs: endAtMs, durationMs: 0, displayText: '', alternatives: [] });
        }
        this.#emitSpeechEnd(endAtMs);
        this.#finish();
      });
    }
    this.#endPromise = this.#chain;
    return this.#endPromise;
  }

  /** Stops everything without further events (client went away). */
  abort(): void {
    if (this.#aborted) return;
    this.#aborted = true;
    this.#acceptingAudio = false;
    this.#abort.abort();
    this.#closeLive(this.#utterance);
    this.#utterance = undefined;
    this.#releaseDrainWaiters();
  }

  #onSegment(ev: SegmentEvent): void {
    if (ev.type === 'speech-start') {
      // Pre-roll never reaches back into audio an earlier utterance already decoded (forced breaks).
      const start = Math.max(this.#window.startSample, this.#decodedUpTo, msToSamples(ev.atMs - PREROLL_MS, ENGINE_SAMPLE_RATE));
      this.#utterance = {
        startSample: start,
        speechStartMs: ev.atMs,
        fedUpTo: start,
        live: undefined,
        liveTail: Promise.resolve(),
        latest: undefined,
        lastSent: '',
        finalized: false,
      };
      this.#anySpeech = true;
      if (!this.#startReported) {
        this.#startReported = true;
        this.#listener.speechStartDetected(ev.atMs);
      }
      return;
    }
    const utt = this.#utterance;
    if (!utt) return;
    this.#utterance = undefined;
    utt.finalized = true;
    this.#closeLive(utt);
    const endSample = Math.min(this.#samplesIn, msToSamples(ev.atMs + TAIL_MS, ENGINE_SAMPLE_RATE));
    const pcm = this.#window.slice(utt.startSample, endSample);
    this.#decodedUpTo = endSample;
    this.#window.dropBefore(endSample - msToSamples(PREROLL_MS, ENGINE_SAMPLE_RATE));
    const baseMs = samplesToMs(utt.startSample, ENGINE_SAMPLE_RATE);
    const interactive = this.#opts.mode === 'interactive';
    this.#pendingFinals++;
    const settled = (): void => {
      this.#pendingFinals--;
      if (!this.backlogged) this.#releaseDrainWaiters();
    };
    this.#enqueue(async () => {
      // The utterance's newest partial goes out before its final, so every phrase is preceded by a
      // hypothesis whenever the live decoder produced one (partials held back while earlier finals ran).
      // The final decode starts at once (not after the last partial): it is what the client waits for.
      const decoded = this.#deps.engine.decodeUtterance(this.#opts.model, pcm, this.#abort.signal);
      decoded.catch(() => undefined);
      await utt.liveTail;
      this.#sendHypothesis(utt);
      let phrase: PhraseResult;
      try {
        phrase = this.#toPhrase(await decoded, baseMs, utt.speechStartMs, ev.atMs);
      } catch (err) {
        phrase = this.#errorPhrase(err);
      }
      if (interactive && phrase.status === 'no-match') {
        // Noise, not words: an interactive turn keeps listening for speech (and its initial-silence
        // timer runs again); the NoMatch is reported only if nothing better comes.
        this.#heldNoMatch ??= phrase;
        this.#anySpeech = false;
        return;
      }
      if (interactive) this.#emitSpeechEnd(ev.atMs);
      this.#emitPhrase(phrase);
      if (phrase.status === 'error' || interactive) {
        this.#acceptingAudio = false;
        this.#endQueued = true;
        this.#finish();
      }
    }, settled);
  }

  #feedLive(): void {
    const utt = this.#utterance;
    if (!utt || utt.finalized) return;
    const interval = msToSamples(this.#deps.hypothesisIntervalMs, ENGINE_SAMPLE_RATE);
    if (this.#samplesIn - utt.fedUpTo < interval) return;
    if (!utt.live) utt.live = this.#deps.engine.openLiveDecoder(this.#opts.model).catch(() => undefined);
    const pcm = this.#window.slice(utt.fedUpTo, this.#samplesIn);
    utt.fedUpTo = this.#samplesIn;
    const durationMs = samplesToMs(this.#samplesIn, ENGINE_SAMPLE_RATE) - utt.speechStartMs;
    const live = utt.live;
    utt.liveTail = live
      .then((decoder) => decoder?.feed(pcm))
      .then((text) => {
        if (text === undefined || text === '') return;
        utt.latest = { text, durationMs };
        // While the utterance is open and no earlier final is pending, the partial goes out at once;
        // otherwise it would overtake an earlier phrase, so the final task sends it in order.
        if (!utt.finalized && this.#pendingFinals === 0) this.#sendHypothesis(utt);
      })
      .catch((err: unknown) => this.#deps.logger.debug({ err }, 'partial hypothesis failed'));
  }

  #sendHypothesis(utt: Utterance): void {
    const latest = utt.latest;
    if (!latest || latest.text === utt.lastSent || this.finished) return;
    utt.lastSent = latest.text;
    const forms = buildDisplayForms(latest.text.split(' '), { profanity: this.#opts.profanity });
    this.#listener.hypothesis({ text: hypothesisText(forms, this.#opts.profanity), offsetMs: utt.speechStartMs, durationMs: latest.durationMs });
  }

  #closeLive(utt: Utterance | undefined): void {
    if (!utt?.live) return;
    const live = utt.live;
    void utt.liveTail.finally(() => live.then((d) => d?.release()));
  }

  #checkInitialSilence(): void {
    const timeout = this.#opts.initialSilenceTimeoutMs;
    if (this.#anySpeech || this.#initialSilenceReported || timeout <= 0 || this.audioMs < timeout) return;
    // Speech that is open or still being decoded may turn out to be words.
    if (this.#segmenter.inSpeech || this.#utterance || this.#pendingFinals > 0) return;
    this.#initialSilenceReported = true;
    const phrase = this.#silencePhrase();
    if (this.#opts.mode === 'interactive') {
      this.#acceptingAudio = false;
      this.#endQueued = true;
      this.#enqueue(async () => {
        this.#emitPhrase(phrase);
        this.#finish();
      });
    } else {
      // Continuous recognition reports the timeout once and keeps listening.
      this.#enqueue(async () => this.#emitPhrase(phrase));
    }
  }

  #silencePhrase(): PhraseResult {
    const durationMs = this.#opts.initialSilenceTimeoutMs > 0 ? Math.min(this.audioMs, this.#opts.initialSilenceTimeoutMs) : this.audioMs;
    return { status: 'initial-silence-timeout', offsetMs: 0, durationMs, displayText: '', alternatives: [] };
  }

  #toPhrase(hyp: EngineHypothesis, baseMs: number, speechStartMs: number, speechEndMs: number): PhraseResult {
    const words = hyp.words.filter((w) => w.word.length > 0);
    if (words.length === 0) {
      return { status: 'no-match', offsetMs: speechStartMs, durationMs: Math.max(0, speechEndMs - speechStartMs), displayText: '', alternatives: [] };
    }
    const first = words[0];
    const last = words[words.length - 1];
    const offsetMs = baseMs + (first?.startMs ?? 0);
    const endMs = baseMs + (last?.endMs ?? 0);
    const forms = buildDisplayForms(
      words.map((w) => w.word),
      { profanity: this.#opts.profanity },
    );
    return {
      status: 'success',
      offsetMs,
      durationMs: Math.max(0, endMs - offsetMs),
      displayText: forms.display,
      alternatives: [
        {
          confidence: hyp.confidence,
          lexical: forms.lexical,
          itn: forms.itn,
          maskedItn: forms.maskedItn,
          display: forms.display,
          words: words.map((w) => ({
            word: w.word,
            offsetMs: baseMs + w.startMs,
            durationMs: Math.max(0, w.endMs - w.startMs),
            confidence: w.confidence,
          })),
        },
      ],
    };
  }

  #errorPhrase(err: unknown): PhraseResult {
    let error: ServiceError;
    if (isServiceError(err)) error = err;
    else if (err instanceof EngineError && err.kind === 'Overloaded') error = Errors.engineOverloaded();
    else if (err instanceof EngineError && err.kind === 'UnsupportedLocale') error = Errors.unsupportedLocale(this.#opts.locale, this.#deps.engine.info.locales);
    else error = Errors.engineFailure(err);
    if (error.status >= 500) this.#deps.logger.error({ err }, 'recognition failed');
    return { status: 'error', offsetMs: 0, durationMs: 0, displayText: '', alternatives: [], error };
  }

  #emitPhrase(p: PhraseResult): void {
    if (!this.finished) this.#listener.phrase(p);
  }

  #emitSpeechEnd(atMs: number): void {
    if (!this.finished) this.#listener.speechEndDetected(atMs);
  }

  #finish(): void {
    if (this.finished) return;
    this.#ended = true;
    this.#acceptingAudio = false;
    this.#closeLive(this.#utterance);
    this.#utterance = undefined;
    this.#listener.turnEnd();
    this.#releaseDrainWaiters();
  }

  /** Runs `task` after every earlier one, unless the turn is over by then; `always` runs either way. */
  #enqueue(task: () => Promise<void>, always?: () => void): void {
    this.#chain = this.#chain.then(async () => {
      try {
        if (!this.finished) await task();
      } catch (err) {
        this.#deps.logger.error({ err }, 'recognition turn task failed');
      } finally {
        always?.();
      }
    });
  }

  #releaseDrainWaiters(): void {
    const waiters = this.#drainWaiters;
    this.#drainWaiters = [];
    for (const w of waiters) w();
  }
}

/** Partial text as Azure shows it: lexical-style (lower-case, no punctuation), profanity handled. */
function hypothesisText(forms: { itn: string; maskedItn: string }, profanity: RecognitionOptions['profanity']): string {
  if (profanity === 'raw') return forms.itn;
  if (profanity === 'removed') return forms.maskedItn.split(' ').filter((w) => !/^\*+$/.test(w)).join(' ');
  return forms.maskedItn;
}
