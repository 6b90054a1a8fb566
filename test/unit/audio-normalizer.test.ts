import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { PcmEncoding, RawAudioFormat } from '../../src/kernel/audio/format.js';
import { encodeAlaw, encodeMulaw } from '../../src/kernel/audio/g711.js';
import { PcmNormalizer } from '../../src/kernel/audio/pcm-normalizer.js';
import { isServiceError } from '../../src/kernel/errors.js';
import { SDK_AUDIO } from '../helpers/paths.js';
import { bestCorrelation, concatInt16, readWav, s16FromBytes } from '../helpers/pcm.js';
import { lcg } from '../helpers/prng.js';

const FFMPEG = '/usr/bin/ffmpeg';

function normalizeAll(format: RawAudioFormat, data: Uint8Array, chunkSizes?: () => number): Int16Array {
  const n = new PcmNormalizer(format);
  const parts: Int16Array[] = [];
  if (chunkSizes === undefined) {
    parts.push(n.push(data));
  } else {
    for (let i = 0; i < data.length; ) {
      const size = chunkSizes();
      parts.push(n.push(data.subarray(i, i + size)));
      i += size;
    }
  }
  parts.push(n.flush());
  return concatInt16(parts);
}

function assertInvalidAudio(fn: () => unknown): void {
  assert.throws(fn, (err: unknown) => isServiceError(err) && err.code === 'InvalidAudio' && err.status === 400);
}

describe('PcmNormalizer on the SDK fixtures', () => {
  const original = readWav('whatstheweatherlike.wav');
  const reference = s16FromBytes(original.data);

  it('passes 16 kHz s16 mono through unchanged', () => {
    assert.deepEqual(original.format, { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 });
    assert.deepEqual(normalizeAll(original.format, original.data), reference);
    const rand = lcg(1);
    assert.deepEqual(normalizeAll(original.format, original.data, () => 1 + Math.floor(rand() * 9)), reference);
  });

  for (const file of ['whatstheweatherlike.44khz.wav', 'whatstheweatherlike.alaw', 'whatstheweatherlike.mulaw']) {
    it(`${file} → 16 kHz matches the 16 kHz original (length ±1 %, correlation > 0.9 within ±10 ms)`, (t) => {
      const wav = readWav(file);
      const out = normalizeAll(wav.format, wav.data);
      assert.ok(Math.abs(out.length - reference.length) <= reference.length * 0.01, `${out.length} vs ${reference.length} samples`);
      const { ncc, lag } = bestCorrelation(reference, out, 160);
      t.diagnostic(`${file}: ${out.length} samples, ncc ${ncc.toFixed(4)} at lag ${lag}`);
      assert.ok(ncc > 0.9, `ncc ${ncc} at lag ${lag}`);
      // Odd chunking gives the same samples.
      const rand = lcg(file.length);
      assert.deepEqual(normalizeAll(wav.format, wav.data, () => 1 + Math.floor(rand() * 1001)), out);
    });
  }

  it('initialSilence5s.wav (44.1 kHz stereo) → 16 kHz mono: right length, quiet lead-in then speech', () => {
    const wav = readWav('initialSilence5s.wav');
    assert.deepEqual(wav.format, { encoding: 'pcm-s16', sampleRate: 44100, channels: 2 });
    const frames = wav.data.length / 4;
    const out = normalizeAll(wav.format, wav.data);
    assert.equal(out.length, Math.ceil((frames * 16000) / 44100));
    const rms = (from: number, to: number): number => {
      let sum = 0;
      for (let i = from; i < to; i++) sum += (out[i] ?? 0) ** 2;
      return Math.sqrt(sum / (to - from));
    };
    // The lead-in is room noise (with a few bumps around 2 s), the talker starts at about 5.3 s.
    const silence = rms(0.2 * 16000, 1.4 * 16000);
    const speech = rms(5.5 * 16000, 7.5 * 16000);
    assert.ok(speech > 4 * silence, `speech rms ${speech.toFixed(1)} vs silence rms ${silence.toFixed(1)}`);
  });

  it('agrees with ffmpeg on initialSilence5s.wav (ncc > 0.99)', { skip: !existsSync(FFMPEG) }, () => {
    const wav = readWav('initialSilence5s.wav');
    const viaFfmpeg = s16FromBytes(
      execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', join(SDK_AUDIO, 'initialSilence5s.wav'), '-f', 's16le', '-ac', '1', '-ar', '16000', 'pipe:1'], {
        maxBuffer: 64 * 1024 * 1024,
      }),
    );
    const ours = normalizeAll(wav.format, wav.data);
    assert.ok(Math.abs(ours.length - viaFfmpeg.length) <= 16, `${ours.length} vs ${viaFfmpeg.length}`);
    const { ncc, lag } = bestCorrelation(viaFfmpeg.subarray(5 * 16000, 7 * 16000), ours.subarray(5 * 16000, 7 * 16000), 16);
    assert.ok(ncc > 0.99 && Math.abs(lag) <= 1, `ncc ${ncc} at lag ${lag}`);
  });

  it('multi_channel_35sec.wav (16 kHz stereo) is downmixed by averaging, sample-exact', () => {
    const wav = readWav('multi_channel_35sec.wav');
    assert.deepEqual(wav.format, { encoding: 'pcm-s16', sampleRate: 16000, channels: 2 });
    const interleaved = s16FromBytes(wav.data);
    const expected = new Int16Array(interleaved.length / 2);
    for (let i = 0; i < expected.length; i++) expected[i] = Math.round(((interleaved[2 * i] ?? 0) + (interleaved[2 * i + 1] ?? 0)) / 2);
    const rand = lcg(35);
    assert.deepEqual(normalizeAll(wav.format, wav.data, () => 1 + Math.floor(rand() * 4099)), expected);
  });
});

