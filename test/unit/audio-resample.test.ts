import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Resampler } from '../../src/kernel/audio/resample.js';
import { concatInt16 } from '../helpers/pcm.js';
import { lcg } from '../helpers/prng.js';

function sine(rate: number, freq: number, seconds: number, amplitude: number): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amplitude * Math.sin((2 * Math.PI * freq * i) / rate));
  return out;
}

function oneShot(inRate: number, outRate: number, input: Int16Array | Float32Array): Int16Array {
  const r = new Resampler(inRate, outRate);
  return concatInt16([r.process(input), r.flush()]);
}

function rms(x: Int16Array, from = 0, to = x.length): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += (x[i] ?? 0) ** 2;
  return Math.sqrt(sum / Math.max(1, to - from));
}

/** Amplitude of the component at `freq` (least-squares fit of sin and cos), over [from, to). */
function toneAmplitude(x: Int16Array, rate: number, freq: number, from: number, to: number): number {
  let c = 0;
  let s = 0;
  for (let i = from; i < to; i++) {
    const w = (2 * Math.PI * freq * i) / rate;
    c += (x[i] ?? 0) * Math.cos(w);
    s += (x[i] ?? 0) * Math.sin(w);
  }
  return (2 * Math.hypot(c, s)) / (to - from);
}

/** Frequency from the count of rising zero crossings between the first and last one. */
function zeroCrossingFrequency(x: Int16Array, rate: number, from: number, to: number): number {
  let first = -1;
  let last = -1;
  let count = 0;
  for (let i = from + 1; i < to; i++) {
    if ((x[i - 1] ?? 0) < 0 && (x[i] ?? 0) >= 0) {
      if (first < 0) first = i;
      else count++;
      last = i;
    }
  }
  return (count * rate) / (last - first);
}

describe('Resampler quality', () => {
  it('keeps a 1 kHz sine at 44.1 kHz → 16 kHz (frequency, amplitude, phase)', () => {
    const input = sine(44100, 1000, 1, 16000);
    const out = oneShot(44100, 16000, input);
    assert.equal(out.length, 16000);
    const from = 500;
    const to = 15500;
    const freq = zeroCrossingFrequency(out, 16000, from, to);
    assert.ok(Math.abs(freq - 1000) < 0.5, `frequency ${freq}`);
    const amp = toneAmplitude(out, 16000, 1000, from, to);
    assert.ok(Math.abs(amp - 16000) / 16000 < 0.005, `amplitude ${amp}`);
    // Zero-phase: output n lines up with input time n/16000, so it matches the ideal 16 kHz sine.
    const ideal = sine(16000, 1000, 1, 16000);
    let maxErr = 0;
    for (let i = from; i < to; i++) maxErr = Math.max(maxErr, Math.abs((out[i] ?? 0) - (ideal[i] ?? 0)));
    assert.ok(maxErr < 80, `max deviation from the ideal sine ${maxErr}`);
  });

  it('attenuates a 10 kHz sine at 44.1 kHz by more than 40 dB at 16 kHz (no aliasing to 6 kHz)', () => {
    const input = sine(44100, 10000, 1, 16000);
    const out = oneShot(44100, 16000, input);
    const level = rms(out, 500, 15500);
    const inputLevel = rms(input);
    const attenuationDb = 20 * Math.log10(inputLevel / Math.max(level, 1e-9));
    assert.ok(attenuationDb > 40, `attenuation ${attenuationDb.toFixed(1)} dB`);
    // Anything just above the output Nyquist is gone too.
    const justAbove = oneShot(44100, 16000, sine(44100, 8300, 1, 16000));
    const aboveDb = 20 * Math.log10(inputLevel / Math.max(rms(justAbove, 500, 15500), 1e-9));
    assert.ok(aboveDb > 40, `8.3 kHz attenuation ${aboveDb.toFixed(1)} dB`);
  });

  it('passes the speech band flat (0.1–6.5 kHz within ±0.1 dB)', () => {
    for (const freq of [100, 300, 1000, 3000, 5000, 6500]) {
      const out = oneShot(48000, 16000, sine(48000, freq, 0.5, 10000));
      const amp = toneAmplitude(out, 16000, freq, 400, 7600);
      const db = 20 * Math.log10(amp / 10000);
      assert.ok(Math.abs(db) < 0.1, `${freq} Hz: ${db.toFixed(3)} dB`);
    }
  });

  it('upsamples 8 kHz → 16 kHz without images', () => {
    const out = oneShot(8000, 16000, sine(8000, 1000, 1, 16000));
    assert.equal(out.length, 16000);
    assert.ok(Math.abs(toneAmplitude(out, 16000, 1000, 400, 15600) - 16000) < 80);
    // The spectral image of 1 kHz sits at 8 − 1 = 7 kHz.
    const image = toneAmplitude(out, 16000, 7000, 400, 15600);
    assert.ok(20 * Math.log10(16000 / Math.max(image, 1e-9)) > 40, `image at 7 kHz: ${image}`);
  });

  it('reproduces DC exactly and handles full-scale input without wrapping', () => {
    const dc = new Int16Array(22050).fill(1234);
    const out = oneShot(22050, 16000, dc);
    for (let i = 200; i < out.length - 200; i++) assert.equal(out[i], 1234);
    for (const level of [32767, -32768]) {
      const flat = oneShot(44100, 16000, new Int16Array(4410).fill(level));
      for (let i = 200; i < flat.length - 200; i++) assert.equal(flat[i], level);
    }
    // A full-scale square wave overshoots (Gibbs); the result must saturate, never wrap around.
    const loud = new Int16Array(44100);
    for (let i = 0; i < loud.length; i++) loud[i] = i % 64 < 32 ? 32767 : -32768;
    const clipped = oneShot(44100, 16000, loud);
    let checked = 0;
    for (let n = 100; n < clipped.length - 100; n++) {
      const phase = ((n * 44100) / 16000) % 64;
      if (Math.abs(phase - 16) < 6) {
        assert.ok((clipped[n] ?? 0) > 25000, `output ${n} (high plateau) = ${clipped[n]}`);
        checked++;
      } else if (Math.abs(phase - 48) < 6) {
        assert.ok((clipped[n] ?? 0) < -25000, `output ${n} (low plateau) = ${clipped[n]}`);
        checked++;
      }
    }
    assert.ok(checked > 1000);
  });
});

