/**
 * Streaming band-limited resampler: polyphase windowed-sinc (Kaiser window), any pair of integer
 * rates. Output sample n sits exactly at input time n·inRate/outRate (zero-phase, no added delay),
 * and chunking never changes the output: each output sample is computed from the same input
 * values, in the same order, whatever the chunk boundaries were.
 */

/** Passband edge as a fraction of the lower Nyquist frequency; speech has little energy above it. */
const PASSBAND = 0.88;
/** Stopband edge: exactly the lower Nyquist, so nothing above it can alias into the output. */
const STOPBAND = 1.0;
/** Stopband attenuation target in dB; s16 output cannot represent much more. */
const ATTENUATION_DB = 80;
/**
 * Above this many phases (rates with a small GCD, e.g. 44101 → 16000) the exact per-phase table
 * would get large, so we keep this many phases and interpolate linearly between neighbours.
 */
const MAX_EXACT_PHASES = 1024;
const INTERPOLATED_PHASES = 512;
/** Sane bounds for rates; they also keep the polyphase bookkeeping within exact integer range. */
const MIN_RATE = 1;
const MAX_RATE = 1_000_000;

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Zeroth-order modified Bessel function of the first kind (series), for the Kaiser window. */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

function kaiserBeta(attenuationDb: number): number {
  if (attenuationDb > 50) return 0.1102 * (attenuationDb - 8.7);
  if (attenuationDb >= 21) return 0.5842 * (attenuationDb - 21) ** 0.4 + 0.07886 * (attenuationDb - 21);
  return 0;
}

function sinc(x: number): number {
  if (x === 0) return 1;
  const px = Math.PI * x;
  return Math.sin(px) / px;
}

interface FilterBank {
  /** Taps per phase (2·halfTaps). */
  taps: number;
  /** Number of phase tables stored (without the extra guard table used for interpolation). */
  phases: number;
  /** (phases + 1) × taps coefficients; phase `phases` equals phase 0 shifted by one input sample. */
  coefficients: Float32Array;
}

/**
 * Builds the polyphase tables. Phase p (fractional input position p/phases) holds the weights of
 * input samples floor(pos) - halfTaps + 1 … floor(pos) + halfTaps, i.e. at distances
 * d = frac + halfTaps - 1 - j for j = 0 … taps - 1.
 */
function buildFilterBank(inRate: number, outRate: number, phases: number): { bank: FilterBank; halfTaps: number } {
  const lowNyquist = Math.min(inRate, outRate) / 2;
  const passHz = PASSBAND * lowNyquist;
  const stopHz = STOPBAND * lowNyquist;
  const cutoffHz = (passHz + stopHz) / 2;
  const transitionHz = stopHz - passHz;
  // Kaiser's estimate of the filter length for this attenuation and transition width, in input samples.
  const length = ((ATTENUATION_DB - 7.95) * inRate) / (14.36 * transitionHz);
  const halfTaps = Math.max(2, Math.ceil(length / 2));
  const taps = 2 * halfTaps;
  const beta = kaiserBeta(ATTENUATION_DB);
  const i0Beta = besselI0(beta);
  const cutoff = cutoffHz / inRate; // cycles per input sample

  const coefficients = new Float32Array((phases + 1) * taps);
  const row = new Float64Array(taps);
  for (let p = 0; p <= phases; p++) {
    const frac = p / phases;
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      const d = frac + halfTaps - 1 - j;
      const r = d / halfTaps;
      const w = Math.abs(r) >= 1 ? 0 : besselI0(beta * Math.sqrt(1 - r * r)) / i0Beta;
      const h = 2 * cutoff * sinc(2 * cutoff * d) * w;
      row[j] = h;
      sum += h;
    }
    // Normalising every phase to unit DC gain removes the small per-phase gain ripple a sampled
    // sinc has, which would otherwise show up as a tone at the phase-cycle frequency.
    const base = p * taps;
    for (let j = 0; j < taps; j++) coefficients[base + j] = (row[j] ?? 0) / sum;
  }
  return { bank: { taps, phases, coefficients }, halfTaps };
}

const EMPTY = new Int16Array(0);
/** Inputs longer than this are processed piecewise to bound the history buffer. */
const BLOCK = 8192;

