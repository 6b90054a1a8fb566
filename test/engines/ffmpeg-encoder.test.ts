import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AudioEncoderSpec, CompressedAudioEncoder } from '../../src/domain/ports/audio.js';
import { createAudioOutput, type AudioOutput, type AudioOutputOptions } from '../../src/domain/synthesis/audio-output.js';
import { encodedFormatOf, parseOutputFormat, SUPPORTED_OUTPUT_FORMATS, type OutputFormat } from '../../src/domain/synthesis/output-formats.js';
import { FfmpegAudioEncoder, ffmpegEncodeArgs, type FfmpegEncodeStream } from '../../src/engines/ffmpeg/encoder.js';
import { decodeAlaw, decodeMulaw } from '../../src/kernel/audio/g711.js';
import { parseWavHeader } from '../../src/kernel/audio/wav.js';
import { isServiceError, type ServiceError } from '../../src/kernel/errors.js';

const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';
const FFPROBE = process.env.FFPROBE_PATH ?? 'ffprobe';

function hasTools(): boolean {
  try {
    execFileSync(FFMPEG, ['-version'], { stdio: 'ignore' });
    execFileSync(FFPROBE, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = hasTools() ? false : 'ffmpeg/ffprobe are not installed';
const SECONDS = 2;
const INPUT_RATES = [16_000, 22_050] as const;

/**
 * A speech-like test signal, defined analytically so it can be evaluated at any rate: a glottal
 * pulse train (16 harmonics, 1/k amplitudes) whose pitch glides between 100 and 200 Hz, with a
 * 4 Hz syllable envelope. The top harmonic stays below 3.4 kHz, inside every output's passband
 * (8 kHz G.711 included), so a correct resampler reproduces it exactly at any output rate.
 */
function speechLike(rate: number, seconds = SECONDS): Int16Array {
  const n = Math.round(rate * seconds);
  const out = new Int16Array(n);
  const glide = 0.7;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    // Phase of the fundamental: integral of f0(t) = 150 + 50 sin(2π·0.7·t).
    const phase = 2 * Math.PI * (150 * t - (50 / (2 * Math.PI * glide)) * (Math.cos(2 * Math.PI * glide * t) - 1));
    let v = 0;
    for (let k = 1; k <= 16; k++) v += Math.sin(k * phase) / k;
    const envelope = 0.25 + 0.75 * Math.abs(Math.sin(2 * Math.PI * 2 * t));
    out[i] = Math.round(5000 * envelope * v);
  }
  return out;
}

function s16(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

/**
 * Best normalised cross-correlation of `b` against `a` for lags in [minLag, maxLag] (b[i + lag] ~ a[i]),
 * over a window in the middle of `a` (enough to judge, cheap enough for 48 kHz).
 */
function bestCorrelation(a: Int16Array, b: Int16Array, minLag: number, maxLag: number): { ncc: number; lag: number } {
  const window = Math.min(8000, Math.floor(a.length / 2));
  const start = Math.floor((a.length - window) / 2);
  let best = { ncc: -1, lag: 0 };
  for (let lag = minLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = start; i < start + window; i++) {
      const j = i + lag;
      if (j < 0 || j >= b.length) continue;
      const x = a[i] ?? 0;
      const y = b[j] ?? 0;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    const ncc = ab / Math.sqrt(aa * bb || 1);
    if (ncc > best.ncc) best = { ncc, lag };
  }
  return best;
}

interface Probe {
  formatName: string;
  codecName: string;
  sampleRate: number;
  channels: number;
  bitRate: number | undefined;
  /** End of the last packet, in seconds (works for streams whose header has no duration, like FLAC or WebM written to a pipe). */
  packetEnd: number;
}

function ffprobe(file: string): Probe {
  const info = JSON.parse(execFileSync(FFPROBE, ['-v', 'error', '-show_streams', '-show_format', '-of', 'json', file]).toString('utf8')) as {
    streams: { codec_type: string; codec_name: string; sample_rate: string; channels: number }[];
    format: { format_name: string; bit_rate?: string };
  };
  assert.equal(info.streams.length, 1, 'one stream');
  const stream = info.streams[0];
  assert.ok(stream !== undefined);
  assert.equal(stream.codec_type, 'audio');
  const packets = execFileSync(FFPROBE, ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'packet=pts_time,duration_time', '-of', 'csv=p=0', file])
    .toString('utf8')
    .trim()
    .split('\n');
  let packetEnd = 0;
  for (const line of packets) {
    const [pts, duration] = line.split(',').map(Number);
    if (pts !== undefined && duration !== undefined && Number.isFinite(pts) && Number.isFinite(duration)) packetEnd = Math.max(packetEnd, pts + duration);
  }
  return {
    formatName: info.format.format_name,
    codecName: stream.codec_name,
    sampleRate: Number(stream.sample_rate),
    channels: stream.channels,
    bitRate: info.format.bit_rate === undefined ? undefined : Number(info.format.bit_rate),
    packetEnd,
  };
}

/** Decodes any file ffmpeg can read to mono s16 at `rate`. */
function ffmpegDecode(file: string, rate: number): Int16Array {
  const pcm = execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-i', file, '-f', 's16le', '-ac', '1', '-ar', String(rate), 'pipe:1'], {
    maxBuffer: 64 * 1024 * 1024,
  });
  return s16(pcm);
}

