import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  DEFAULT_OUTPUT_FORMAT,
  DEFAULT_WS_OUTPUT_FORMAT,
  encodedFormatOf,
  OUTPUT_FORMAT_NAMES,
  parseOutputFormat,
  rawEquivalent,
  requireOutputFormat,
  riffEquivalent,
  SUPPORTED_OUTPUT_FORMATS,
  type OutputFormat,
} from '../../src/domain/synthesis/output-formats.js';
import { isServiceError } from '../../src/kernel/errors.js';

/** Every name in protocol §B.5, copied from the document (streaming list, then RIFF list). */
const SPEC_STREAMING = [
  'raw-8khz-8bit-mono-mulaw',
  'raw-8khz-8bit-mono-alaw',
  'raw-8khz-16bit-mono-pcm',
  'raw-16khz-16bit-mono-pcm',
  'raw-22050hz-16bit-mono-pcm',
  'raw-24khz-16bit-mono-pcm',
  'raw-44100hz-16bit-mono-pcm',
  'raw-48khz-16bit-mono-pcm',
  'raw-16khz-16bit-mono-truesilk',
  'raw-24khz-16bit-mono-truesilk',
  'audio-16khz-32kbitrate-mono-mp3',
  'audio-16khz-64kbitrate-mono-mp3',
  'audio-16khz-128kbitrate-mono-mp3',
  'audio-24khz-48kbitrate-mono-mp3',
  'audio-24khz-96kbitrate-mono-mp3',
  'audio-24khz-160kbitrate-mono-mp3',
  'audio-48khz-96kbitrate-mono-mp3',
  'audio-48khz-192kbitrate-mono-mp3',
  'audio-16khz-16bit-32kbps-mono-opus',
  'audio-24khz-16bit-24kbps-mono-opus',
  'audio-24khz-16bit-48kbps-mono-opus',
  'ogg-16khz-16bit-mono-opus',
  'ogg-24khz-16bit-mono-opus',
  'ogg-48khz-16bit-mono-opus',
  'webm-16khz-16bit-mono-opus',
  'webm-24khz-16bit-mono-opus',
  'webm-24khz-16bit-24kbps-mono-opus',
  'audio-16khz-16kbps-mono-siren',
  'amr-wb-16000hz',
  'g722-16khz-64kbps',
  'audio-24khz-16bit-mono-flac',
  'audio-48khz-16bit-mono-flac',
];
const SPEC_RIFF = [
  'riff-8khz-8bit-mono-mulaw',
  'riff-8khz-8bit-mono-alaw',
  'riff-8khz-16bit-mono-pcm',
  'riff-16khz-16bit-mono-pcm',
  'riff-22050hz-16bit-mono-pcm',
  'riff-24khz-16bit-mono-pcm',
  'riff-44100hz-16bit-mono-pcm',
  'riff-48khz-16bit-mono-pcm',
  'riff-16khz-16kbps-mono-siren',
];
const SPEC_NAMES = [...SPEC_STREAMING, ...SPEC_RIFF];
const UNSUPPORTED = new Set([
  'raw-16khz-16bit-mono-truesilk',
  'raw-24khz-16bit-mono-truesilk',
  'audio-16khz-16kbps-mono-siren',
  'riff-16khz-16kbps-mono-siren',
  'amr-wb-16000hz',
]);

function get(name: string): OutputFormat {
  const format = parseOutputFormat(name);
  assert.ok(format !== undefined, `${name} does not parse`);
  return format;
}

/** Rate as the names spell it: 8khz → 8000, 22050hz → 22050. */
function rateInName(name: string): number {
  const m = /(\d+)(khz|hz)/.exec(name);
  assert.ok(m, `no rate in ${name}`);
  return Number(m[1]) * (m[2] === 'khz' ? 1000 : 1);
}