/** Encodes float samples in [-1, 1] (interleaved) in the given encoding. */
function encode(encoding: PcmEncoding, samples: Float64Array): Buffer {
  const n = samples.length;
  const s16 = (v: number): number => Math.max(-32768, Math.min(32767, Math.round(v * 32768)));
  switch (encoding) {
    case 'pcm-u8':
      return Buffer.from(Uint8Array.from(samples, (v) => Math.max(0, Math.min(255, Math.round(v * 128) + 128))));
    case 'pcm-s16': {
      const b = Buffer.alloc(n * 2);
      samples.forEach((v, i) => b.writeInt16LE(s16(v), i * 2));
      return b;
    }
    case 'pcm-s24': {
      const b = Buffer.alloc(n * 3);
      samples.forEach((v, i) => b.writeIntLE(Math.max(-8388608, Math.min(8388607, Math.round(v * 8388608))), i * 3, 3));
      return b;
    }
    case 'pcm-s32': {
      const b = Buffer.alloc(n * 4);
      samples.forEach((v, i) => b.writeInt32LE(Math.max(-2147483648, Math.min(2147483647, Math.round(v * 2147483648))), i * 4));
      return b;
    }
    case 'pcm-f32': {
      const b = Buffer.alloc(n * 4);
      samples.forEach((v, i) => b.writeFloatLE(v, i * 4));
      return b;
    }
    case 'mulaw':
      return Buffer.from(encodeMulaw(Int16Array.from(samples, s16)));
    case 'alaw':
      return Buffer.from(encodeAlaw(Int16Array.from(samples, s16)));
  }
}