/** The OpusHead "input sample rate" field (RFC 7845 §5.1), found in Ogg and WebM alike. */
function opusHead(bytes: Buffer): { channels: number; inputRate: number } {
  const at = bytes.indexOf('OpusHead', 0, 'latin1');
  assert.ok(at >= 0, 'no OpusHead');
  return { channels: bytes.readUInt8(at + 9), inputRate: bytes.readUInt32LE(at + 12) };
}

const PROBE_NAMES: Record<string, { formatName: string; codecName: string }> = {
  mp3: { formatName: 'mp3', codecName: 'mp3' },
  ogg: { formatName: 'ogg', codecName: 'opus' },
  webm: { formatName: 'matroska,webm', codecName: 'opus' },
  flac: { formatName: 'flac', codecName: 'flac' },
  g722: { formatName: 'g722', codecName: 'adpcm_g722' },
};
const EXTENSIONS: Record<string, string> = { raw: 'raw', riff: 'wav', mp3: 'mp3', ogg: 'ogg', webm: 'webm', flac: 'flac', g722: 'g722' };
const RIFF_CODECS: Record<string, string> = { pcm: 'pcm_s16le', mulaw: 'pcm_mulaw', alaw: 'pcm_alaw' };
/** Minimum waveform correlation with the reference after an encode/decode round trip. */
const MIN_NCC: Record<string, number> = { pcm: 0.999, mulaw: 0.995, alaw: 0.995, flac: 0.999, g722: 0.97, mp3: 0.9, opus: 0.8 };

function format(name: string): OutputFormat {
  const f = parseOutputFormat(name);
  assert.ok(f !== undefined, name);
  return f;
}

interface Run {
  bytes: Buffer;
  /** Bytes that had come out before end() was called. */
  bytesBeforeEnd: number;
  chunks: number;
}

/** Collects everything the output emits; resolves when its readable ends. */
function collect(output: AudioOutput): { done: Promise<Buffer>; parts: Buffer[] } {
  const parts: Buffer[] = [];
  const done = (async () => {
    for await (const chunk of output.chunks) parts.push(chunk);
    return Buffer.concat(parts);
  })();
  return { done, parts };
}

/**
 * Waits until the output has produced something and then stopped growing for `quietMs` (or `maxMs`
 * passed). Waiting for the first byte first keeps a slow ffmpeg start (loaded machine) from being
 * mistaken for "nothing before end()".
 */
async function settle(output: AudioOutput, quietMs = 200, maxMs = 5000): Promise<void> {
  const deadline = Date.now() + maxMs;
  while (output.bytesOut === 0 && Date.now() < deadline) await sleep(10);
  let last = -1;
  let since = Date.now();
  while (Date.now() < deadline) {
    if (output.bytesOut !== last) {
      last = output.bytesOut;
      since = Date.now();
    } else if (Date.now() - since >= quietMs) {
      return;
    }
    await sleep(10);
  }
}

