import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ALAW_DECODE_TABLE,
  alawToLinear,
  decodeAlaw,
  decodeMulaw,
  encodeAlaw,
  encodeMulaw,
  linearToAlaw,
  linearToMulaw,
  MULAW_DECODE_TABLE,
  mulawToLinear,
} from '../../src/kernel/audio/g711.js';
import { readWav, s16FromBytes } from '../helpers/pcm.js';

function snrDb(reference: Int16Array, test: Int16Array): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] ?? 0;
    signal += r * r;
    const e = r - (test[i] ?? 0);
    noise += e * e;
  }
  return 10 * Math.log10(signal / Math.max(noise, 1e-9));
}

describe('G.711 decoding', () => {
  it('matches the reference values', () => {
    assert.equal(mulawToLinear(0xff), 0);
    assert.equal(mulawToLinear(0x7f), 0);
    assert.equal(mulawToLinear(0x80), 32124);
    assert.equal(mulawToLinear(0x00), -32124);
    assert.equal(mulawToLinear(0xfe), 8);
    assert.equal(alawToLinear(0xd5), 8);
    assert.equal(alawToLinear(0x55), -8);
    assert.equal(alawToLinear(0xaa), 32256);
    assert.equal(alawToLinear(0x2a), -32256);
  });

  it('is odd-symmetric and monotonic over the code space', () => {
    for (let code = 0; code < 128; code++) {
      assert.equal(MULAW_DECODE_TABLE[code], 0 - (MULAW_DECODE_TABLE[code | 0x80] ?? 0), `mu-law ${code}`);
      assert.equal(ALAW_DECODE_TABLE[code], 0 - (ALAW_DECODE_TABLE[code | 0x80] ?? 0), `A-law ${code}`);
    }
    // µ-law positive codes 0xFF (0) down to 0x80 (max) increase in magnitude.
    for (let code = 0xff; code > 0x80; code--) assert.ok((MULAW_DECODE_TABLE[code] ?? 0) < (MULAW_DECODE_TABLE[code - 1] ?? 0));
  });

  it('decodes arrays with the tables, into a caller buffer too', () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    assert.deepEqual(decodeMulaw(codes), MULAW_DECODE_TABLE);
    assert.deepEqual(decodeAlaw(codes), ALAW_DECODE_TABLE);
    const out = new Int16Array(300);
    decodeAlaw(codes, out);
    assert.deepEqual(out.subarray(0, 256), ALAW_DECODE_TABLE);
    assert.throws(() => decodeAlaw(codes, new Int16Array(10)), RangeError);
  });
});

describe('G.711 encoding', () => {
  it('round-trips every code (µ-law negative zero 0x7F maps to 0xFF)', () => {
    for (let code = 0; code < 256; code++) {
      assert.equal(linearToAlaw(alawToLinear(code)), code, `A-law ${code}`);
      assert.equal(linearToMulaw(mulawToLinear(code)), code === 0x7f ? 0xff : code, `mu-law ${code}`);
    }
  });

  it('quantises to the nearest-below level with bounded error and clips out-of-range input', () => {
    for (let x = -32768; x <= 32767; x += 7) {
      const mu = mulawToLinear(linearToMulaw(x));
      const a = alawToLinear(linearToAlaw(x));
      // Segment step is at most 1024 (µ-law) / 1024 (A-law) at full scale; relative error stays small.
      assert.ok(Math.abs(mu - x) <= Math.max(16, Math.abs(x) / 16) + 130, `mu-law ${x} → ${mu}`);
      assert.ok(Math.abs(a - x) <= Math.max(16, Math.abs(x) / 16) + 130, `A-law ${x} → ${a}`);
    }
    assert.equal(linearToMulaw(1e9), linearToMulaw(32767));
    assert.equal(linearToAlaw(-1e9), linearToAlaw(-32768));
  });

  it('encodes a sine at 35 dB SNR or better, and arrays equal the scalar functions', () => {
    const n = 16000;
    const x = new Int16Array(n);
    for (let i = 0; i < n; i++) x[i] = Math.round(12000 * Math.sin((2 * Math.PI * 440 * i) / 16000));
    const mu = encodeMulaw(x);
    const al = encodeAlaw(x);
    for (let i = 0; i < n; i += 97) {
      assert.equal(mu[i], linearToMulaw(x[i] ?? 0));
      assert.equal(al[i], linearToAlaw(x[i] ?? 0));
    }
    const muSnr = snrDb(x, decodeMulaw(mu));
    const aSnr = snrDb(x, decodeAlaw(al));
    assert.ok(muSnr > 35, `mu-law SNR ${muSnr.toFixed(1)} dB`);
    assert.ok(aSnr > 35, `A-law SNR ${aSnr.toFixed(1)} dB`);
  });
});

describe('G.711 against the SDK fixtures', () => {
  const original = s16FromBytes(readWav('whatstheweatherlike.wav').data);
  for (const [file, decode, encode] of [
    ['whatstheweatherlike.mulaw', decodeMulaw, encodeMulaw],
    ['whatstheweatherlike.alaw', decodeAlaw, encodeAlaw],
  ] as const) {
    it(`${file} decodes to the 16-bit original (SNR > 25 dB) and our encoder mostly agrees byte-wise`, () => {
      const codes = readWav(file).data;
      assert.equal(codes.length, original.length);
      const decoded = decode(codes);
      const snr = snrDb(original, decoded);
      assert.ok(snr > 25, `SNR ${snr.toFixed(1)} dB`);
      const ours = encode(original);
      let same = 0;
      for (let i = 0; i < ours.length; i++) if (ours[i] === codes[i]) same++;
      // Encoders differ in rounding at level boundaries (ours is g711.c, which truncates): every
      // disagreement must be a neighbouring quantisation level of the same sample.
      assert.ok(same / ours.length > 0.9, `byte agreement ${(same / ours.length).toFixed(3)}`);
      const table = decode(Uint8Array.from({ length: 256 }, (_, i) => i));
      for (let i = 0; i < ours.length; i++) {
        if (ours[i] === codes[i]) continue;
        const x = original[i] ?? 0;
        const gap = Math.abs((table[ours[i] ?? 0] ?? 0) - (table[codes[i] ?? 0] ?? 0));
        assert.ok(gap <= Math.abs(x) / 8 + 32, `sample ${i} (${x}): codes ${ours[i]} vs ${codes[i]}`);
      }
    });
  }
});
