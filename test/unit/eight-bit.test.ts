import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { EIGHT_BIT_PROBE_BYTES, guessEightBitEncoding, type EightBitEncoding } from '../../src/kernel/audio/eight-bit.js';
import { encodeAlaw, encodeMulaw } from '../../src/kernel/audio/g711.js';
import { readWav } from '../helpers/pcm.js';
import { prng } from '../helpers/prng.js';

interface SignalSpec {
  ms: number;
  rate?: number;
  /** Fraction of the time that is tone (the rest is near-silence). */
  toneShare: number;
  amp: number;
  hz: number;
  noise?: number;
  seed?: number;
}

/** Tones alternating with near-silence, as s16. */
function signal(spec: SignalSpec): Int16Array {
  const rate = spec.rate ?? 8000;
  const n = Math.round((spec.ms * rate) / 1000);
  const rnd = prng(spec.seed ?? 1);
  const out = new Int16Array(n);
  const period = Math.round(rate * 0.4);
  for (let i = 0; i < n; i++) {
    let v = (rnd() * 2 - 1) * (spec.noise ?? 20);
    if (i % period < period * spec.toneShare) v += spec.amp * Math.sin((2 * Math.PI * spec.hz * i) / rate);
    out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
  }
  return out;
}

function toU8(pcm: Int16Array): Uint8Array {
  return Uint8Array.from(pcm, (s) => Math.max(0, Math.min(255, Math.round(s / 256) + 128)));
}

function encode(pcm: Int16Array, as: EightBitEncoding): Uint8Array {
  if (as === 'mulaw') return encodeMulaw(pcm);
  if (as === 'alaw') return encodeAlaw(pcm);
  return toU8(pcm);
}

const ENCODINGS: EightBitEncoding[] = ['pcm-u8', 'mulaw', 'alaw'];

describe('guessEightBitEncoding', () => {
  it('the probe is a quarter second at 16 kHz', () => {
    assert.equal(EIGHT_BIT_PROBE_BYTES, 4000);
  });

  const specs: Array<[string, SignalSpec]> = [
    ['speech-like: 40 % tone at 8000, quiet noise', { ms: 1000, toneShare: 0.4, amp: 8000, hz: 300 }],
    ['mostly silence with a short loud tone', { ms: 1000, toneShare: 0.1, amp: 20000, hz: 440 }],
    ['soft tones', { ms: 1000, toneShare: 0.5, amp: 1500, hz: 250, seed: 2 }],
    ['digital silence plus tone', { ms: 1000, toneShare: 0.3, amp: 6000, hz: 1000, noise: 0 }],
    ['16 kHz speech-like', { ms: 500, rate: 16_000, toneShare: 0.35, amp: 5000, hz: 220, seed: 3 }],
  ];
  for (const [name, spec] of specs) {
    for (const enc of ENCODINGS) {
      it(`${name}: encoded as ${enc} → ${enc}`, () => {
        const bytes = encode(signal(spec), enc);
        assert.equal(guessEightBitEncoding(bytes), enc);
      });
    }
  }

  it('a probe-sized prefix is enough', () => {
    const pcm = signal({ ms: 2000, toneShare: 0.4, amp: 8000, hz: 300, seed: 5 });
    for (const enc of ENCODINGS) {
      const bytes = encode(pcm, enc).subarray(0, EIGHT_BIT_PROBE_BYTES);
      assert.equal(guessEightBitEncoding(bytes), enc, enc);
    }
  });

  it('pure silence in each encoding is recognized by its idle code', () => {
    const silence = new Int16Array(4000);
    for (const enc of ENCODINGS) assert.equal(guessEightBitEncoding(encode(silence, enc)), enc, enc);
    // The idle codes themselves.
    assert.equal(guessEightBitEncoding(new Uint8Array(100).fill(0x80)), 'pcm-u8');
    assert.equal(guessEightBitEncoding(new Uint8Array(100).fill(0xff)), 'mulaw');
    assert.equal(guessEightBitEncoding(new Uint8Array(100).fill(0xd5)), 'alaw');
  });

  it('empty input defaults to u8', () => {
    assert.equal(guessEightBitEncoding(new Uint8Array(0)), 'pcm-u8');
  });

  it('the SDK µ-law file data is µ-law', () => {
    const data = readWav('whatstheweatherlike.mulaw').data;
    assert.ok(data.length > EIGHT_BIT_PROBE_BYTES);
    assert.equal(guessEightBitEncoding(data), 'mulaw');
    assert.equal(guessEightBitEncoding(data.subarray(0, EIGHT_BIT_PROBE_BYTES)), 'mulaw', 'from the probe alone');
  });

  it('the SDK A-law file data is A-law', () => {
    const data = readWav('whatstheweatherlike.alaw').data;
    assert.ok(data.length > EIGHT_BIT_PROBE_BYTES);
    assert.equal(guessEightBitEncoding(data), 'alaw');
    assert.equal(guessEightBitEncoding(data.subarray(0, EIGHT_BIT_PROBE_BYTES)), 'alaw', 'from the probe alone');
  });

  function sdkPcm(file: string): Int16Array {
    const wav = readWav(file);
    assert.equal(wav.format.encoding, 'pcm-s16');
    assert.ok(wav.pcm);
    return wav.pcm;
  }

  it('the SDK 16-bit speech re-encoded to 8 bits is told apart in every encoding (whole file and stream start)', () => {
    for (const file of ['whatstheweatherlike.wav', 'TurnOnTheLamp.wav', 'weatheratthebeach.wav']) {
      const pcm = sdkPcm(file);
      for (const enc of ENCODINGS) {
        assert.equal(guessEightBitEncoding(encode(pcm, enc)), enc, `${file}: whole file as ${enc}`);
        // What AudioInput probes: the first EIGHT_BIT_PROBE_BYTES after the header.
        assert.equal(guessEightBitEncoding(encode(pcm.subarray(0, EIGHT_BIT_PROBE_BYTES), enc)), enc, `${file}: probe as ${enc}`);
      }
    }
  });

  it(
    'a probe window that starts in the middle of speech is still told apart',
    () => {
      const failures: string[] = [];
      for (const file of ['whatstheweatherlike.wav', 'TurnOnTheLamp.wav']) {
        const pcm = sdkPcm(file);
        for (const enc of ENCODINGS) {
          for (let off = 0; off + EIGHT_BIT_PROBE_BYTES <= pcm.length; off += 2000) {
            const guess = guessEightBitEncoding(encode(pcm.subarray(off, off + EIGHT_BIT_PROBE_BYTES), enc));
            if (guess !== enc) failures.push(`${file} ${enc} @${off / 16} ms → ${guess}`);
          }
        }
      }
      assert.deepEqual(failures, []);
    },
  );
});