/** Streams `pcm` through a fresh output in small, irregular pieces (60..400 samples), waits for it to settle, then ends it. */
async function encode(f: OutputFormat, rate: number, pcm: Int16Array, encoder: CompressedAudioEncoder, options?: AudioOutputOptions): Promise<Run> {
  const output = createAudioOutput(f, rate, encoder, options);
  try {
    const { done, parts } = collect(output);
    let seed = 7;
    for (let i = 0; i < pcm.length; ) {
      seed = (seed * 1103515245 + 12345) >>> 0;
      const n = 60 + (seed % 341);
      await output.write(pcm.subarray(i, i + n));
      i += n;
    }
    // PCM and G.711 are pushed synchronously by write(); an encoder needs a moment to catch up.
    if (encodedFormatOf(f) !== undefined) await settle(output);
    const bytesBeforeEnd = output.bytesOut;
    await output.end();
    const bytes = await done;
    assert.equal(output.bytesOut, bytes.length, 'bytesOut accounts for every byte');
    assert.equal(output.inputSamples, pcm.length);
    return { bytes, bytesBeforeEnd, chunks: parts.length };
  } finally {
    // Harmless after a normal end; after a failure it kills ffmpeg instead of leaving it blocked.
    output.destroy();
  }
}

/** Rejects with `describe()` in the message if `promise` takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, describe: () => string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still waiting after ${ms} ms: ${describe()}`)), ms);
  });
  try {
    return await Promise.race([promise, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Flow-control state of an output and its encoder, for diagnosing a stall. */
function describeStreams(output: AudioOutput, recording: RecordingEncoder): string {
  const encoderStream = recording.opened.at(-1);
  return JSON.stringify({
    bytesOut: output.bytesOut,
    inputSamples: output.inputSamples,
    readable: { length: output.readable.readableLength, flowing: output.readable.readableFlowing, ended: output.readable.readableEnded },
    encoder:
      encoderStream === undefined
        ? null
        : {
            pid: encoderStream.pid,
            paused: encoderStream.isPaused(),
            readableLength: encoderStream.readableLength,
            writableLength: encoderStream.writableLength,
            needDrain: encoderStream.writableNeedDrain,
            destroyed: encoderStream.destroyed,
          },
  });
}

function isAlive(pid: number): boolean {
  try {
    // Signal 0 only checks existence; a zombie (exited but unreaped) still counts as alive.
    process.kill(pid, 0);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw err;
  }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid)) return true;
    await sleep(20);
  }
  return !isAlive(pid);
}

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}

/** An encoder that remembers the streams it opened, to reach their ffmpeg pids. */
class RecordingEncoder implements CompressedAudioEncoder {
  readonly opened: FfmpegEncodeStream[] = [];
  constructor(private readonly inner: FfmpegAudioEncoder) {}
  open(spec: AudioEncoderSpec): Duplex {
    const stream = this.inner.open(spec);
    this.opened.push(stream);
    return stream;
  }
}

function assertServiceError(err: unknown, code: string, status: number): ServiceError {
  assert.ok(isServiceError(err), `expected a ServiceError, got ${String(err)}`);
  assert.equal(err.code, code);
  assert.equal(err.status, status);
  return err;
}

