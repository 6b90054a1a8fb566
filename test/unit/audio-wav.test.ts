import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import type { RawAudioFormat } from '../../src/kernel/audio/format.js';
import { buildWavHeader, MAX_WAV_HEADER_BYTES, parseWavHeader, type WavHeader, type WavParseResult } from '../../src/kernel/audio/wav.js';
import { isServiceError } from '../../src/kernel/errors.js';
import { SDK_AUDIO } from '../helpers/paths.js';


function header(result: WavParseResult): WavHeader {
  if ('needMore' in result) assert.fail('expected a complete header');
  return result;
}

function assertInvalid(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isServiceError(err), `expected a ServiceError, got ${String(err)}`);
    assert.equal(err.code, 'InvalidAudio');
    assert.equal(err.status, 400);
    assert.match(err.message, pattern);
    return true;
  });
}

function chunk(id: string, body: Uint8Array): Buffer {
  const head = Buffer.alloc(8);
  head.write(id, 0, 'latin1');
  head.writeUInt32LE(body.length, 4);
  return Buffer.concat([head, body, body.length % 2 === 1 ? Buffer.alloc(1) : Buffer.alloc(0)]);
}

function fmtBody(tag: number, channels: number, rate: number, bits: number, blockAlign = (bits / 8) * channels): Buffer {
  const b = Buffer.alloc(16);
  b.writeUInt16LE(tag, 0);
  b.writeUInt16LE(channels, 2);
  b.writeUInt32LE(rate, 4);
  b.writeUInt32LE(rate * blockAlign, 8);
  b.writeUInt16LE(blockAlign, 12);
  b.writeUInt16LE(bits, 14);
  return b;
}

function extensibleFmt(subTag: number, channels: number, rate: number, bits: number, validBits = bits): Buffer {
  const ext = Buffer.alloc(24);
  ext.writeUInt16LE(22, 0);
  ext.writeUInt16LE(validBits, 2);
  ext.writeUInt32LE(channels === 2 ? 3 : 4, 4);
  ext.writeUInt32LE(subTag, 8);
  Buffer.from([0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71]).copy(ext, 12);
  return Buffer.concat([fmtBody(0xfffe, channels, rate, bits), ext]);
}

function riff(chunks: Buffer[], riffSize?: number): Buffer {
  const body = Buffer.concat(chunks);
  const head = Buffer.alloc(12);
  head.write('RIFF', 0, 'latin1');
  head.writeUInt32LE(riffSize ?? 4 + body.length, 4);
  head.write('WAVE', 8, 'latin1');
  return Buffer.concat([head, body]);
}

function dataChunkHeader(size: number): Buffer {
  const b = Buffer.alloc(8);
  b.write('data', 0, 'latin1');
  b.writeUInt32LE(size, 4);
  return b;
}

describe('parseWavHeader on the SDK fixtures', () => {
  const cases: { file: string; format: RawAudioFormat; dataOffset: number; dataBytes: number }[] = [
    { file: 'whatstheweatherlike.wav', format: { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 }, dataOffset: 44, dataBytes: 64960 },
    { file: 'whatstheweatherlike.44khz.wav', format: { encoding: 'pcm-s16', sampleRate: 44100, channels: 1 }, dataOffset: 44, dataBytes: 0x2bb66 },
    { file: 'whatstheweatherlike.alaw', format: { encoding: 'alaw', sampleRate: 16000, channels: 1 }, dataOffset: 44, dataBytes: 32480 },
    { file: 'whatstheweatherlike.mulaw', format: { encoding: 'mulaw', sampleRate: 16000, channels: 1 }, dataOffset: 44, dataBytes: 32480 },
    { file: 'initialSilence5s.wav', format: { encoding: 'pcm-s16', sampleRate: 44100, channels: 2 }, dataOffset: 44, dataBytes: 0x168a6c },
    { file: 'multi_channel_35sec.wav', format: { encoding: 'pcm-s16', sampleRate: 16000, channels: 2 }, dataOffset: 44, dataBytes: 0x22d9a4 },
  ];
  for (const c of cases) {
    it(c.file, () => {
      const bytes = readFileSync(join(SDK_AUDIO, c.file));
      const h = header(parseWavHeader(bytes));
      assert.deepEqual(h.format, c.format);
      assert.equal(h.dataOffset, c.dataOffset);
      assert.equal(h.dataBytes, c.dataBytes);
      assert.equal(h.blockAlign, (c.format.encoding === 'pcm-s16' ? 2 : 1) * c.format.channels);
    });
  }

  it('asks for more bytes for every prefix shorter than the header, without throwing', () => {
    const bytes = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
    for (let n = 0; n < 44; n++) assert.deepEqual(parseWavHeader(bytes.subarray(0, n)), { needMore: true }, `prefix ${n}`);
    assert.equal(header(parseWavHeader(bytes.subarray(0, 44))).dataOffset, 44);
  });
});