describe('output formats', () => {
  it('knows exactly the §B.5 names (41), each once', () => {
    assert.equal(SPEC_NAMES.length, 41);
    assert.deepEqual([...OUTPUT_FORMAT_NAMES].sort(), [...SPEC_NAMES].sort());
    assert.equal(new Set(OUTPUT_FORMAT_NAMES).size, OUTPUT_FORMAT_NAMES.length);
  });

  it('parses every §B.5 name to a canonical, self-consistent description', () => {
    for (const name of SPEC_NAMES) {
      const f = get(name);
      assert.equal(f.name, name);
      assert.equal(f.channels, 1, name);
      assert.equal(f.sampleRate, rateInName(name), `${name} sample rate`);
      assert.equal(f.streaming, !name.startsWith('riff-'), `${name} streaming`);
      assert.equal(f.supported, !UNSUPPORTED.has(name), `${name} supported`);
      if (f.supported) {
        assert.equal(f.unsupportedReason, undefined, name);
      } else {
        assert.ok(f.unsupportedReason !== undefined && f.unsupportedReason.length > 20, `${name} needs a reason`);
        // The reason must fit a WebSocket close frame (123 bytes) together with the name.
        assert.ok(Buffer.byteLength(`Unsupported output format: ${name}. ${f.unsupportedReason}`) <= 123, `${name}: reason too long`);
      }
      assert.match(f.mimeType, /^audio\/[A-Za-z0-9.+-]+$/, `${name} mime type`);
      const kbps = /(\d+)kbitrate|(\d+)kbps/.exec(name);
      if (kbps !== null) assert.equal(f.bitrateKbps, Number(kbps[1] ?? kbps[2]), `${name} bitrate`);
    }
  });

  it('classifies codecs, containers and content types', () => {
    const expect: [string, Partial<OutputFormat>][] = [
      ['raw-16khz-16bit-mono-pcm', { container: 'raw', codec: 'pcm', bitsPerSample: 16, bytesPerSecond: 32000, mimeType: 'audio/x-raw' }],
      ['riff-22050hz-16bit-mono-pcm', { container: 'riff', codec: 'pcm', bitsPerSample: 16, bytesPerSecond: 44100, mimeType: 'audio/x-wav' }],
      ['raw-8khz-8bit-mono-mulaw', { container: 'raw', codec: 'mulaw', bitsPerSample: 8, bytesPerSecond: 8000, mimeType: 'audio/basic' }],
      ['raw-8khz-8bit-mono-alaw', { container: 'raw', codec: 'alaw', bitsPerSample: 8, mimeType: 'audio/x-alaw-basic' }],
      ['riff-8khz-8bit-mono-alaw', { container: 'riff', codec: 'alaw', bitsPerSample: 8, mimeType: 'audio/x-wav' }],
      ['audio-24khz-48kbitrate-mono-mp3', { container: 'mp3', codec: 'mp3', bitrateKbps: 48, bytesPerSecond: 6000, mimeType: 'audio/mpeg' }],
      ['ogg-48khz-16bit-mono-opus', { container: 'ogg', codec: 'opus', bitrateKbps: 96, mimeType: 'audio/ogg' }],
      ['webm-16khz-16bit-mono-opus', { container: 'webm', codec: 'opus', bitrateKbps: 32, mimeType: 'audio/webm' }],
      ['audio-24khz-16bit-48kbps-mono-opus', { container: 'ogg', codec: 'opus', bitrateKbps: 48, mimeType: 'audio/ogg' }],
      ['audio-48khz-16bit-mono-flac', { container: 'flac', codec: 'flac', mimeType: 'audio/flac' }],
      ['g722-16khz-64kbps', { container: 'g722', codec: 'g722', bitrateKbps: 64, bytesPerSecond: 8000 }],
      ['amr-wb-16000hz', { container: 'amr', codec: 'amr-wb', supported: false }],
      ['raw-24khz-16bit-mono-truesilk', { container: 'silk', codec: 'silk', supported: false }],
      ['riff-16khz-16kbps-mono-siren', { container: 'riff', codec: 'siren', supported: false }],
    ];
    for (const [name, fields] of expect) {
      const f = get(name);
      for (const [key, value] of Object.entries(fields)) {
        assert.equal((f as unknown as Record<string, unknown>)[key], value, `${name}.${key}`);
      }
    }
    // Raw Opus is delivered in Ogg, and says so.
    assert.match(get('audio-16khz-16bit-32kbps-mono-opus').note ?? '', /Ogg/);
    assert.equal(get('ogg-16khz-16bit-mono-opus').note, undefined);
  });

  it('is case-insensitive and ignores surrounding whitespace', () => {
    assert.equal(parseOutputFormat('RIFF-24KHZ-16BIT-MONO-PCM'), get('riff-24khz-16bit-mono-pcm'));
    assert.equal(parseOutputFormat('Audio-24Khz-48KBitRate-Mono-Mp3')?.name, 'audio-24khz-48kbitrate-mono-mp3');
    assert.equal(parseOutputFormat(' webm-24khz-16bit-24kbps-mono-opus\t')?.name, 'webm-24khz-16bit-24kbps-mono-opus');
    assert.equal(parseOutputFormat('AMR-WB-16000HZ')?.supported, false);
    for (const name of SPEC_NAMES) assert.equal(parseOutputFormat(name.toUpperCase())?.name, name);
  });

  it('returns undefined for unknown names', () => {
    for (const name of ['', 'pcm', 'riff', 'raw-16khz-16bit-stereo-pcm', 'riff-16khz-16bit-mono-pcm ;', 'amr-wb-16000h', 'audio-24khz-48kbitrate-mono-mp4', 'constructor', '__proto__']) {
      assert.equal(parseOutputFormat(name), undefined, JSON.stringify(name));
    }
  });

  it('maps riff ↔ raw equivalents', () => {
    for (const name of SPEC_RIFF) {
      const riff = get(name);
      const raw = rawEquivalent(riff);
      assert.notEqual(raw, riff);
      assert.equal(raw.container === 'raw' || raw.container === 'siren', true, name);
      assert.equal(raw.codec, riff.codec);
      assert.equal(raw.sampleRate, riff.sampleRate);
      assert.equal(raw.supported, riff.supported);
      assert.equal(riffEquivalent(raw), riff, `${raw.name} back to ${name}`);
    }
    assert.equal(rawEquivalent(get('riff-16khz-16bit-mono-pcm')).name, 'raw-16khz-16bit-mono-pcm');
    assert.equal(rawEquivalent(get('riff-8khz-8bit-mono-alaw')).name, 'raw-8khz-8bit-mono-alaw');
    assert.equal(rawEquivalent(get('riff-16khz-16kbps-mono-siren')).name, 'audio-16khz-16kbps-mono-siren');
    // Non-RIFF formats are their own raw equivalent; only PCM/G.711/Siren have a RIFF form.
    const mp3 = get('audio-16khz-32kbitrate-mono-mp3');
    assert.equal(rawEquivalent(mp3), mp3);
    assert.equal(riffEquivalent(mp3), undefined);
    assert.equal(riffEquivalent(get('raw-16khz-16bit-mono-truesilk')), undefined);
  });

  it('has the SDK defaults', () => {
    assert.equal(DEFAULT_OUTPUT_FORMAT.name, 'riff-16khz-16bit-mono-pcm');
    assert.equal(DEFAULT_WS_OUTPUT_FORMAT.name, 'raw-16khz-16bit-mono-pcm');
    assert.equal(rawEquivalent(DEFAULT_OUTPUT_FORMAT), DEFAULT_WS_OUTPUT_FORMAT);
  });

  it('requireOutputFormat throws UnsupportedOutputFormat for unknown and unproducible names', () => {
    assert.equal(requireOutputFormat('Riff-16khz-16bit-mono-pcm'), DEFAULT_OUTPUT_FORMAT);
    for (const [name, pattern] of [
      ['amr-wb-16000hz', /^Unsupported output format: amr-wb-16000hz\. AMR-WB cannot be produced/],
      ['RAW-16KHZ-16BIT-MONO-TRUESILK', /^Unsupported output format: raw-16khz-16bit-mono-truesilk\. SILK/],
      ['riff-16khz-16kbps-mono-siren', /Siren is not supported/],
      ['mp4', /^Unsupported output format: mp4\.$/],
    ] as const) {
      assert.throws(
        () => requireOutputFormat(name),
        (err: unknown) => isServiceError(err) && err.code === 'UnsupportedOutputFormat' && err.status === 400 && pattern.test(err.message),
        name,
      );
    }
    // A huge bogus name is not echoed back whole.
    assert.throws(
      () => requireOutputFormat('x'.repeat(10_000)),
      (err: unknown) => isServiceError(err) && err.message.length < 100,
    );
  });

  it('tells which formats need the compressed encoder', () => {
    assert.equal(SUPPORTED_OUTPUT_FORMATS.length, 36);
    for (const f of SUPPORTED_OUTPUT_FORMATS) {
      const encoded = encodedFormatOf(f);
      if (f.codec === 'pcm' || f.codec === 'mulaw' || f.codec === 'alaw') {
        assert.equal(encoded, undefined, f.name);
      } else {
        assert.ok(encoded !== undefined, f.name);
        assert.equal(encoded.codec, f.codec);
        assert.equal(encoded.container, f.container);
      }
    }
    assert.equal(encodedFormatOf(get('amr-wb-16000hz')), undefined);
  });

  it('descriptions are immutable', () => {
    const f = get('raw-16khz-16bit-mono-pcm');
    assert.ok(Object.isFrozen(f));
    assert.ok(Object.isFrozen(OUTPUT_FORMAT_NAMES));
  });
});