describe('Resampler streaming', () => {
  const pairs: [number, number][] = [
    [44100, 16000],
    [48000, 16000],
    [8000, 16000],
    [11025, 16000],
    [22050, 16000],
    [24000, 16000],
    [32000, 16000],
    [16000, 44100],
    [16000, 24000],
    [16000, 8000],
    [44101, 16000], // gcd 1: the interpolated-phase path
  ];
  for (const [inRate, outRate] of pairs) {
    it(`${inRate} → ${outRate}: chunked output equals one-shot output, length ceil(n·out/in)`, () => {
      const rand = lcg(inRate + outRate);
      const n = Math.round(inRate * 0.37) + 3;
      const input = new Int16Array(n);
      for (let i = 0; i < n; i++) input[i] = Math.round(10000 * Math.sin(i / 7) + 8000 * (rand() - 0.5));
      const whole = oneShot(inRate, outRate, input);
      assert.equal(whole.length, Math.ceil((n * outRate) / inRate));

      const r = new Resampler(inRate, outRate);
      const parts: Int16Array[] = [];
      let i = 0;
      while (i < n) {
        const size = Math.floor(rand() ** 3 * 3000); // mostly tiny chunks, including empty and 1-sample ones
        parts.push(r.process(input.subarray(i, Math.min(n, i + size))));
        i += size;
      }
      parts.push(r.flush());
      assert.deepEqual(concatInt16(parts), whole);
    });
  }

  it('treats Float32Array input as [-1, 1] and matches the Int16Array result', () => {
    const ints = sine(44100, 440, 0.2, 12000);
    const floats = Float32Array.from(ints, (v) => v / 32768);
    assert.deepEqual(oneShot(44100, 16000, floats), oneShot(44100, 16000, ints));
    const r = new Resampler(44100, 16000);
    const parts = [r.process(floats.subarray(0, 1000)), r.process(floats.subarray(1000, 1001)), r.process(floats.subarray(1001)), r.flush()];
    assert.deepEqual(concatInt16(parts), oneShot(44100, 16000, ints));
  });

  it('processes large inputs in one call like many small ones', () => {
    const input = sine(44100, 300, 3, 9000);
    const r = new Resampler(44100, 16000);
    const small: Int16Array[] = [];
    for (let i = 0; i < input.length; i += 512) small.push(r.process(input.subarray(i, i + 512)));
    small.push(r.flush());
    assert.deepEqual(oneShot(44100, 16000, input), concatInt16(small));
  });

  it('is reusable after flush, and passes through when rates are equal', () => {
    const input = sine(24000, 500, 0.1, 5000);
    const r = new Resampler(24000, 16000);
    const first = concatInt16([r.process(input), r.flush()]);
    const second = concatInt16([r.process(input), r.flush()]);
    assert.deepEqual(second, first);
    const same = new Resampler(16000, 16000);
    assert.deepEqual(same.process(input), input);
    assert.equal(same.flush().length, 0);
    assert.deepEqual(same.process(Float32Array.from([0.5, -1, 2, Number.NaN])), Int16Array.from([16384, -32768, 32767, 0]));
  });

  it('rejects invalid rates', () => {
    assert.throws(() => new Resampler(0, 16000), RangeError);
    assert.throws(() => new Resampler(44100.5, 16000), RangeError);
    assert.throws(() => new Resampler(16000, 2_000_000), RangeError);
  });
});

describe('Resampler speed (measured, not asserted)', () => {
  it('44.1 kHz → 16 kHz throughput', (t) => {
    const seconds = 60;
    const input = new Int16Array(44100 * seconds);
    const rand = lcg(7);
    for (let i = 0; i < input.length; i++) input[i] = Math.round(8000 * Math.sin(i / 9) + 4000 * (rand() - 0.5));
    const chunk = 4410; // 100 ms, a typical streaming chunk
    // Warm up the JIT so the figure reflects steady state.
    oneShot(44100, 16000, input.subarray(0, 44100 * 2));
    const r = new Resampler(44100, 16000);
    const start = process.hrtime.bigint();
    let produced = 0;
    for (let i = 0; i < input.length; i += chunk) produced += r.process(input.subarray(i, i + chunk)).length;
    produced += r.flush().length;
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    assert.equal(produced, 16000 * seconds);
    const realtime = (seconds * 1000) / ms;
    t.diagnostic(`resampler 44.1k→16k: ${seconds} s of audio in ${ms.toFixed(1)} ms = ${realtime.toFixed(0)}× real time (one thread)`);
  });
});