describe('parseWavHeader on synthetic headers', () => {
  it('treats 0 and 0xFFFFFFFF sizes as unknown (streaming writers)', () => {
    for (const size of [0, 0xffffffff]) {
      const h = header(parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 16000, 16)), dataChunkHeader(size)], size)));
      assert.equal(h.dataBytes, undefined);
      assert.equal(h.dataOffset, 44);
    }
  });

  it('skips LIST, fact and odd-sized chunks (with their pad byte) before data', () => {
    const list = chunk('LIST', Buffer.from('INFOISFT\x05\x00\x00\x00Lavf\x00', 'latin1'));
    const odd = chunk('junk', Buffer.alloc(7, 0x41));
    const fact = chunk('fact', Buffer.from([0x10, 0x00, 0x00, 0x00]));
    const bytes = riff([list, chunk('fmt ', fmtBody(7, 1, 8000, 8)), odd, fact, dataChunkHeader(16), Buffer.alloc(16, 0xff)]);
    const h = header(parseWavHeader(bytes));
    assert.deepEqual(h.format, { encoding: 'mulaw', sampleRate: 8000, channels: 1 });
    assert.equal(h.dataOffset, bytes.length - 16);
    assert.equal(h.dataBytes, 16);
    // Every shorter prefix before the data asks for more.
    for (let n = 0; n < h.dataOffset; n++) assert.ok('needMore' in parseWavHeader(bytes.subarray(0, n)), `prefix ${n}`);
  });

  it('maps every supported format tag and sample size', () => {
    const cases: [number, number, RawAudioFormat['encoding']][] = [
      [1, 8, 'pcm-u8'],
      [1, 16, 'pcm-s16'],
      [1, 24, 'pcm-s24'],
      [1, 32, 'pcm-s32'],
      [3, 32, 'pcm-f32'],
      [6, 8, 'alaw'],
      [7, 8, 'mulaw'],
    ];
    for (const [tag, bits, encoding] of cases) {
      const h = header(parseWavHeader(riff([chunk('fmt ', fmtBody(tag, 2, 22050, bits)), dataChunkHeader(0)])));
      assert.deepEqual(h.format, { encoding, sampleRate: 22050, channels: 2 });
      const ext = header(parseWavHeader(riff([chunk('fmt ', extensibleFmt(tag, 2, 48000, bits)), dataChunkHeader(0)])));
      assert.deepEqual(ext.format, { encoding, sampleRate: 48000, channels: 2 }, `extensible tag ${tag}/${bits}`);
    }
  });

  it('accepts WAVE_FORMAT_EXTENSIBLE with fewer valid bits than the container (24 in 32)', () => {
    const h = header(parseWavHeader(riff([chunk('fmt ', extensibleFmt(1, 2, 96000, 32, 24)), dataChunkHeader(800)])));
    assert.deepEqual(h.format, { encoding: 'pcm-s32', sampleRate: 96000, channels: 2 });
  });

  it('rejects malformed and unsupported headers with InvalidAudio', () => {
    const fmt16 = chunk('fmt ', fmtBody(1, 1, 16000, 16));
    assertInvalid(() => parseWavHeader(Buffer.from('OggS\x00\x02\x00\x00', 'latin1')), /not a RIFF\/WAVE/);
    assertInvalid(() => parseWavHeader(Buffer.from('RIFF\x00\x00\x00\x00AVI LIST', 'latin1')), /not a RIFF\/WAVE/);
    assertInvalid(() => parseWavHeader(Buffer.from('RF64\xff\xff\xff\xffWAVEds64', 'latin1')), /RF64/);
    assertInvalid(() => parseWavHeader(riff([dataChunkHeader(4), fmt16])), /data chunk before fmt/);
    assertInvalid(() => parseWavHeader(riff([fmt16, fmt16, dataChunkHeader(4)])), /more than one fmt/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', Buffer.alloc(14)), dataChunkHeader(4)])), /needs at least 16/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 16000, 12, 2)), dataChunkHeader(4)])), /PCM sample size 12/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(3, 1, 16000, 64)), dataChunkHeader(4)])), /IEEE float sample size 64/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(0x55, 1, 16000, 0, 1)), dataChunkHeader(4)])), /format tag 0x0055/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(6, 1, 8000, 16)), dataChunkHeader(4)])), /A-law must have 8 bits/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 2, 16000, 16, 2)), dataChunkHeader(4)])), /block align 2/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 0, 16000, 16, 0)), dataChunkHeader(4)])), /channel count 0/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 0, 16)), dataChunkHeader(4)])), /sample rate 0/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 5_000_000, 16)), dataChunkHeader(4)])), /sample rate 5000000/);
    const shortExt = Buffer.concat([fmtBody(0xfffe, 1, 16000, 16), Buffer.alloc(2)]);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', shortExt), dataChunkHeader(4)])), /EXTENSIBLE fmt chunk is 18 bytes/);
    const badGuid = extensibleFmt(1, 1, 16000, 16);
    badGuid[39] = 0x00;
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', badGuid), dataChunkHeader(4)])), /GUID/);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', extensibleFmt(1, 1, 16000, 16, 20)), dataChunkHeader(4)])), /valid bits/);
  });

  it('bounds the header at 64 KiB', () => {
    // A chunk that claims to be huge is refused as soon as its header is seen, before buffering it.
    const huge = Buffer.alloc(8);
    huge.write('LIST', 0, 'latin1');
    huge.writeUInt32LE(MAX_WAV_HEADER_BYTES, 4);
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 16000, 16)), huge])), /exceed 65536 bytes/);
    // So is a long run of small chunks.
    const many = Array.from({ length: 9000 }, () => chunk('junk', Buffer.alloc(2)));
    assertInvalid(() => parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 16000, 16)), ...many])), /65536/);
    // Just under the bound is fine.
    const filler = chunk('LIST', Buffer.alloc(MAX_WAV_HEADER_BYTES - 12 - 24 - 8 - 8));
    const h = header(parseWavHeader(riff([chunk('fmt ', fmtBody(1, 1, 16000, 16)), filler, dataChunkHeader(2), Buffer.alloc(2)])));
    assert.equal(h.dataOffset, MAX_WAV_HEADER_BYTES);
  });
});

