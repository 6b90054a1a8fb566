import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { containerFromContentType, sniffContainer } from '../../src/kernel/audio/sniff.js';
import { SDK_AUDIO } from '../helpers/paths.js';


/** MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, no padding: frame length 417 bytes. */
const MP3_HEADER = [0xff, 0xfb, 0x90, 0x64];

function mp3Frames(count: number, frameLength = 417): Buffer {
  const out = Buffer.alloc(count * frameLength, 0x55);
  for (let i = 0; i < count; i++) Buffer.from(MP3_HEADER).copy(out, i * frameLength);
  return out;
}

describe('sniffContainer', () => {
  it('recognises WAV fixtures, G.711-in-WAV included', () => {
    for (const file of ['whatstheweatherlike.wav', 'whatstheweatherlike.alaw', 'whatstheweatherlike.mulaw', 'initialSilence5s.wav']) {
      assert.equal(sniffContainer(readFileSync(join(SDK_AUDIO, file)).subarray(0, 64)), 'wav', file);
    }
  });

  it('recognises the magic numbers', () => {
    assert.equal(sniffContainer(Buffer.from('OggS\x00\x02\x00\x00\x00\x00\x00\x00', 'latin1')), 'ogg');
    assert.equal(sniffContainer(Buffer.from([0x1a, 0x45, 0xdf, 0xa3, 0x9f, 0x42, 0x86, 0x81, 0x01, 0x42, 0xf7, 0x81])), 'webm');
    assert.equal(sniffContainer(Buffer.from('fLaC\x00\x00\x00\x22\x10\x00\x10\x00', 'latin1')), 'flac');
    assert.equal(sniffContainer(Buffer.from('ID3\x04\x00\x00\x00\x00\x00\x23TSSE', 'latin1')), 'mp3');
  });

  it('recognises MPEG audio frame syncs, and checks the next frame when it is in the buffer', () => {
    assert.equal(sniffContainer(Buffer.from(MP3_HEADER)), 'mp3');
    assert.equal(sniffContainer(mp3Frames(3)), 'mp3');
    // MPEG-2 Layer III 32 kbit/s 16 kHz (what `ffmpeg -ar 16000 -b:a 32k` writes): 72·32000/16000 = 144 bytes.
    const lsf = Buffer.alloc(300);
    Buffer.from([0xff, 0xf3, 0x48, 0xc4]).copy(lsf, 0);
    Buffer.from([0xff, 0xf3, 0x48, 0xc4]).copy(lsf, 144);
    assert.equal(sniffContainer(lsf), 'mp3');
    // A plausible header followed, one frame later, by something that is not a header: raw PCM.
    const fake = mp3Frames(1, 600);
    assert.equal(sniffContainer(fake), 'raw');
  });

  it('does not take invalid headers or AAC ADTS for MP3', () => {
    assert.equal(sniffContainer(Buffer.from([0xff, 0xf1, 0x50, 0x80, 0x00, 0x1f, 0xfc])), 'raw'); // ADTS: layer bits 00
    assert.equal(sniffContainer(Buffer.from([0xff, 0xfb, 0xf0, 0x64])), 'raw'); // bit-rate index 15
    assert.equal(sniffContainer(Buffer.from([0xff, 0xfb, 0x9c, 0x64])), 'raw'); // sample-rate index 3
    assert.equal(sniffContainer(Buffer.from([0xff, 0xeb, 0x90, 0x64])), 'raw'); // version bits 01 (reserved)
    assert.equal(sniffContainer(Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff])), 'raw'); // s16 PCM of -1s
  });

  it('calls everything else raw', () => {
    assert.equal(sniffContainer(new Uint8Array(0)), 'raw');
    assert.equal(sniffContainer(Buffer.from('RIF')), 'raw');
    assert.equal(sniffContainer(Buffer.from('RIFF\x10\x00\x00\x00AVI ', 'latin1')), 'raw');
    assert.equal(sniffContainer(new Uint8Array(64)), 'raw');
    // Speech samples from the middle of the 16 kHz fixture.
    const pcm = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
    for (let offset = 44; offset + 4096 < pcm.length; offset += 2 * 997) assert.equal(sniffContainer(pcm.subarray(offset, offset + 4096)), 'raw', `offset ${offset}`);
  });
});

describe('containerFromContentType', () => {
  it('maps WAV types, keeping a raw fallback from the parameters', () => {
    assert.deepEqual(containerFromContentType('audio/wav; codecs=audio/pcm; samplerate=16000'), {
      kind: 'wav',
      rawFallback: { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 },
    });
    assert.deepEqual(containerFromContentType('audio/x-wav'), { kind: 'wav', rawFallback: { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 } });
    assert.deepEqual(containerFromContentType('Audio/WAV;Codecs="audio/PCM";SampleRate=8000'), {
      kind: 'wav',
      rawFallback: { encoding: 'pcm-s16', sampleRate: 8000, channels: 1 },
    });
    assert.deepEqual(containerFromContentType('audio/wave; codecs=audio/mulaw; samplerate=8000'), {
      kind: 'wav',
      rawFallback: { encoding: 'mulaw', sampleRate: 8000, channels: 1 },
    });
  });

  it('maps compressed types', () => {
    assert.deepEqual(containerFromContentType('audio/ogg; codecs=opus'), { kind: 'compressed', container: 'ogg' });
    assert.deepEqual(containerFromContentType('audio/ogg'), { kind: 'compressed', container: 'ogg' });
    assert.deepEqual(containerFromContentType('audio/webm'), { kind: 'compressed', container: 'webm' });
    assert.deepEqual(containerFromContentType('audio/webm;codecs=opus'), { kind: 'compressed', container: 'webm' });
    assert.deepEqual(containerFromContentType('audio/mpeg'), { kind: 'compressed', container: 'mp3' });
    assert.deepEqual(containerFromContentType('audio/flac'), { kind: 'compressed', container: 'flac' });
    assert.deepEqual(containerFromContentType('audio/opus'), { kind: 'compressed', container: 'unknown' });
  });

  it('maps raw types with their rate and channel parameters', () => {
    assert.deepEqual(containerFromContentType('audio/l16; rate=16000'), { kind: 'raw', format: { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 } });
    assert.deepEqual(containerFromContentType('audio/L16; rate=8000; channels=2'), {
      kind: 'raw',
      format: { encoding: 'pcm-s16', sampleRate: 8000, channels: 2 },
    });
    assert.deepEqual(containerFromContentType('audio/l16'), { kind: 'raw', format: { encoding: 'pcm-s16', sampleRate: 16000, channels: 1 } });
    assert.deepEqual(containerFromContentType('audio/basic'), { kind: 'raw', format: { encoding: 'mulaw', sampleRate: 8000, channels: 1 } });
    assert.deepEqual(containerFromContentType('audio/PCMA; rate=16000'), { kind: 'raw', format: { encoding: 'alaw', sampleRate: 16000, channels: 1 } });
  });

  it('returns undefined for unsupported types and malformed parameters', () => {
    for (const type of [
      '',
      'text/plain',
      'application/octet-stream',
      'audio/aac',
      'audio/wav; codecs=audio/flac',
      'audio/l16; rate=abc',
      'audio/l16; rate=0',
      'audio/l16; rate=99999999999',
      'audio/l16; channels=0',
      `audio/wav; x=${'a'.repeat(1000)}`,
    ]) {
      assert.equal(containerFromContentType(type), undefined, type);
    }
  });
});