describe('createAudioOutput with FfmpegAudioEncoder', { skip }, () => {
  const encoder = new FfmpegAudioEncoder({ ffmpegPath: FFMPEG });
  let dir = '';

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parlance-encoder-'));
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('builds the documented low-latency command lines', () => {
    assert.deepEqual(ffmpegEncodeArgs({ codec: 'opus', container: 'ogg', sampleRate: 24_000, bitrateKbps: 48 }), [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-probesize',
      '32',
      '-analyzeduration',
      '0',
      '-f',
      's16le',
      '-ar',
      '24000',
      '-ac',
      '1',
      '-i',
      'pipe:0',
      '-map_metadata',
      '-1',
      '-fflags',
      '+bitexact',
      '-c:a',
      'libopus',
      '-b:a',
      '48k',
      '-vbr',
      'constrained',
      '-frame_duration',
      '20',
      '-application',
      'audio',
      '-ac',
      '1',
      '-f',
      'ogg',
      '-page_duration',
      '60000',
      '-flush_packets',
      '1',
      'pipe:1',
    ]);
    const webm = ffmpegEncodeArgs({ codec: 'opus', container: 'webm', sampleRate: 16_000, bitrateKbps: 32 });
    assert.deepEqual(webm.slice(webm.indexOf('webm') - 1, -3), ['-f', 'webm', '-live', '1', '-cluster_time_limit', '100']);
    const mp3 = ffmpegEncodeArgs({ codec: 'mp3', container: 'mp3', sampleRate: 16_000, bitrateKbps: 32 });
    assert.ok(mp3.join(' ').includes('-c:a libmp3lame -b:a 32k -ac 1 -f mp3 -id3v2_version 0 -write_xing 0 -flush_packets 1'), mp3.join(' '));
    // Settings ffmpeg would refuse are rejected up front, as our fault (500), not the client's.
    for (const bad of [
      { codec: 'g722', container: 'g722', sampleRate: 8_000 },
      { codec: 'opus', container: 'ogg', sampleRate: 22_050, bitrateKbps: 32 },
      { codec: 'opus', container: 'mp3', sampleRate: 16_000, bitrateKbps: 32 },
      { codec: 'mp3', container: 'mp3', sampleRate: 16_000 },
    ] as AudioEncoderSpec[]) {
      assert.throws(() => encoder.open(bad), (err: unknown) => assertServiceError(err, 'InternalError', 500) !== undefined, JSON.stringify(bad));
    }
  });

  for (const f of SUPPORTED_OUTPUT_FORMATS) {
    for (const rate of INPUT_RATES) {
      it(`${f.name} from ${rate} Hz input`, { timeout: 30_000 }, async (t) => {
        const input = speechLike(rate);
        const reference = speechLike(f.sampleRate);
        const expectedSamples = Math.ceil((input.length * f.sampleRate) / rate);
        const run = await encode(f, rate, input, encoder);
        const file = join(dir, `${f.name}-${rate}.${EXTENSIONS[f.container] ?? 'bin'}`);
        writeFileSync(file, run.bytes);
        let decoded: Int16Array;
        let detail = '';

        if (f.container === 'raw') {
          const bytesPerSample = f.codec === 'pcm' ? 2 : 1;
          const expectedBytes = SECONDS * f.sampleRate * bytesPerSample;
          assert.ok(Math.abs(run.bytes.length - expectedBytes) <= expectedBytes * 0.01, `${run.bytes.length} bytes vs ${expectedBytes}`);
          assert.equal(run.bytes.length, expectedSamples * bytesPerSample, 'exactly ceil(n·out/in) samples');
          decoded = f.codec === 'mulaw' ? decodeMulaw(run.bytes) : f.codec === 'alaw' ? decodeAlaw(run.bytes) : s16(run.bytes);
        } else if (f.container === 'riff') {
          const header = parseWavHeader(run.bytes);
          assert.ok(!('needMore' in header), 'complete WAV header');
          assert.equal(header.dataOffset, 44);
          assert.equal(header.dataBytes, undefined, 'streaming sizes (0xFFFFFFFF)');
          assert.equal(run.bytes.readUInt32LE(4), 0xffffffff);
          assert.deepEqual(header.format, { encoding: f.codec === 'pcm' ? 'pcm-s16' : f.codec, sampleRate: f.sampleRate, channels: 1 });
          assert.equal(run.bytes.readUInt16LE(20), f.codec === 'pcm' ? 1 : f.codec === 'alaw' ? 6 : 7, 'format tag');
          const data = run.bytes.subarray(44);
          assert.equal(data.length, expectedSamples * header.blockAlign);
          const probe = ffprobe(file);
          assert.equal(probe.formatName, 'wav');
          assert.equal(probe.codecName, RIFF_CODECS[f.codec]);
          assert.equal(probe.sampleRate, f.sampleRate);
          assert.equal(probe.channels, 1);
          assert.ok(Math.abs(probe.packetEnd - SECONDS) <= SECONDS * 0.05, `ffprobe duration ${probe.packetEnd}`);
          decoded = f.codec === 'mulaw' ? decodeMulaw(data) : f.codec === 'alaw' ? decodeAlaw(data) : s16(data);
        } else {
          const probe = ffprobe(file);
          const names = PROBE_NAMES[f.container];
          assert.ok(names !== undefined);
          assert.equal(probe.formatName, names.formatName);
          assert.equal(probe.codecName, names.codecName);
          assert.equal(probe.channels, 1);
          if (f.codec === 'opus') {
            // Opus always decodes at 48 kHz; the encoded rate is the OpusHead "input sample rate".
            assert.equal(probe.sampleRate, 48_000);
            assert.deepEqual(opusHead(run.bytes), { channels: 1, inputRate: f.sampleRate });
          } else {
            assert.equal(probe.sampleRate, f.sampleRate);
          }
          if (f.codec === 'mp3' || f.codec === 'g722') assert.equal(probe.bitRate, (f.bitrateKbps ?? 0) * 1000, 'constant bitrate');
          if (f.codec === 'mp3') assert.notEqual(run.bytes.subarray(0, 3).toString('latin1'), 'ID3', 'no ID3 tag');
          if (f.codec === 'opus') {
            // Constrained VBR keeps close to the named bitrate (the slack covers container overhead and headers).
            const kbps = (run.bytes.length * 8) / SECONDS / 1000;
            assert.ok(kbps <= (f.bitrateKbps ?? 0) * 1.2 + 2, `${kbps.toFixed(1)} kbit/s for a ${f.bitrateKbps} kbit/s format`);
          }
          assert.ok(Math.abs(probe.packetEnd - SECONDS) <= SECONDS * 0.05, `ffprobe duration ${probe.packetEnd}`);
          detail = `${probe.formatName}/${probe.codecName} ${probe.packetEnd.toFixed(3)} s, ${((run.bytes.length * 8) / SECONDS / 1000).toFixed(1)} kbit/s`;
          // Streaming: most of the audio came out while input could still have been written.
          assert.ok(run.bytesBeforeEnd >= run.bytes.length * 0.5, `only ${run.bytesBeforeEnd} of ${run.bytes.length} bytes before end()`);
          decoded = ffmpegDecode(file, f.sampleRate);
        }

        if (f.container === 'raw' || f.container === 'riff') {
          // PCM and G.711 are written as soon as they are computed, header (if any) in the first chunk.
          assert.ok(run.bytesBeforeEnd >= run.bytes.length * 0.9, `only ${run.bytesBeforeEnd} of ${run.bytes.length} bytes before end()`);
        }
        // Lossy codecs delay the signal (LAME's 1105-sample encoder delay is not trimmed without a
        // Xing/LAME tag); PCM must be exactly aligned (the resampler is zero-phase).
        const maxLag = f.codec === 'pcm' || f.codec === 'mulaw' || f.codec === 'alaw' ? 0 : 1300;
        const { ncc, lag } = bestCorrelation(reference, decoded, -maxLag, maxLag);
        t.diagnostic(`${run.bytes.length} bytes in ${run.chunks} chunks (${run.bytesBeforeEnd} before end), ncc ${ncc.toFixed(4)} at lag ${lag} ${detail}`);
        assert.ok(ncc >= (MIN_NCC[f.codec] ?? 1), `correlation ${ncc.toFixed(4)} at lag ${lag}`);
      });
    }
  }

  it('writes exact RIFF sizes when the total is known, padding short input and refusing extra', { timeout: 20_000 }, async () => {
    const input = speechLike(22_050, 1);
    for (const name of ['riff-24khz-16bit-mono-pcm', 'riff-8khz-8bit-mono-mulaw']) {
      const f = format(name);
      const bps = f.codec === 'pcm' ? 2 : 1;
      const expectedSamples = Math.ceil((input.length * f.sampleRate) / 22_050);

      const exact = await encode(f, 22_050, input, encoder, { totalInputSamples: input.length });
      const header = parseWavHeader(exact.bytes);
      assert.ok(!('needMore' in header));
      assert.equal(header.dataBytes, expectedSamples * bps, name);
      const dataBytes = expectedSamples * bps;
      // RIFF pads odd chunks to an even length; the pad byte is part of the file and of the RIFF size.
      assert.equal(exact.bytes.length, 44 + dataBytes + (dataBytes & 1), name);
      assert.equal(exact.bytes.readUInt32LE(4), exact.bytes.length - 8, `${name} RIFF size`);
      const file = join(dir, `exact-${name}.wav`);
      writeFileSync(file, exact.bytes);
      assert.ok(Math.abs(ffprobe(file).packetEnd - 1) < 0.01);

      // Fewer samples than promised: the rest is silence, so the header stays true.
      const short = await encode(f, 22_050, input.subarray(0, 10_000), encoder, { totalInputSamples: input.length });
      assert.equal(short.bytes.length, exact.bytes.length);
      assert.deepEqual(short.bytes.subarray(0, 44), exact.bytes.subarray(0, 44));
      const silence = f.codec === 'pcm' ? 0 : 0xff;
      assert.ok(short.bytes.subarray(short.bytes.length - 100 - (dataBytes & 1), short.bytes.length - (dataBytes & 1)).every((b) => b === silence));

      // More samples than promised would make the header lie.
      const output = createAudioOutput(f, 22_050, encoder, { totalInputSamples: 100 });
      const { done } = collect(output);
      await assert.rejects(output.write(new Int16Array(101)), RangeError);
      await output.write(new Int16Array(100));
      await output.end();
      assert.equal((await done).length, 44 + Math.ceil((100 * f.sampleRate) / 22_050) * bps + ((Math.ceil((100 * f.sampleRate) / 22_050) * bps) & 1));
    }
  });

  it('emits just the header for an empty riff stream and nothing for an empty raw one', async () => {
    for (const [name, size] of [
      ['riff-16khz-16bit-mono-pcm', 44],
      ['raw-16khz-16bit-mono-pcm', 0],
      ['raw-8khz-8bit-mono-alaw', 0],
    ] as const) {
      const output = createAudioOutput(format(name), 22_050, encoder);
      const { done } = collect(output);
      await output.end();
      assert.equal((await done).length, size, name);
      assert.equal(output.durationTicks, 0);
    }
  });

  it('accounts duration in ms and ticks from the input', async () => {
    const output = createAudioOutput(format('raw-24khz-16bit-mono-pcm'), 22_050, encoder);
    const { done } = collect(output);
    await output.write(new Int16Array(22_050 * 3 + 11));
    await output.end();
    await done;
    assert.equal(output.durationMs, (22_050 * 3 + 11) * (1000 / 22_050));
    assert.equal(output.durationTicks, Math.round(((22_050 * 3 + 11) * 10_000_000) / 22_050));
    assert.equal(output.outputSamples, Math.ceil(((22_050 * 3 + 11) * 24_000) / 22_050));
  });

  it('streams in real time: time to first byte per container', { timeout: 60_000 }, async (t) => {
    // 20 ms pieces at real-time pace for 1 s, as a live synthesizer would deliver them.
    const names = [
      'raw-16khz-16bit-mono-pcm',
      'riff-16khz-16bit-mono-pcm',
      'raw-8khz-8bit-mono-mulaw',
      'audio-16khz-32kbitrate-mono-mp3',
      'audio-24khz-48kbitrate-mono-mp3',
      'ogg-16khz-16bit-mono-opus',
      'ogg-24khz-16bit-mono-opus',
      'webm-16khz-16bit-mono-opus',
      'webm-24khz-16bit-mono-opus',
      'audio-24khz-16bit-mono-flac',
      'g722-16khz-64kbps',
    ];
    const input = speechLike(16_000, 1);
    const piece = 320;
    for (const name of names) {
      const output = createAudioOutput(format(name), 16_000, encoder);
      t.after(() => output.destroy());
      const arrivals: { ms: number; fedMs: number; bytes: number }[] = [];
      let fed = 0;
      const t0 = performance.now();
      const reading = (async () => {
        for await (const chunk of output.chunks) arrivals.push({ ms: performance.now() - t0, fedMs: (fed * 1000) / 16_000, bytes: (chunk as Buffer).length });
      })();
      for (let i = 0; i < input.length; i += piece) {
        await output.write(input.subarray(i, i + piece));
        fed += piece;
        const due = ((i + piece) * 1000) / 16_000;
        const wait = due - (performance.now() - t0);
        if (wait > 0) await sleep(wait);
      }
      await sleep(100);
      const beforeEnd = output.bytesOut;
      const endAt = performance.now() - t0;
      await output.end();
      await reading;
      const first = arrivals[0];
      assert.ok(first !== undefined, `${name}: no output`);
      assert.ok(first.ms < endAt, `${name}: first byte only after end()`);
      // The first chunk of Ogg/WebM/FLAC is the stream header; the second one carries audio.
      const second = arrivals[1];
      const total = arrivals.reduce((n, a) => n + a.bytes, 0);
      t.diagnostic(
        `${name.padEnd(32)} first byte ${first.ms.toFixed(0).padStart(4)} ms (${first.bytes} B, ${first.fedMs.toFixed(0)} ms fed)` +
          (second === undefined ? '' : `, next ${second.ms.toFixed(0).padStart(4)} ms (${second.bytes} B)`) +
          `; ${((100 * beforeEnd) / total).toFixed(0)}% of ${total} B before end()`,
      );
      // Generous: the point is "long before the 1 s of input is complete", even on a loaded machine.
      assert.ok(first.fedMs <= 600, `${name}: first byte only after ${first.fedMs.toFixed(0)} ms of audio was fed`);
      assert.ok(beforeEnd >= total * 0.6, `${name}: only ${beforeEnd} of ${total} bytes before end()`);
    }
  });

  it('applies backpressure end to end and completes once the consumer reads', { timeout: 90_000 }, async (t) => {
    for (const name of ['audio-16khz-128kbitrate-mono-mp3', 'raw-48khz-16bit-mono-pcm']) {
      const recording = new RecordingEncoder(encoder);
      const output = createAudioOutput(format(name), 16_000, recording, { highWaterMark: 16 * 1024 });
      try {
        const input = speechLike(16_000, 30);
        let written = 0;
        const writing = (async () => {
          for (let i = 0; i < input.length; i += 1600) {
            await output.write(input.subarray(i, i + 1600));
            written += 1600;
          }
          await output.end();
        })();
        // Nobody reads: the readable fills, then (mp3) ffmpeg's stdout and stdin pipes, then write()
        // waits. Wait for the writer to stop (a loaded machine may take a while to get there).
        let stalledAt = -1;
        for (let stableSince = Date.now(), deadline = Date.now() + 20_000; Date.now() < deadline; await sleep(20)) {
          if (written !== stalledAt) {
            stalledAt = written;
            stableSince = Date.now();
          } else if (Date.now() - stableSince >= 600) {
            break;
          }
        }
        assert.ok(stalledAt < input.length, `${name}: all input accepted without a reader`);
        assert.ok(output.readable.readableLength <= 16 * 1024 + 64 * 1024, `${name}: readable buffered ${output.readable.readableLength}`);
        t.diagnostic(`${name}: stalled after ${(stalledAt / 16_000).toFixed(1)} s of 30 s input, ${output.readable.readableLength} B buffered`);
        const { done } = collect(output);
        const [, bytes] = await within(Promise.all([writing, done]), 30_000, () => describeStreams(output, recording));
        assert.equal(written, input.length);
        if (name.endsWith('pcm')) assert.equal(bytes.length, 30 * 48_000 * 2);
        else assert.ok(Math.abs(bytes.length - 30 * 16_000) < 16_000 * 0.05 + 2000, `${bytes.length} bytes of 128 kbit/s mp3`);
      } finally {
        // A failed assertion must not leave ffmpeg blocked on a full pipe (and this process alive).
        output.destroy();
      }
    }
  });

  it('refuses unsupported formats with a clear error, before starting anything', () => {
    let opened = 0;
    const counting: CompressedAudioEncoder = {
      open: (spec) => {
        opened++;
        return encoder.open(spec);
      },
    };
    for (const name of ['amr-wb-16000hz', 'raw-16khz-16bit-mono-truesilk', 'raw-24khz-16bit-mono-truesilk', 'audio-16khz-16kbps-mono-siren', 'riff-16khz-16kbps-mono-siren']) {
      const f = format(name);
      assert.equal(f.supported, false);
      assert.throws(
        () => createAudioOutput(f, 16_000, counting),
        (err: unknown) => {
          const se = assertServiceError(err, 'UnsupportedOutputFormat', 400);
          assert.ok(se.message.startsWith(`Unsupported output format: ${name}. `), se.message);
          assert.ok(se.message.includes(f.unsupportedReason ?? '?'));
          return true;
        },
      );
    }
    assert.equal(opened, 0);
    assert.throws(() => createAudioOutput(format('raw-16khz-16bit-mono-pcm'), 0, counting), RangeError);
  });

  it('reports a missing ffmpeg as an InternalError on both sides', { timeout: 10_000 }, async () => {
    const broken = new FfmpegAudioEncoder({ ffmpegPath: '/nonexistent/ffmpeg' });
    const output = createAudioOutput(format('ogg-16khz-16bit-mono-opus'), 16_000, broken);
    const { done } = collect(output);
    const readErr = await done.then(
      () => assert.fail('output ended without error'),
      (e: unknown) => e,
    );
    const se = assertServiceError(readErr, 'InternalError', 500);
    assert.match(se.message, /could not be started \(ENOENT\)/);
    await assert.rejects(output.write(new Int16Array(1000)), (err: unknown) => err === readErr);
    await assert.rejects(output.end(), (err: unknown) => err === readErr);
    assert.equal(output.closed, true);
  });

  it('reports ffmpeg dying mid-stream as an InternalError and rejects pending writes', { timeout: 20_000 }, async () => {
    const recording = new RecordingEncoder(encoder);
    const output = createAudioOutput(format('audio-24khz-96kbitrate-mono-mp3'), 16_000, recording);
    const { done } = collect(output);
    await output.write(speechLike(16_000, 0.5));
    while (output.bytesOut === 0) await sleep(10);
    const pid = recording.opened[0]?.pid;
    assert.ok(pid !== undefined);
    process.kill(pid, 'SIGKILL');
    const err = await done.then(
      () => assert.fail('output ended without error'),
      (e: unknown) => e,
    );
    const se = assertServiceError(err, 'InternalError', 500);
    assert.match(se.message, /^Cannot encode mp3 audio: encoder killed by SIGKILL$/);
    await assert.rejects(output.write(new Int16Array(16_000)), (e: unknown) => e === err);
  });

  it('destroy() mid-stream kills ffmpeg, reaps it and closes the pipes', { timeout: 20_000 }, async () => {
    const recording = new RecordingEncoder(encoder);
    // Warm up: the first spawn opens descriptors Node keeps for good (signal pipe, etc.).
    await encode(format('ogg-16khz-16bit-mono-opus'), 16_000, speechLike(16_000, 0.2), recording);
    await sleep(50);
    const fdsBefore = openFds();
    const names = ['ogg-24khz-16bit-mono-opus', 'webm-16khz-16bit-mono-opus', 'audio-48khz-192kbitrate-mono-mp3', 'audio-48khz-16bit-mono-flac'];
    for (const [round, name] of names.entries()) {
      const output = createAudioOutput(format(name), 22_050, recording);
      const stream = recording.opened.at(-1);
      assert.ok(stream !== undefined);
      const pid = stream.pid;
      assert.ok(pid !== undefined);
      const errors: unknown[] = [];
      output.readable.on('error', (e) => errors.push(e));
      output.readable.on('data', () => undefined);
      const closed = new Promise<void>((resolve) => output.readable.once('close', () => resolve()));
      await output.write(speechLike(22_050, 1));
      while (output.bytesOut === 0) await sleep(10);
      // Alternate between the producer's destroy() and the consumer destroying the readable.
      if (round % 2 === 0) output.destroy();
      else output.readable.destroy();
      await closed;
      assert.ok(await waitGone(pid, 5000), `${name}: ffmpeg ${pid} still exists after destroy()`);
      assert.deepEqual(errors, [], 'destroy() without an error must not emit one');
      assert.equal(output.closed, true);
      // The producer is not punished for a consumer that went away: writes become no-ops.
      await output.write(speechLike(22_050, 0.1));
      await output.end();
    }
    await sleep(100);
    assert.ok(openFds() <= fdsBefore, `descriptors leaked: ${fdsBefore} → ${openFds()}`);
  });

  it('destroy(error) reports the error to the consumer', async () => {
    const output = createAudioOutput(format('raw-16khz-16bit-mono-pcm'), 16_000, encoder);
    const { done } = collect(output);
    await output.write(new Int16Array(100));
    const boom = new Error('synthesis failed');
    output.destroy(boom);
    await assert.rejects(done, (e: unknown) => e === boom);
    await assert.rejects(output.write(new Int16Array(100)), (e: unknown) => e === boom);
  });
});
