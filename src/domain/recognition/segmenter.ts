/**
 * Energy-based voice activity detection and utterance segmentation over 16 kHz mono PCM.
 *
 * Why our own and not PocketSphinx's: segmentation must follow the per-request timeouts that
 * speech.context carries (segmentation silence, forced break), stay deterministic for tests, and run
 * on the event loop cheaply (one pass over 10 ms frames), while decoding happens in engine workers.
 *
 * The detector tracks a noise floor (falls fast, rises slowly) and calls a frame voiced when its
 * energy is well above the floor and above an absolute minimum. Speech starts after a short run of
 * voiced frames and ends after `segmentationSilenceMs` of unvoiced frames.
 */

export const FRAME_MS = 10;
const SAMPLE_RATE = 16_000;
export const FRAME_SAMPLES = (SAMPLE_RATE * FRAME_MS) / 1000;

export interface SegmenterOptions {
  segmentationSilenceMs: number;
  maxUtteranceMs: number;
  /** dB above the noise floor for a frame to count as voiced. */
  thresholdDb?: number;
  /** Absolute floor in dBFS-like units of 20·log10(rms) on int16 samples. */
  minSpeechDb?: number;
  /** Voiced frames within the onset window needed to declare speech. */
  onsetFrames?: number;
  onsetWindowFrames?: number;
}

export type SegmentEvent =
  | { type: 'speech-start'; atMs: number }
  /** `atMs` is the end of the last voiced frame; `forced` when the utterance hit maxUtteranceMs. */
  | { type: 'speech-end'; atMs: number; forced: boolean };

export class Segmenter {
  readonly #silenceFrames: number;
  readonly #maxFrames: number;
  readonly #thresholdDb: number;
  readonly #minSpeechDb: number;
  readonly #onsetFrames: number;
  readonly #onsetWindow: number;

  #frame = new Int16Array(FRAME_SAMPLES);
  #frameFill = 0;
  #frameIndex = 0;
  #noiseFloorDb: number | undefined;
  #history: number[] = [];
  #floorAge = 0;
  #recent: boolean[] = [];
  #inSpeech = false;
  #speechStartFrame = 0;
  #lastVoicedFrame = 0;

  constructor(opts: SegmenterOptions) {
    this.#silenceFrames = Math.max(1, Math.round(opts.segmentationSilenceMs / FRAME_MS));
    this.#maxFrames = Math.max(10, Math.round(opts.maxUtteranceMs / FRAME_MS));
    this.#thresholdDb = opts.thresholdDb ?? 12;
    this.#minSpeechDb = opts.minSpeechDb ?? 40;
    this.#onsetFrames = opts.onsetFrames ?? 5;
    this.#onsetWindow = opts.onsetWindowFrames ?? 8;
  }

  get inSpeech(): boolean {
    return this.#inSpeech;
  }

  /** Milliseconds of audio consumed so far (whole frames). */
  get positionMs(): number {
    return this.#frameIndex * FRAME_MS;
  }

  push(samples: Int16Array): SegmentEvent[] {
    const events: SegmentEvent[] = [];
    let i = 0;
    while (i < samples.length) {
      const take = Math.min(FRAME_SAMPLES - this.#frameFill, samples.length - i);
      this.#frame.set(samples.subarray(i, i + take), this.#frameFill);
      this.#frameFill += take;
      i += take;
      if (this.#frameFill === FRAME_SAMPLES) {
        this.#frameFill = 0;
        const ev = this.#onFrame(frameEnergyDb(this.#frame));
        if (ev) events.push(ev);
      }
    }
    return events;
  }

  /** End of audio: closes an open utterance at its last voiced frame. */
  finish(): SegmentEvent[] {
    if (!this.#inSpeech) return [];
    this.#inSpeech = false;
    return [{ type: 'speech-end', atMs: (this.#lastVoicedFrame + 1) * FRAME_MS, forced: false }];
  }

  #onFrame(db: number): SegmentEvent | undefined {
    const index = this.#frameIndex++;
    const floor = this.#updateFloor(db);
    const voiced = db >= this.#minSpeechDb && db >= floor + this.#thresholdDb;
    this.#recent.push(voiced);
    if (this.#recent.length > this.#onsetWindow) this.#recent.shift();

    if (!this.#inSpeech) {
      const count = this.#recent.reduce((n, v) => n + (v ? 1 : 0), 0);
      if (voiced && count >= this.#onsetFrames) {
        this.#inSpeech = true;
        // Speech began at the first voiced frame of the onset window.
        const firstVoiced = this.#recent.indexOf(true);
        this.#speechStartFrame = index - (this.#recent.length - 1 - firstVoiced);
        this.#lastVoicedFrame = index;
        return { type: 'speech-start', atMs: this.#speechStartFrame * FRAME_MS };
      }
      return undefined;
    }
    // Hysteresis: once in speech, quieter frames still count, so soft word endings don't split phrases.
    const sustained = db >= this.#minSpeechDb - 6 && db >= floor + this.#thresholdDb / 2;
    if (sustained) this.#lastVoicedFrame = index;
    if (index - this.#speechStartFrame + 1 >= this.#maxFrames) {
      this.#inSpeech = false;
      this.#recent = [];
      return { type: 'speech-end', atMs: (index + 1) * FRAME_MS, forced: true };
    }
    if (index - this.#lastVoicedFrame >= this.#silenceFrames) {
      this.#inSpeech = false;
      this.#recent = [];
      return { type: 'speech-end', atMs: (this.#lastVoicedFrame + 1) * FRAME_MS, forced: false };
    }
    return undefined;
  }

  /**
   * Noise floor: a low percentile of the last two seconds of frame energies, so it follows a change
   * of background within seconds but not the speech itself (speech always has quieter frames). Over
   * the first half second a prior caps it, so audio that starts with speech is still detected.
   */
  #updateFloor(db: number): number {
    this.#history.push(db);
    if (this.#history.length > FLOOR_WINDOW_FRAMES) this.#history.shift();
    if (this.#floorAge++ % 10 === 0 || this.#noiseFloorDb === undefined) {
      const sorted = [...this.#history].sort((a, b) => a - b);
      const p = sorted[Math.floor((sorted.length - 1) * FLOOR_PERCENTILE)] ?? db;
      this.#noiseFloorDb = this.#history.length < PRIOR_FRAMES ? Math.min(p, PRIOR_FLOOR_DB) : p;
    }
    return this.#noiseFloorDb;
  }
}

const FLOOR_WINDOW_FRAMES = 200;
const FLOOR_PERCENTILE = 0.1;
const PRIOR_FRAMES = 50;
const PRIOR_FLOOR_DB = 45;

export function frameEnergyDb(frame: Int16Array): number {
  let sum = 0;
  for (let i = 0; i < frame.length; i++) {
    const s = frame[i] ?? 0;
    sum += s * s;
  }
  const rms = Math.sqrt(sum / Math.max(1, frame.length));
  return 20 * Math.log10(rms + 1);
}
