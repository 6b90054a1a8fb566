import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { ffmpegDecodeArgs, FfmpegAudioDecoder, type FfmpegDecodeStream, stderrExcerpt } from '../../src/engines/ffmpeg/index.js';
import type { CompressedContainer } from '../../src/kernel/audio/format.js';
import { parseWavHeader } from '../../src/kernel/audio/wav.js';
import { isServiceError, ServiceError } from '../../src/kernel/errors.js';

function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test file');
    dir = parent;
  }
  return dir;
}

const SDK_AUDIO = join(repoRoot(), '../shared/test-audio/sdk');
const SOURCE_WAV = join(SDK_AUDIO, 'whatstheweatherlike.wav');
const LONG_WAV = join(SDK_AUDIO, 'multi_channel_35sec.wav');
const FFMPEG = process.env.FFMPEG_PATH ?? 'ffmpeg';

function hasFfmpeg(): boolean {
  try {
    execFileSync(FFMPEG, ['-version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

const skip = hasFfmpeg() ? false : 'ffmpeg is not installed';

function wavDurationSeconds(file: string): number {
  const bytes = readFileSync(file);
  const h = parseWavHeader(bytes);
  if ('needMore' in h) assert.fail('incomplete header');
  return (h.dataBytes ?? bytes.length - h.dataOffset) / h.blockAlign / h.format.sampleRate;
}

function s16(buf: Buffer): Int16Array {
  const out = new Int16Array(buf.length >> 1);
  for (let i = 0; i < out.length; i++) out[i] = buf.readInt16LE(i * 2);
  return out;
}

function bestCorrelation(a: Int16Array, b: Int16Array, maxLag: number): number {
  let best = -1;
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    let ab = 0;
    let aa = 0;
    let bb = 0;
    for (let i = Math.max(0, -lag); i < a.length && i + lag < b.length; i++) {
      const x = a[i] ?? 0;
      const y = b[i + lag] ?? 0;
      ab += x * y;
      aa += x * x;
      bb += y * y;
    }
    best = Math.max(best, ab / Math.sqrt(aa * bb || 1));
  }
  return best;
}

function* chunks(bytes: Buffer, size: number): Generator<Buffer> {
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

function collector(): { sink: Writable; result: () => Buffer } {
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  return { sink, result: () => Buffer.concat(parts) };
}

async function decode(decoder: FfmpegAudioDecoder, container: CompressedContainer, bytes: Buffer, chunkSize: number): Promise<Buffer> {
  const { sink, result } = collector();
  await pipeline(Readable.from(chunks(bytes, chunkSize)), decoder.open(container), sink);
  return result();
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

function assertInvalidAudio(err: unknown): ServiceError {
  assert.ok(isServiceError(err), `expected a ServiceError, got ${String(err)}`);
  assert.equal(err.code, 'InvalidAudio');
  assert.equal(err.status, 400);
  return err;
}

describe('FfmpegAudioDecoder', { skip }, () => {
  let dir = '';
  const encoded = new Map<string, Buffer>();
  const decoder = new FfmpegAudioDecoder({ ffmpegPath: FFMPEG });
  const sourceSeconds = wavDurationSeconds(SOURCE_WAV);
  const reference = (() => {
    const bytes = readFileSync(SOURCE_WAV);
    return s16(bytes.subarray(44));
  })();

  const encodings: { name: string; container: CompressedContainer; args: string[]; minNcc: number }[] = [
    { name: 'ogg/opus', container: 'ogg', args: ['-c:a', 'libopus', '-b:a', '16k', '-f', 'ogg'], minNcc: 0.9 },
    { name: 'webm/opus', container: 'webm', args: ['-c:a', 'libopus', '-b:a', '16k', '-f', 'webm'], minNcc: 0.9 },
    { name: 'mp3', container: 'mp3', args: ['-c:a', 'libmp3lame', '-b:a', '32k', '-f', 'mp3'], minNcc: 0.95 },
    { name: 'flac', container: 'flac', args: ['-c:a', 'flac', '-f', 'flac'], minNcc: 0.999 },
  ];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'parlance-ffmpeg-'));
    for (const e of encodings) {
      const out = join(dir, e.name.replace('/', '-'));
      execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-i', SOURCE_WAV, ...e.args, out]);
      encoded.set(e.name, readFileSync(out));
    }
    const longFlac = join(dir, 'long.flac');
    execFileSync(FFMPEG, ['-hide_banner', '-loglevel', 'error', '-y', '-i', LONG_WAV, '-c:a', 'flac', longFlac]);
    encoded.set('long.flac', readFileSync(longFlac));
  });

  after(() => {
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  it('builds the documented command line', () => {
    assert.deepEqual(ffmpegDecodeArgs('webm'), [
      '-hide_banner',
      '-nostdin',
      '-loglevel',
      'error',
      '-f',
      'matroska',
      '-i',
      'pipe:0',
      '-f',
      's16le',
      '-acodec',
      'pcm_s16le',
      '-ac',
      '1',
      '-ar',
      '16000',
      'pipe:1',
    ]);
    // No input format for 'unknown': ffmpeg probes.
    assert.deepEqual(ffmpegDecodeArgs('unknown').slice(0, 6), ['-hide_banner', '-nostdin', '-loglevel', 'error', '-i', 'pipe:0']);
  });

  for (const e of encodings) {
    it(`decodes ${e.name} fed in small chunks to 16 kHz mono PCM of the right duration`, { timeout: 20_000 }, async (t) => {
      const bytes = encoded.get(e.name);
      assert.ok(bytes !== undefined);
      const pcm = await decode(decoder, e.container, bytes, 333);
      assert.equal(pcm.length % 2, 0);
      const seconds = pcm.length / 2 / 16000;
      assert.ok(Math.abs(seconds - sourceSeconds) <= sourceSeconds * 0.05, `${seconds.toFixed(3)} s vs ${sourceSeconds} s`);
      const ncc = bestCorrelation(reference, s16(pcm), 160);
      t.diagnostic(`${e.name}: ${bytes.length} bytes → ${seconds.toFixed(3)} s, ncc ${ncc.toFixed(3)}`);
      assert.ok(ncc >= e.minNcc, `ncc ${ncc}`);
    });
  }

  it("lets ffmpeg probe the format for 'unknown'", { timeout: 20_000 }, async () => {
    const bytes = encoded.get('ogg/opus');
    assert.ok(bytes !== undefined);
    const pcm = await decode(decoder, 'unknown', bytes, 1000);
    assert.ok(Math.abs(pcm.length / 32000 - sourceSeconds) <= sourceSeconds * 0.05);
  });

  it('reports garbage as InvalidAudio with an ffmpeg excerpt, without hanging (and survives EPIPE)', { timeout: 30_000 }, async (t) => {
    const garbage = Buffer.alloc(2 * 1024 * 1024);
    let x = 12345;
    for (let i = 0; i < garbage.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      garbage[i] = x >>> 24;
    }
    for (const container of ['ogg', 'webm', 'mp3', 'flac', 'unknown'] as const) {
      const err = await decode(decoder, container, garbage, 4096).then(
        () => assert.fail(`${container}: garbage decoded without error`),
        (e: unknown) => e,
      );
      const se = assertInvalidAudio(err);
      assert.match(se.message, new RegExp(`^Cannot decode ${container === 'unknown' ? 'the audio' : `${container} audio`}: .+`));
      assert.ok(se.message.length < 400, `message too long: ${se.message.length}`);
      assert.equal(se.details?.exitCode, 1);
      t.diagnostic(`${container}: ${se.message}`);
    }
  });

  it('reports truncated input as InvalidAudio', { timeout: 20_000 }, async () => {
    const bytes = encoded.get('webm/opus');
    assert.ok(bytes !== undefined);
    const err = await decode(decoder, 'webm', bytes.subarray(0, 20), 7).then(
      () => undefined,
      (e: unknown) => e,
    );
    // A 20-byte WebM prefix holds no audio track: ffmpeg must fail, not produce silence.
    assertInvalidAudio(err);
  });

  it('reports a missing ffmpeg binary as an error on the stream', { timeout: 10_000 }, async () => {
    const broken = new FfmpegAudioDecoder({ ffmpegPath: '/nonexistent/ffmpeg' });
    const bytes = encoded.get('mp3');
    assert.ok(bytes !== undefined);
    const err = await decode(broken, 'mp3', bytes, 500).then(
      () => undefined,
      (e: unknown) => e,
    );
    const se = assertInvalidAudio(err);
    assert.match(se.message, /could not be started \(ENOENT\)/);
  });

  it('applies backpressure both ways and completes once the reader catches up', { timeout: 30_000 }, async (t) => {
    const flac = encoded.get('long.flac');
    assert.ok(flac !== undefined);
    const stream: FfmpegDecodeStream = decoder.open('flac');
    let supplied = 0;
    const source = Readable.from(
      (function* () {
        for (const c of chunks(flac, 4096)) {
          supplied += c.length;
          yield c;
        }
      })(),
    );
    const writing = pipeline(source, stream);
    // Nobody reads the PCM: ffmpeg's stdout fills, it stops reading stdin, our writes stall.
    await sleep(1500);
    const stalledAt = supplied;
    assert.ok(stalledAt < flac.length, `all ${flac.length} bytes were accepted without a reader`);
    assert.ok(stream.readableLength <= stream.readableHighWaterMark + 65536, `readable buffered ${stream.readableLength}`);
    await sleep(300);
    assert.equal(supplied, stalledAt, 'the writer kept going while stalled');
    t.diagnostic(`stalled after ${stalledAt} of ${flac.length} compressed bytes, ${stream.readableLength} PCM bytes buffered`);

    const { sink, result } = collector();
    await Promise.all([writing, pipeline(stream, sink)]);
    assert.equal(supplied, flac.length);
    const seconds = result().length / 32000;
    const expected = wavDurationSeconds(LONG_WAV);
    assert.ok(Math.abs(seconds - expected) <= expected * 0.01, `${seconds} s vs ${expected} s`);
  });

  it('destroy() mid-stream kills ffmpeg, reaps it and closes the pipes', { timeout: 20_000 }, async () => {
    const flac = encoded.get('long.flac');
    assert.ok(flac !== undefined);
    // Warm up: the first spawn opens descriptors Node keeps for good (signal pipe, etc.).
    await decode(decoder, 'flac', encoded.get('flac') ?? Buffer.alloc(0), 4096);
    const fdsBefore = openFds();

    for (let round = 0; round < 3; round++) {
      const stream = decoder.open('flac');
      const pid = stream.pid;
      assert.ok(pid !== undefined);
      let received = 0;
      stream.on('data', (c: Buffer) => {
        received += c.length;
      });
      const errors: unknown[] = [];
      stream.on('error', (e) => errors.push(e));
      const closed = new Promise<void>((resolve) => stream.once('close', () => resolve()));
      stream.write(flac.subarray(0, 200_000));
      while (received === 0) await sleep(10);
      stream.destroy();
      await closed;
      assert.ok(await waitGone(pid, 5000), `ffmpeg ${pid} still exists after destroy()`);
      assert.deepEqual(errors, [], 'destroy() without an error must not emit one');
      // Writes after destroy fail softly instead of throwing.
      stream.write(Buffer.alloc(10), () => undefined);
    }
    await sleep(100);
    assert.ok(openFds() <= fdsBefore, `descriptors leaked: ${fdsBefore} → ${openFds()}`);
  });

  it('does not crash the process when ffmpeg exits while we are still writing (EPIPE)', { timeout: 20_000 }, async () => {
    const stream = decoder.open('ogg');
    const failed = new Promise<unknown>((resolve) => stream.once('error', resolve));
    // Not Ogg at all: ffmpeg gives up at once, while we keep pushing data at it.
    const junk = Buffer.alloc(64 * 1024, 0x41);
    for (let i = 0; i < 64; i++) {
      if (!stream.write(junk)) await Promise.race([new Promise((r) => stream.once('drain', r)), failed]);
      if (stream.destroyed) break;
    }
    stream.end();
    assertInvalidAudio(await failed);
  });

  it('keeps only a short, bounded stderr excerpt', () => {
    const noisy = `${'[mp3float @ 0x556e39d35000] Header missing\n'.repeat(50)}Error while decoding stream #0:0: Invalid data found when processing input\n${'x'.repeat(1000)}`;
    const excerpt = stderrExcerpt(noisy);
    assert.ok(excerpt.startsWith('[mp3float] Header missing; Error while decoding stream #0:0: Invalid data found'), excerpt);
    assert.ok(excerpt.length <= 300);
    assert.equal(stderrExcerpt('a\x1b[31mb\x07\r\nc\n\n'), 'ab; c');
  });
});