function toS16(value: number): number {
  const r = Math.round(value);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

export class Resampler {
  readonly inRate: number;
  readonly outRate: number;
  /** outRate/inRate reduced to lowest terms: each output advances the input position by down/up. */
  private readonly up: number;
  private readonly down: number;
  private readonly bank: FilterBank | undefined;
  private readonly halfTaps: number;
  private readonly exact: boolean;

  /** Input history; `history[0]` is absolute input index `historyStart`. */
  private history: Float32Array;
  private historyLength = 0;
  private historyStart = 0;
  /** Position of the next output sample in input samples: `center + phase / up`. */
  private center = 0;
  private phase = 0;
  private totalInput = 0;

  constructor(inRate: number, outRate: number) {
    for (const [name, rate] of [
      ['input', inRate],
      ['output', outRate],
    ] as const) {
      if (!Number.isInteger(rate) || rate < MIN_RATE || rate > MAX_RATE) {
        throw new RangeError(`${name} sample rate must be an integer in ${MIN_RATE}..${MAX_RATE}, got ${rate}`);
      }
    }
    this.inRate = inRate;
    this.outRate = outRate;
    const g = gcd(inRate, outRate);
    this.up = outRate / g;
    this.down = inRate / g;
    if (inRate === outRate) {
      this.bank = undefined;
      this.halfTaps = 0;
      this.exact = true;
    } else {
      this.exact = this.up <= MAX_EXACT_PHASES;
      const built = buildFilterBank(inRate, outRate, this.exact ? this.up : INTERPOLATED_PHASES);
      this.bank = built.bank;
      this.halfTaps = built.halfTaps;
    }
    this.history = new Float32Array(Math.max(1024, 4 * this.halfTaps));
    this.reset();
  }

  /** Filter half-length in input samples; the resampler needs this much look-ahead before emitting. */
  get lookahead(): number {
    return this.halfTaps;
  }

  /** Forgets all state, as if newly constructed. */
  reset(): void {
    // The signal is taken to be zero before its first sample, so output 0 can be centred on input 0.
    const lead = Math.max(0, this.halfTaps - 1);
    this.history.fill(0, 0, lead);
    this.historyLength = lead;
    this.historyStart = -lead;
    this.center = 0;
    this.phase = 0;
    this.totalInput = 0;
  }

  /**
   * Feeds input samples and returns every output sample that can be computed so far.
   * Int16Array is s16; Float32Array is normalised to [-1, 1] (values outside are clipped on output).
   */
  process(input: Int16Array | Float32Array): Int16Array {
    if (input.length === 0) return EMPTY;
    if (this.bank === undefined) return passthrough(input);
    if (input.length <= BLOCK) return this.processBlock(input);
    // Big inputs go through in blocks so the history buffer never grows past a block plus a window.
    const parts: Int16Array[] = [];
    let total = 0;
    for (let i = 0; i < input.length; i += BLOCK) {
      const part = this.processBlock(input.subarray(i, Math.min(input.length, i + BLOCK)));
      parts.push(part);
      total += part.length;
    }
    const out = new Int16Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  private processBlock(input: Int16Array | Float32Array): Int16Array {
    this.append(input);
    this.totalInput += input.length;
    return this.drain(Number.POSITIVE_INFINITY);
  }

  /**
   * Emits the tail (the outputs that were waiting for look-ahead), treating the signal as zero after
   * its last sample, then resets so the instance can be reused. The total number of outputs over a
   * stream is ceil(inputSamples · outRate / inRate).
   */
  flush(): Int16Array {
    if (this.bank === undefined) {
      this.reset();
      return EMPTY;
    }
    const total = this.totalInput;
    const zeros = new Float32Array(this.halfTaps + 1);
    this.appendScaled(zeros, 1);
    const out = this.drain(total);
    this.reset();
    return out;
  }

  private append(input: Int16Array | Float32Array): void {
    // History is kept in s16 scale so both input kinds share one path.
    this.appendScaled(input, input instanceof Float32Array ? 32768 : 1);
  }

  private appendScaled(input: Int16Array | Float32Array, scale: number): void {
    const needed = this.historyLength + input.length;
    if (needed > this.history.length) {
      const grown = new Float32Array(Math.max(needed, this.history.length * 2));
      grown.set(this.history.subarray(0, this.historyLength));
      this.history = grown;
    }
    const h = this.history;
    let w = this.historyLength;
    if (scale === 1) {
      h.set(input, w);
      w += input.length;
    } else {
      for (let i = 0; i < input.length; i++) {
        const v = (input[i] ?? 0) * scale;
        // NaN (from a broken float source) would poison every output it touches; treat it as silence.
        h[w++] = v === v ? v : 0;
      }
    }
    this.historyLength = w;
  }

  /** Computes outputs whose window is fully available and whose centre is below `endCenter`. */
  private drain(endCenter: number): Int16Array {
    const bank = this.bank;
    if (bank === undefined) return EMPTY;
    const taps = bank.taps;
    const coefficients = bank.coefficients;
    const history = this.history;
    const halfTaps = this.halfTaps;
    const up = this.up;
    const stepWhole = Math.floor(this.down / up);
    const stepFrac = this.down % up;
    const lastAvailable = this.historyStart + this.historyLength - 1;
    // Output n needs input up to center + halfTaps.
    const lastCenter = Math.min(lastAvailable - halfTaps, endCenter - 1);
    if (this.center > lastCenter) return EMPTY;
    const estimate = Math.floor(((lastCenter - this.center + 1) * up) / this.down) + 2;
    const out = new Int16Array(estimate);
    let count = 0;
    let center = this.center;
    let phase = this.phase;
    const start = this.historyStart;
    const phaseScale = bank.phases / up;
    const exact = this.exact;

    while (center <= lastCenter && count < estimate) {
      const first = center - halfTaps + 1 - start;
      let acc = 0;
      if (exact) {
        // Four independent accumulators let the CPU overlap the multiply-adds (about 2× faster
        // than one running sum). The order is fixed per output sample, so chunking cannot change it.
        const base = phase * taps;
        let a0 = 0;
        let a1 = 0;
        let a2 = 0;
        let a3 = 0;
        let j = 0;
        for (; j + 3 < taps; j += 4) {
          const h = first + j;
          const c = base + j;
          a0 += (history[h] ?? 0) * (coefficients[c] ?? 0);
          a1 += (history[h + 1] ?? 0) * (coefficients[c + 1] ?? 0);
          a2 += (history[h + 2] ?? 0) * (coefficients[c + 2] ?? 0);
          a3 += (history[h + 3] ?? 0) * (coefficients[c + 3] ?? 0);
        }
        for (; j < taps; j++) a0 += (history[first + j] ?? 0) * (coefficients[base + j] ?? 0);
        acc = a0 + a1 + (a2 + a3);
      } else {
        const position = phase * phaseScale;
        const p0 = Math.floor(position);
        const t = position - p0;
        const b0 = p0 * taps;
        const b1 = b0 + taps;
        for (let j = 0; j < taps; j++) {
          const c0 = coefficients[b0 + j] ?? 0;
          const c = c0 + t * ((coefficients[b1 + j] ?? 0) - c0);
          acc += (history[first + j] ?? 0) * c;
        }
      }
      out[count++] = toS16(acc);
      center += stepWhole;
      phase += stepFrac;
      if (phase >= up) {
        phase -= up;
        center += 1;
      }
    }
    this.center = center;
    this.phase = phase;

    // Drop history no future output can reach, keeping the buffer at about one window.
    const keepFrom = center - halfTaps + 1 - start;
    if (keepFrom > 0) {
      const drop = Math.min(keepFrom, this.historyLength);
      history.copyWithin(0, drop, this.historyLength);
      this.historyLength -= drop;
      this.historyStart += drop;
    }
    return count === out.length ? out : out.slice(0, count);
  }
}

function passthrough(input: Int16Array | Float32Array): Int16Array {
  if (input instanceof Int16Array) return input.slice();
  const out = new Int16Array(input.length);
  for (let i = 0; i < input.length; i++) {
    const v = (input[i] ?? 0) * 32768;
    out[i] = v === v ? toS16(v) : 0;
  }
  return out;
}
