import type { Logger } from '../../kernel/logger.js';
import type { CompressedAudioDecoder } from '../ports/audio.js';
import type { SttEngine } from '../ports/engines.js';
import { Errors } from '../errors.js';
import { AudioInput, type DeclaredAudio } from './audio-input.js';
import { RecognitionTurn } from './recognition-turn.js';
import type { PhraseResult, ProfanityOption, RecognitionMode, RecognitionOptions, ResultFormat, TurnListener } from './types.js';
import type { SttModelRef } from '../ports/engines.js';
import type { ContentLogSink } from '../ports/content-log.js';
import type { Clock } from '../../kernel/time.js';

/** Resolves a custom endpoint id (`cid`) of an account to the model its traffic uses now. */
export type EndpointModels = (accountId: string, endpointId: string) => { locale: string; model?: SttModelRef; loggingEnabled: boolean } | undefined;

/** Content logs keep at most this much audio per request (Azure's longest connection is 10 minutes). */
const MAX_LOGGED_SAMPLES = 16_000 * 600;

export interface RecognitionDefaults {
  initialSilenceTimeoutMsInteractive: number;
  initialSilenceTimeoutMsContinuous: number;
  segmentationSilenceTimeoutMs: number;
  maxUtteranceMs: number;
  hypothesisIntervalMs: number;
}

/** What a request asked for; anything left out takes the service default. */
export interface RecognitionRequest {
  mode: RecognitionMode;
  locale?: string;
  format?: ResultFormat;
  profanity?: ProfanityOption;
  wordTimings?: boolean;
  initialSilenceTimeoutMs?: number;
  segmentationSilenceTimeoutMs?: number;
  maxUtteranceMs?: number;
  endpointId?: string;
}

export interface TurnHandle {
  readonly turn: RecognitionTurn;
  readonly input: AudioInput;
}

/** Entry point of speech-to-text for every surface (WebSocket and REST share this pipeline). */
export class RecognitionService {
  constructor(
    private readonly engine: SttEngine,
    private readonly audioDecoder: CompressedAudioDecoder,
    private readonly defaults: RecognitionDefaults,
    private readonly logger: Logger,
    private readonly endpoints: EndpointModels = () => undefined,
    private readonly contentLog?: { sink: ContentLogSink; clock: Clock },
  ) {}

  get supportedLocales(): readonly string[] {
    return this.engine.info.locales;
  }

  /**
   * Validates a request and fills defaults. Throws ServiceErrors (unsupported locale, bad values, an
   * endpoint id that is not this account's or not deployed yet). A custom endpoint decides the
   * model, and the locale when the request names none.
   */
  resolveOptions(req: RecognitionRequest, accountId?: string): RecognitionOptions {
    let endpointModel: SttModelRef | undefined;
    let endpointLocale: string | undefined;
    let contentLog: RecognitionOptions['contentLog'];
    if (req.endpointId !== undefined) {
      const route = accountId === undefined ? undefined : this.endpoints(accountId, req.endpointId);
      if (!route || accountId === undefined) throw Errors.endpointNotFound(req.endpointId);
      if (!route.model) throw Errors.endpointNotReady(req.endpointId);
      endpointModel = route.model;
      endpointLocale = route.locale;
      if (route.loggingEnabled) contentLog = { accountId, endpointId: req.endpointId.toLowerCase() };
    }
    const locale = req.locale ?? endpointLocale ?? 'en-US';
    if (!/^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$/.test(locale)) throw Errors.invalidArgument(`Invalid language '${locale}'.`);
    if (!this.engine.supportsLocale(locale)) throw Errors.unsupportedLocale(locale, this.engine.info.locales);
    const continuous = req.mode !== 'interactive';
    const initial =
      req.initialSilenceTimeoutMs ??
      (continuous ? this.defaults.initialSilenceTimeoutMsContinuous : this.defaults.initialSilenceTimeoutMsInteractive);
    const segmentation = req.segmentationSilenceTimeoutMs ?? this.defaults.segmentationSilenceTimeoutMs;
    return {
      mode: req.mode,
      locale,
      format: req.format ?? 'simple',
      profanity: req.profanity ?? 'masked',
      wordTimings: req.wordTimings ?? false,
      initialSilenceTimeoutMs: clamp(initial, 0, 120_000),
      segmentationSilenceTimeoutMs: clamp(segmentation, 100, 5_000),
      maxUtteranceMs: clamp(req.maxUtteranceMs ?? this.defaults.maxUtteranceMs, 1_000, 70_000),
      model: endpointModel ?? { locale },
      ...(contentLog ? { contentLog } : {}),
    };
  }