describe('buildWavHeader', () => {
  it('round-trips through parseWavHeader for every encoding', () => {
    const encodings: RawAudioFormat['encoding'][] = ['pcm-u8', 'pcm-s16', 'pcm-s24', 'pcm-s32', 'pcm-f32', 'alaw', 'mulaw'];
    for (const encoding of encodings) {
      const format: RawAudioFormat = { encoding, sampleRate: 24000, channels: 2 };
      const h = buildWavHeader(format, 4800);
      assert.equal(h.length, 44);
      assert.equal(h.readUInt32LE(4), 36 + 4800);
      const parsed = header(parseWavHeader(h));
      assert.deepEqual(parsed.format, format);
      assert.equal(parsed.dataOffset, 44);
      assert.equal(parsed.dataBytes, 4800);
    }
  });

  it('writes the 16 kHz s16 mono header byte-for-byte like the SDK fixture', () => {
    const fixture = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')).subarray(0, 44);
    assert.deepEqual(buildWavHeader({ encoding: 'pcm-s16', sampleRate: 16000, channels: 1 }, 64960), fixture);
  });

  it('writes streaming sentinels when the length is unknown', () => {
    const h = buildWavHeader({ encoding: 'pcm-s16', sampleRate: 16000, channels: 1 });
    assert.equal(h.readUInt32LE(4), 0xffffffff);
    assert.equal(h.readUInt32LE(40), 0xffffffff);
    assert.equal(header(parseWavHeader(h)).dataBytes, undefined);
  });

  it('rejects impossible sizes', () => {
    assert.throws(() => buildWavHeader({ encoding: 'pcm-s16', sampleRate: 16000, channels: 1 }, -1), RangeError);
    assert.throws(() => buildWavHeader({ encoding: 'pcm-s16', sampleRate: 16000, channels: 1 }, 2 ** 32), RangeError);
    assert.throws(() => buildWavHeader({ encoding: 'pcm-s16', sampleRate: 16000, channels: 0 }, 0), RangeError);
  });
});
