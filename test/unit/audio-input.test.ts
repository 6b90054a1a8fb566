import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Duplex, PassThrough, Transform } from 'node:stream';
import { AudioInput, type DeclaredAudio } from '../../src/domain/recognition/audio-input.js';
import type { CompressedAudioDecoder } from '../../src/domain/ports/audio.js';
import type { CompressedContainer, RawAudioFormat } from '../../src/kernel/audio/format.js';
import { DEFAULT_STREAM_FORMAT } from '../../src/kernel/audio/format.js';
import { decodeAlaw, decodeMulaw, encodeAlaw, encodeMulaw } from '../../src/kernel/audio/g711.js';
import { buildWavHeader } from '../../src/kernel/audio/wav.js';
import { ServiceError } from '../../src/kernel/errors.js';
import { EIGHT_BIT_PROBE_BYTES } from '../../src/kernel/audio/eight-bit.js';
import { within } from '../helpers/async.js';
import { bytesFromS16, concatInt16 } from '../helpers/pcm.js';
import { prng } from '../helpers/prng.js';

// ---------------------------------------------------------------------------------------------

/** Speech-like mono signal: quiet noise with gliding-tone bursts (most samples quiet, as in speech). */
function speechLike(ms: number, rate = 16_000, seed = 1): Int16Array {
  const rnd = prng(seed);
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = (i * 1000) / rate;
    let v = (rnd() * 2 - 1) * 40;
    // 300 ms bursts every 800 ms.
    if (t % 800 >= 250 && t % 800 < 550) {
      const f = 200 + 200 * (0.5 + 0.5 * Math.sin((2 * Math.PI * t) / 700));
      phase += (2 * Math.PI * f) / rate;
      v += 6000 * Math.sin(phase);
    }
    out[i] = Math.round(v);
  }
  return out;
}

function tone(ms: number, hz: number, rate: number, amp = 8000): Int16Array {
  const n = Math.round((ms * rate) / 1000);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.round(amp * Math.sin((2 * Math.PI * hz * i) / rate));
  return out;
}

const NO_DECODER: CompressedAudioDecoder = {
  open: () => assert.fail('the compressed decoder must not be used here'),
};

/** "Decodes" by passing the bytes through, so the PCM out equals the bytes in. */
class PassThroughDecoder implements CompressedAudioDecoder {
  readonly opened: CompressedContainer[] = [];
  readonly streams: Duplex[] = [];
  open(container: CompressedContainer): Duplex {
    this.opened.push(container);
    const s = new PassThrough();
    this.streams.push(s);
    return s;
  }
}

/** A decoder that fails on the first input byte with `err`. */
class FailingDecoder implements CompressedAudioDecoder {
  readonly streams: Duplex[] = [];
  constructor(private readonly err: () => Error) {}
  open(): Duplex {
    const err = this.err;
    const s = new Transform({
      transform(_chunk, _enc, cb) {
        cb(err());
      },
    });
    this.streams.push(s);
    return s;
  }
}

function collect(decoder: CompressedAudioDecoder = NO_DECODER, declared?: DeclaredAudio): { input: AudioInput; out: () => Int16Array; chunks: Int16Array[] } {
  const chunks: Int16Array[] = [];
  const input = new AudioInput(decoder, (pcm) => chunks.push(Int16Array.from(pcm)), declared);
  return { input, chunks, out: () => concatInt16(chunks) };
}

async function writeInChunks(input: AudioInput, bytes: Buffer, sizes: number | number[]): Promise<void> {
  let i = 0;
  let k = 0;
  while (i < bytes.length) {
    const size = typeof sizes === 'number' ? sizes : (sizes[k++ % sizes.length] ?? 1);
    await input.write(bytes.subarray(i, i + size));
    i += size;
  }
}