  /** Starts one turn; audio bytes go to `handle.input`, results to `listener`. */
  startTurn(options: RecognitionOptions, listener: TurnListener, limits: { maxTurnAudioMs: number; declared?: DeclaredAudio }): TurnHandle {
    const log = options.contentLog && this.contentLog ? this.logTee(options, listener) : undefined;
    const turn = new RecognitionTurn(options, log?.listener ?? listener, {
      engine: this.engine,
      logger: this.logger,
      hypothesisIntervalMs: this.defaults.hypothesisIntervalMs,
      maxTurnAudioMs: limits.maxTurnAudioMs,
    });
    const input = new AudioInput(
      this.audioDecoder,
      (pcm) => {
        log?.audio(pcm);
        return turn.write(pcm);
      },
      limits.declared,
    );
    return { turn, input };
  }

  /**
   * Keeps a copy of the turn's audio and results for the endpoint's content log, written when the
   * turn ends (a failed write is logged, never the request's failure).
   */
  private logTee(options: RecognitionOptions, listener: TurnListener): { listener: TurnListener; audio(pcm: Int16Array): void } {
    const target = options.contentLog;
    const sink = this.contentLog;
    if (!target || !sink) throw new Error('content logging is not configured');
    const pcm: Int16Array[] = [];
    let samples = 0;
    const phrases: PhraseResult[] = [];
    const startedAtMs = sink.clock.now();
    return {
      audio(chunk) {
        if (samples + chunk.length > MAX_LOGGED_SAMPLES) return;
        pcm.push(chunk.slice());
        samples += chunk.length;
      },
      listener: {
        speechStartDetected: (o) => listener.speechStartDetected(o),
        hypothesis: (h) => listener.hypothesis(h),
        phrase: (p) => {
          if (p.status !== 'error') phrases.push(p);
          listener.phrase(p);
        },
        speechEndDetected: (o) => listener.speechEndDetected(o),
        turnEnd: () => {
          listener.turnEnd();
          if (samples === 0) return;
          sink.sink
            .record({ ...target, locale: options.locale, startedAtMs, pcm, phrases })
            .catch((err: unknown) => this.logger.error({ err, endpoint: target.endpointId }, 'content log write failed'));
        },
      },
    };
  }

  /**
   * Short-audio recognition (REST): the first utterance of `audio`, as one final result.
   * Audio beyond `maxAudioMs` is an error (Azure transcribes at most 60 s per request). `meter`
   * receives the duration of the audio received.
   */
  async recognizeOnce(
    options: RecognitionOptions,
    audio: AsyncIterable<Buffer>,
    limits: { maxAudioMs: number; declared: DeclaredAudio; signal?: AbortSignal; meter?: { audioMs: number } },
  ): Promise<PhraseResult> {
    let result: PhraseResult | undefined;
    const listener: TurnListener = {
      speechStartDetected() {},
      hypothesis() {},
      phrase(p) {
        result ??= p;
      },
      speechEndDetected() {},
      turnEnd() {},
    };
    // The turn itself may run a little past the limit so an over-long body is detected, not cut silently.
    const { turn, input } = this.startTurn({ ...options, mode: 'interactive' }, listener, {
      maxTurnAudioMs: limits.maxAudioMs + 1_000,
      declared: limits.declared,
    });
    const onAbort = (): void => {
      turn.abort();
      input.destroy();
    };
    limits.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of audio) {
        if (limits.signal?.aborted) break;
        await input.write(chunk);
        if (input.audioMs > limits.maxAudioMs) throw Errors.audioTooLong(Math.round(limits.maxAudioMs / 1000));
        if (turn.backlogged) await turn.whenDrained();
      }
      await input.end();
      if (input.audioMs > limits.maxAudioMs) throw Errors.audioTooLong(Math.round(limits.maxAudioMs / 1000));
      if (input.audioMs === 0) throw Errors.invalidAudio('The request contains no audio.');
      await turn.end();
    } catch (err) {
      turn.abort();
      input.destroy();
      throw err;
    } finally {
      limits.signal?.removeEventListener('abort', onAbort);
      // The audio received counts for pacing and metering whether or not recognition succeeded.
      if (limits.meter) limits.meter.audioMs = Math.min(input.audioMs, limits.maxAudioMs);
    }
    if (limits.signal?.aborted) throw Errors.requestTimeout('The request was aborted.');
    if (!result) throw Errors.internal(new Error('recognition produced no result'));
    if (result.status === 'error' && result.error) throw result.error;
    return result;
  }
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, Math.round(v)));
}