describe('PcmNormalizer sample formats', () => {
  const encodings: PcmEncoding[] = ['pcm-u8', 'pcm-s16', 'pcm-s24', 'pcm-s32', 'pcm-f32', 'mulaw', 'alaw'];
  // Left: 440 Hz at 0.5; right: the same tone inverted plus 0.2 DC, so the average is 0.1 DC.
  function stereo(rate: number, seconds: number): Float64Array {
    const frames = Math.round(rate * seconds);
    const out = new Float64Array(frames * 2);
    for (let i = 0; i < frames; i++) {
      const tone = 0.5 * Math.sin((2 * Math.PI * 440 * i) / rate);
      out[2 * i] = tone + 0.3;
      out[2 * i + 1] = -tone - 0.1;
    }
    return out;
  }

  for (const encoding of encodings) {
    for (const rate of [16000, 48000, 8000]) {
      it(`${encoding} stereo at ${rate} Hz: average downmix, resampling, odd chunking`, () => {
        const format: RawAudioFormat = { encoding, sampleRate: rate, channels: 2 };
        const bytes = encode(encoding, stereo(rate, 0.25));
        const whole = normalizeAll(format, bytes);
        assert.equal(whole.length, Math.ceil((0.25 * rate * 16000) / rate));
        // The downmix cancels the tone and leaves 0.1 of full scale (3277), give or take the codec:
        // G.711 steps are up to 1024 at the 0.8 peaks of the left channel.
        const tolerance = encoding === 'pcm-u8' ? 200 : encoding === 'mulaw' || encoding === 'alaw' ? 600 : 4;
        for (let i = 100; i < whole.length - 100; i++) {
          assert.ok(Math.abs((whole[i] ?? 0) - 3277) <= tolerance, `${encoding}@${rate} sample ${i}: ${whole[i]}`);
        }
        const rand = lcg(rate + encoding.length);
        assert.deepEqual(normalizeAll(format, bytes, () => Math.floor(rand() * 13)), whole);
      });
    }
  }

  it('keeps the tone of a mono signal in every encoding (48 kHz → 16 kHz)', () => {
    for (const encoding of encodings) {
      const frames = 48000 / 4;
      const mono = new Float64Array(frames);
      for (let i = 0; i < frames; i++) mono[i] = 0.5 * Math.sin((2 * Math.PI * 440 * i) / 48000);
      const out = normalizeAll({ encoding, sampleRate: 48000, channels: 1 }, encode(encoding, mono));
      let maxErr = 0;
      for (let i = 100; i < out.length - 100; i++) {
        const ideal = 16384 * Math.sin((2 * Math.PI * 440 * i) / 16000);
        maxErr = Math.max(maxErr, Math.abs((out[i] ?? 0) - ideal));
      }
      const limit = encoding === 'pcm-u8' ? 300 : encoding === 'mulaw' || encoding === 'alaw' ? 700 : 20;
      assert.ok(maxErr <= limit, `${encoding}: max error ${maxErr.toFixed(1)}`);
    }
  });

  it('clips out-of-range and non-finite floats instead of wrapping', () => {
    const b = Buffer.alloc(16);
    [2, -3, Number.NaN, Number.POSITIVE_INFINITY].forEach((v, i) => b.writeFloatLE(v, i * 4));
    assert.deepEqual(normalizeAll({ encoding: 'pcm-f32', sampleRate: 16000, channels: 1 }, b), Int16Array.from([32767, -32768, 0, 32767]));
  });

  it('holds back at most one partial frame and drops it at flush', () => {
    const n = new PcmNormalizer({ encoding: 'pcm-s24', sampleRate: 16000, channels: 2 });
    assert.equal(n.push(Buffer.from([1, 2, 3, 4, 5])).length, 0);
    assert.equal(n.pendingBytes, 5);
    assert.equal(n.push(Buffer.from([0, 0, 0, 0, 0, 0, 0])).length, 2);
    assert.equal(n.pendingBytes, 0);
    assert.equal(n.push(Buffer.from([9])).length, 0);
    assert.equal(n.pendingBytes, 1);
    assert.equal(n.flush().length, 0);
    assert.equal(n.pendingBytes, 0);
  });

  it('rejects unsupported formats with InvalidAudio', () => {
    assertInvalidAudio(() => new PcmNormalizer({ encoding: 'pcm-s16', sampleRate: 0, channels: 1 }));
    assertInvalidAudio(() => new PcmNormalizer({ encoding: 'pcm-s16', sampleRate: 16000, channels: 0 }));
    assertInvalidAudio(() => new PcmNormalizer({ encoding: 'pcm-s16', sampleRate: 16000.5, channels: 1 }));
    assertInvalidAudio(() => new PcmNormalizer({ encoding: 'opus' as unknown as PcmEncoding, sampleRate: 16000, channels: 1 }));
  });
});