function snrDb(reference: Int16Array, actual: Int16Array): number {
  assert.equal(actual.length, reference.length);
  let sig = 0;
  let err = 0;
  for (let i = 0; i < reference.length; i++) {
    const r = reference[i] ?? 0;
    sig += r * r;
    err += (r - (actual[i] ?? 0)) ** 2;
  }
  return 10 * Math.log10(sig / Math.max(1, err));
}

function zeroCrossings(pcm: Int16Array, from = 0, to = pcm.length): number {
  let n = 0;
  for (let i = from + 1; i < to; i++) if (((pcm[i - 1] ?? 0) < 0) !== ((pcm[i] ?? 0) < 0)) n++;
  return n;
}

async function rejectsWithCode(p: Promise<unknown>, code: string): Promise<ServiceError> {
  let caught: unknown;
  try {
    await p;
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof ServiceError, `expected a ServiceError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  assert.ok(caught.status >= 400 && caught.status < 500);
  return caught;
}

const PCM16K: RawAudioFormat = { encoding: 'pcm-s16', sampleRate: 16_000, channels: 1 };

// ---------------------------------------------------------------------------------------------

describe('AudioInput: WAV', () => {
  it('header split across writes, one byte at a time', async () => {
    const pcm = speechLike(300);
    const wav = Buffer.concat([buildWavHeader(PCM16K, pcm.length * 2), bytesFromS16(pcm)]);
    const { input, out } = collect();
    for (let i = 0; i < 44; i++) await input.write(wav.subarray(i, i + 1));
    assert.equal(out().length, 0, 'nothing before the samples');
    assert.deepEqual(input.format, PCM16K);
    await input.write(wav.subarray(44));
    await input.end();
    assert.deepEqual(out(), pcm);
  });

  it('the whole file one byte at a time', async () => {
    const pcm = speechLike(100);
    const wav = Buffer.concat([buildWavHeader(PCM16K), bytesFromS16(pcm)]);
    const { input, out } = collect();
    await writeInChunks(input, wav, 1);
    await input.end();
    assert.deepEqual(out(), pcm);
  });

  it('header + samples in one write', async () => {
    const pcm = speechLike(500);
    const { input, out } = collect();
    await input.write(Buffer.concat([buildWavHeader(PCM16K), bytesFromS16(pcm)]));
    await input.end();
    assert.deepEqual(out(), pcm);
    assert.equal(input.audioMs, 500);
  });

  it('header, then samples in odd-sized chunks', async () => {
    const pcm = speechLike(400);
    const { input, out } = collect();
    await writeInChunks(input, Buffer.concat([buildWavHeader(PCM16K), bytesFromS16(pcm)]), [45, 3, 1, 777, 2, 1001]);
    await input.end();
    assert.deepEqual(out(), pcm);
  });

  it('a header with extra chunks (LIST) before data', async () => {
    const pcm = speechLike(100);
    const h = buildWavHeader(PCM16K);
    const list = Buffer.concat([Buffer.from('LIST', 'latin1'), Buffer.from([5, 0, 0, 0]), Buffer.from('INFOx'), Buffer.from([0])]);
    const wav = Buffer.concat([h.subarray(0, 36), list, h.subarray(36), bytesFromS16(pcm)]);
    const { input, out } = collect();
    await writeInChunks(input, wav, 7);
    await input.end();
    assert.deepEqual(out(), pcm);
  });

  it('44.1 kHz stereo WAV is resampled to 16 kHz mono (length ≈ duration × 16000)', async () => {
    const left = tone(1000, 440, 44_100);
    const stereo = new Int16Array(left.length * 2);
    for (let i = 0; i < left.length; i++) {
      stereo[2 * i] = left[i] ?? 0;
      stereo[2 * i + 1] = left[i] ?? 0;
    }
    const fmt: RawAudioFormat = { encoding: 'pcm-s16', sampleRate: 44_100, channels: 2 };
    const { input, out } = collect();
    await writeInChunks(input, Buffer.concat([buildWavHeader(fmt), bytesFromS16(stereo)]), 4410 * 2 + 3);
    await input.end();
    const pcm = out();
    assert.ok(Math.abs(pcm.length - 16_000) <= 16, `got ${pcm.length} samples for 1 s`);
    assert.ok(Math.abs(input.audioMs - 1000) <= 1, `audioMs ${input.audioMs}`);
    assert.deepEqual(input.format, fmt);
    // Still a 440 Hz tone: ~2 zero crossings per period over the steady middle part.
    const zc = zeroCrossings(pcm, 1600, 14_400);
    assert.ok(Math.abs(zc - 2 * 440 * 0.8) <= 4, `zero crossings ${zc}`);
  });

  it('incomplete RIFF header at end() throws InvalidAudio', async () => {
    for (const cut of [4, 12, 20, 43]) {
      const { input } = collect();
      await input.write(buildWavHeader(PCM16K).subarray(0, cut));
      await rejectsWithCode(input.end(), 'InvalidAudio');
    }
  });

  it('a WAV header that is not valid throws InvalidAudio from write()', async () => {
    const h = buildWavHeader(PCM16K);
    h.writeUInt16LE(0x55, 20); // MP3-in-WAV format tag: unsupported
    const { input } = collect();
    await rejectsWithCode(input.write(h), 'InvalidAudio');
  });
});

describe('AudioInput: 8-bit WAV declared as PCM', () => {
  const header8 = (bytes: number): Buffer => buildWavHeader({ encoding: 'pcm-u8', sampleRate: 16_000, channels: 1 }, bytes);

  it('µ-law data (JS SDK rewrites the header as 8-bit PCM) is decoded as µ-law', async () => {
    const signal = speechLike(1000);
    const codes = encodeMulaw(signal);
    const { input, out } = collect();
    await writeInChunks(input, Buffer.concat([header8(codes.length), Buffer.from(codes)]), 3200);
    await input.end();
    assert.equal((input.format as RawAudioFormat).encoding, 'mulaw');
    assert.deepEqual(out(), decodeMulaw(codes));
    assert.ok(snrDb(signal, out()) > 25, 'close to the original signal');
  });

  it('A-law data declared as 8-bit PCM is decoded as A-law', async () => {
    const signal = speechLike(1000, 16_000, 2);
    const codes = encodeAlaw(signal);
    const { input, out } = collect();
    await writeInChunks(input, Buffer.concat([header8(codes.length), Buffer.from(codes)]), 1000);
    await input.end();
    assert.equal((input.format as RawAudioFormat).encoding, 'alaw');
    assert.deepEqual(out(), decodeAlaw(codes));
    assert.ok(snrDb(signal, out()) > 25);
  });

  it('real unsigned 8-bit PCM stays u8', async () => {
    const signal = speechLike(1000, 16_000, 3);
    const u8 = Buffer.alloc(signal.length);
    for (let i = 0; i < signal.length; i++) u8[i] = ((signal[i] ?? 0) >> 8) + 128;
    const { input, out } = collect();
    await writeInChunks(input, Buffer.concat([header8(u8.length), u8]), 1);
    await input.end();
    assert.equal((input.format as RawAudioFormat).encoding, 'pcm-u8');
    const expected = Int16Array.from(u8, (b) => (b - 128) * 256);
    assert.deepEqual(out(), expected);
    assert.ok(snrDb(signal, out()) > 20, '8-bit linear quantization of the original');
  });

  it('shorter than the probe: decided at end()', async () => {
    const signal = speechLike(150);
    const codes = encodeMulaw(signal);
    assert.ok(codes.length < EIGHT_BIT_PROBE_BYTES);
    const { input, out } = collect();
    await input.write(Buffer.concat([header8(codes.length), Buffer.from(codes)]));
    assert.equal(out().length, 0, 'held back while probing');
    await input.end();
    assert.deepEqual(out(), decodeMulaw(codes));
    assert.equal(input.audioMs, 150);
  });

  it('8 kHz µ-law declared as u8 is decoded and resampled', async () => {
    const signal = speechLike(1000, 8000, 4);
    const codes = encodeMulaw(signal);
    const { input, out } = collect();
    await input.write(Buffer.concat([buildWavHeader({ encoding: 'pcm-u8', sampleRate: 8000, channels: 1 }), Buffer.from(codes)]));
    await input.end();
    assert.equal((input.format as RawAudioFormat).encoding, 'mulaw');
    assert.ok(Math.abs(out().length - 16_000) <= 16, `${out().length}`);
  });

  it('a real G.711 WAV header (tag 7) needs no guessing', async () => {
    const signal = speechLike(200);
    const codes = encodeMulaw(signal);
    const { input, out } = collect();
    await input.write(Buffer.concat([buildWavHeader({ encoding: 'mulaw', sampleRate: 16_000, channels: 1 }), Buffer.from(codes)]));
    assert.deepEqual(out(), decodeMulaw(codes), 'no probe delay');
    await input.end();
  });
});

describe('AudioInput: headerless and declared formats', () => {
  it('headerless raw audio is 16 kHz s16 mono', async () => {
    const pcm = speechLike(300);
    const { input, out } = collect();
    await writeInChunks(input, bytesFromS16(pcm), [1, 3, 7, 3200, 5]);
    await input.end();
    assert.deepEqual(out(), pcm);
    assert.deepEqual(input.format, DEFAULT_STREAM_FORMAT);
    assert.equal(input.audioMs, 300);
  });

  it('fewer than 12 headerless bytes in total are still audio', async () => {
    const { input, out } = collect();
    await input.write(Buffer.from([1, 0, 2, 0, 3, 0, 4, 0, 5, 0]));
    assert.equal(out().length, 0);
    await input.end();
    assert.deepEqual(out(), Int16Array.from([1, 2, 3, 4, 5]));
  });

  it('end() with no bytes at all produces nothing', async () => {
    const { input, out } = collect();
    await input.write(Buffer.alloc(0));
    await input.end();
    assert.equal(out().length, 0);
    assert.equal(input.audioMs, 0);
    assert.equal(input.format, undefined);
  });

  it('declared raw format (µ-law 8 kHz) is used as is', async () => {
    const signal = speechLike(500, 8000);
    const codes = encodeMulaw(signal);
    const { input, out } = collect(NO_DECODER, { kind: 'raw', format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 } });
    await writeInChunks(input, Buffer.from(codes), 333);
    await input.end();
    assert.ok(Math.abs(out().length - 8000) <= 8);
    assert.ok(Math.abs(input.audioMs - 500) <= 1);
  });

  it('declared WAV without a header falls back to the Content-Type format', async () => {
    const pcm = tone(500, 300, 8000);
    const { input, out } = collect(NO_DECODER, { kind: 'wav', rawFallback: { encoding: 'pcm-s16', sampleRate: 8000, channels: 1 } });
    await writeInChunks(input, bytesFromS16(pcm), 1000);
    await input.end();
    assert.ok(Math.abs(out().length - 8000) <= 8, `${out().length}`);
  });

  it(
    'declared WAV, headerless and shorter than 12 bytes, still uses the Content-Type format',
    async () => {
      const codes = Buffer.from([0xff, 0x7f, 0x80, 0x00, 0x10, 0x90, 0xf0, 0x70]);
      const { input, out } = collect(NO_DECODER, { kind: 'wav', rawFallback: { encoding: 'mulaw', sampleRate: 16_000, channels: 1 } });
      await input.write(codes);
      await input.end();
      assert.deepEqual(out(), decodeMulaw(codes));
    },
  );

  it('declared WAV with a header uses the header', async () => {
    const pcm = speechLike(200);
    const { input, out } = collect(NO_DECODER, { kind: 'wav', rawFallback: { encoding: 'pcm-s16', sampleRate: 8000, channels: 1 } });
    await input.write(Buffer.concat([buildWavHeader(PCM16K), bytesFromS16(pcm)]));
    await input.end();
    assert.deepEqual(out(), pcm);
  });

  it('destroy() stops further output', async () => {
    const { input, out } = collect();
    await input.write(bytesFromS16(speechLike(100)));
    const before = out().length;
    input.destroy();
    await input.write(bytesFromS16(speechLike(100)));
    await input.end();
    assert.equal(out().length, before);
  });
});

describe('AudioInput: compressed', () => {
  it('a sniffed container goes through the decoder, and PCM comes back in order', async () => {
    const decoder = new PassThroughDecoder();
    const { input, out } = collect(decoder);
    // "OggS" magic, then arbitrary bytes: the pass-through decoder returns them as s16 samples.
    const body = Buffer.concat([Buffer.from('OggS', 'latin1'), bytesFromS16(speechLike(200)), Buffer.from([7])]);
    await writeInChunks(input, body, [5, 1, 999, 2]);
    await input.end();
    assert.deepEqual(decoder.opened, ['ogg']);
    assert.equal(input.format, 'ogg');
    const even = body.subarray(0, body.length - 1);
    const expected = new Int16Array(even.length / 2);
    for (let i = 0; i < expected.length; i++) expected[i] = even.readInt16LE(i * 2);
    assert.deepEqual(out(), expected, 'odd bytes carried across chunks; a trailing odd byte is dropped');
    assert.equal(input.audioMs, (expected.length * 1000) / 16_000);
  });

  it('declared compressed audio opens the decoder at once', async () => {
    const decoder = new PassThroughDecoder();
    const { input, out } = collect(decoder, { kind: 'compressed', container: 'webm' });
    assert.deepEqual(decoder.opened, ['webm']);
    await input.write(Buffer.alloc(32_000, 0));
    await input.end();
    assert.equal(out().length, 16_000);
    assert.equal(input.audioMs, 1000);
  });

  it('a decoder error surfaces from end() as InvalidAudio', async () => {
    const decoder = new FailingDecoder(() => new Error('ffmpeg: Invalid data found when processing input'));
    const { input } = collect(decoder);
    // The failure may already surface from write() (fail fast); end() reports it in any case.
    await input.write(Buffer.concat([Buffer.from('OggS', 'latin1'), Buffer.alloc(100)])).catch(() => undefined);
    const err = await rejectsWithCode(input.end(), 'InvalidAudio');
    assert.ok(!err.message.includes('ffmpeg'), 'the decoder text is not the client message');
  });

  it('a ServiceError from the decoder passes through unchanged', async () => {
    const original = new ServiceError('InvalidAudio', 400, 'The Opus stream is truncated.');
    const decoder = new FailingDecoder(() => original);
    const { input } = collect(decoder, { kind: 'compressed', container: 'ogg' });
    await input.write(Buffer.alloc(10)).catch(() => undefined);
    const err = await rejectsWithCode(input.end(), 'InvalidAudio');
    assert.equal(err, original);
  });

  it(
    'writes after a decoder error do not hang',
    async () => {
      const decoder = new FailingDecoder(() => new Error('bad'));
      const { input } = collect(decoder, { kind: 'compressed', container: 'mp3' });
      await input.write(Buffer.alloc(10)).catch(() => undefined);
      for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
      assert.equal(decoder.streams[0]?.destroyed, true, 'the decoder failed');
      const outcome = await within(
        input.write(Buffer.alloc(10)).catch((e: unknown) => e),
        300,
      );
      assert.notEqual(outcome, 'timeout', 'write() after the decoder failed returns');
      assert.equal((outcome as { code?: string }).code, 'InvalidAudio', 'and reports the decoder error');
      await rejectsWithCode(input.end(), 'InvalidAudio');
    },
  );

  it('destroy() destroys the decoder stream', async () => {
    const decoder = new PassThroughDecoder();
    const { input } = collect(decoder, { kind: 'compressed', container: 'flac' });
    input.destroy();
    assert.equal(decoder.streams[0]?.destroyed, true);
  });
});
