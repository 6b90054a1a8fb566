import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

import { EngineError, type EngineErrorKind, type EngineHypothesis, type LiveDecoder } from '../../src/domain/ports/engines.js';
import { PocketSphinxEngine } from '../../src/engines/pocketsphinx/index.js';

// ------------------------------------------------------------------------------------------------------------------
// Helpers
// ------------------------------------------------------------------------------------------------------------------

/** The repository root, found from this file whether it runs from dist/test/... or elsewhere. */
function repoRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error('package.json not found above the test file');
    dir = parent;
  }
  return dir;
}

const AUDIO_DIR = path.join(repoRoot(), '../shared/test-audio/sdk');
const SAMPLE_RATE = 16_000;

/** The samples of a 16 kHz mono s16 WAV: the payload of its 'data' chunk. */
function readWav(name: string): Int16Array {
  const buf = fs.readFileSync(path.join(AUDIO_DIR, name));
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.toString('ascii', 8, 12), 'WAVE');
  let offset = 12;
  while (offset + 8 <= buf.length) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    if (id === 'data') {
      const end = Math.min(buf.length, offset + 8 + size);
      // Copy into a fresh, aligned buffer: Int16Array views need 2-byte alignment.
      return new Int16Array(buf.buffer.slice(buf.byteOffset + offset + 8, buf.byteOffset + end));
    }
    offset += 8 + size + (size & 1);
  }
  throw new Error(`${name}: no data chunk`);
}

const durationMs = (pcm: Int16Array): number => (pcm.length * 1000) / SAMPLE_RATE;

function isEngineError(kind: EngineErrorKind): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof EngineError, `expected EngineError(${kind}), got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  };
}

const EN_US = { locale: 'en-US' };

const weather = readWav('whatstheweatherlike.wav');
const passport = readWav('myVoiceIsMyPassportVerifyMe01.wav');
const lamp = readWav('TurnOnTheLamp.wav');

// ------------------------------------------------------------------------------------------------------------------
// One engine for the functional tests (two workers, one live decoder each)
// ------------------------------------------------------------------------------------------------------------------

describe('PocketSphinxEngine', () => {
  let engine: PocketSphinxEngine;

  before(async () => {
    engine = new PocketSphinxEngine({ workers: 2, liveDecodersPerWorker: 1, maxQueuedDecodes: 8 });
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('recognizes "What\'s the weather like?" exactly', async () => {
    const hyp = await engine.decodeUtterance(EN_US, weather);
    assert.equal(hyp.text, "what's the weather like");
  });

  it('reports words with increasing times inside the audio and confidences in 0..1', async () => {
    for (const pcm of [weather, passport, lamp]) {
      const hyp = await engine.decodeUtterance(EN_US, pcm);
      assert.ok(hyp.words.length > 0);
      assert.equal(hyp.text, hyp.words.map((w) => w.word).join(' '));
      let previousStart = -1;
      for (const w of hyp.words) {
        assert.match(w.word, /^[a-z'.\-_]+$/, `lexical, lower-case, no (2) suffix: ${w.word}`);
        assert.ok(w.startMs > previousStart, `start times increase: ${JSON.stringify(hyp.words)}`);
        assert.ok(w.endMs > w.startMs);
        assert.ok(w.endMs <= durationMs(pcm) + 10, `word ends within the audio (${w.endMs} > ${durationMs(pcm)})`);
        assert.ok(w.confidence >= 0 && w.confidence <= 1, `word confidence ${w.confidence}`);
        previousStart = w.startMs;
      }
      assert.ok(hyp.confidence >= 0 && hyp.confidence <= 1, `utterance confidence ${hyp.confidence}`);
    }
  });

  it('is deterministic: the same audio gives the same result whatever was decoded before', async () => {
    const first = await engine.decodeUtterance(EN_US, passport);
    await engine.decodeUtterance(EN_US, lamp);
    await engine.decodeUtterance(EN_US, weather);
    const again = await engine.decodeUtterance(EN_US, passport);
    assert.deepEqual(again, first);
  });

  it('runs two decodes concurrently', async () => {
    const [a, b] = await Promise.all([engine.decodeUtterance(EN_US, weather), engine.decodeUtterance(EN_US, passport)]);
    assert.equal(a.text, "what's the weather like");
    assert.equal(b.text, 'my voice is my passport verify me');
  });

  it('returns nothing for digital silence', async () => {
    const hyp = await engine.decodeUtterance(EN_US, new Int16Array(SAMPLE_RATE));
    assert.deepEqual(hyp, { text: '', words: [], confidence: 0 } satisfies EngineHypothesis);
  });

  it('streams partials from a live decoder fed 100 ms chunks', async () => {
    const batch = await engine.decodeUtterance(EN_US, weather);
    const live = await engine.openLiveDecoder(EN_US);
    assert.ok(live !== undefined);
    const partials: string[] = [];
    for (let i = 0; i < weather.length; i += SAMPLE_RATE / 10) {
      partials.push(await live.feed(weather.subarray(i, i + SAMPLE_RATE / 10)));
    }
    live.release();
    live.release(); // idempotent
    assert.ok(partials.some((p) => p !== ''), `some partial is non-empty: ${JSON.stringify(partials)}`);
    const finalWords = new Set((partials.at(-1) ?? '').split(' '));
    assert.ok(batch.words.some((w) => finalWords.has(w.word)), `final partial "${partials.at(-1)}" shares words with "${batch.text}"`);
    await assert.rejects(live.feed(weather.subarray(0, 1600)), isEngineError('Aborted'));
  });

  it('coalesces overlapping feeds: each resolves after its audio, with the latest partial', async () => {
    const live = await engine.openLiveDecoder(EN_US);
    assert.ok(live !== undefined);
    try {
      const chunks = [];
      for (let i = 0; i < weather.length; i += SAMPLE_RATE / 10) chunks.push(weather.subarray(i, i + SAMPLE_RATE / 10));
      // All fed at once: the first goes alone, the rest travel together as one message.
      const results = await Promise.all(chunks.map((c) => live.feed(c)));
      assert.equal(results.length, chunks.length);
      assert.equal(new Set(results.slice(1)).size, 1, `coalesced feeds share one result: ${JSON.stringify(results)}`);
      assert.match(results.at(-1) ?? '', /weather/);
    } finally {
      live.release();
    }
  });

  it('hands out at most liveDecodersPerWorker live decoders per worker and reuses released ones', async () => {
    const opened: LiveDecoder[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const d = await engine.openLiveDecoder(EN_US);
        assert.ok(d !== undefined, `slot ${i} is free`);
        opened.push(d);
      }
      assert.equal(await engine.openLiveDecoder(EN_US), undefined);
      opened.pop()?.release();
      const reused = await engine.openLiveDecoder(EN_US);
      assert.ok(reused !== undefined);
      opened.push(reused);
    } finally {
      for (const d of opened) d.release();
    }
  });

  it('supports en-US only, case-insensitively', async () => {
    assert.equal(engine.supportsLocale('en-US'), true);
    assert.equal(engine.supportsLocale('EN-us'), true);
    assert.equal(engine.supportsLocale('de-DE'), false);
    assert.deepEqual(engine.info.locales, ['en-US']);
    await assert.rejects(engine.decodeUtterance({ locale: 'de-DE' }, weather), isEngineError('UnsupportedLocale'));
    await assert.rejects(engine.openLiveDecoder({ locale: 'fr-FR' }), isEngineError('UnsupportedLocale'));
    const hyp = await engine.decodeUtterance({ locale: 'en-us' }, weather);
    assert.equal(hyp.text, "what's the weather like");
  });

  it('rejects an unknown custom model with ModelLoadFailed', async () => {
    await assert.rejects(engine.decodeUtterance({ locale: 'en-US', modelId: 'no-such-model' }, weather), isEngineError('ModelLoadFailed'));
  });

  it('rejects with Aborted when the signal is already aborted', async () => {
    await assert.rejects(engine.decodeUtterance(EN_US, weather, AbortSignal.abort()), isEngineError('Aborted'));
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Queue bound, abort while queued, worker crash: one worker, so requests must queue
// ------------------------------------------------------------------------------------------------------------------

describe('PocketSphinxEngine under load', () => {
  let engine: PocketSphinxEngine;

  before(async () => {
    engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 0, maxQueuedDecodes: 1 });
    await engine.ready();
  });

  after(async () => {
    await engine.close();
  });

  it('rejects with Overloaded beyond maxQueuedDecodes waiting decodes', async () => {
    const running = engine.decodeUtterance(EN_US, passport);
    const queued = engine.decodeUtterance(EN_US, weather);
    await assert.rejects(engine.decodeUtterance(EN_US, lamp), isEngineError('Overloaded'));
    assert.equal((await running).text, 'my voice is my passport verify me');
    assert.equal((await queued).text, "what's the weather like");
  });

  it('has no live decoders when liveDecodersPerWorker is 0', async () => {
    assert.equal(await engine.openLiveDecoder(EN_US), undefined);
  });

  it('removes an aborted decode from the queue', async () => {
    const running = engine.decodeUtterance(EN_US, passport);
    const ac = new AbortController();
    const queued = engine.decodeUtterance(EN_US, weather, ac.signal);
    ac.abort();
    await assert.rejects(queued, isEngineError('Aborted'));
    // Its place is free again.
    const next = engine.decodeUtterance(EN_US, lamp);
    await running;
    assert.ok((await next).words.length > 0);
  });

  it('survives a worker crash: pending requests fail with Internal, the worker is respawned', async () => {
    engine.crashWorkerForTest(0);
    // Sent right behind the crash message, before the main thread has seen the worker exit: it is lost.
    const lost = engine.decodeUtterance(EN_US, weather);
    await assert.rejects(lost, isEngineError('Internal'));
    // Queued until the respawned worker has loaded its decoder.
    const afterRespawn = await engine.decodeUtterance(EN_US, weather);
    assert.equal(afterRespawn.text, "what's the weather like");
  });
});

// ------------------------------------------------------------------------------------------------------------------
// Model that cannot load
// ------------------------------------------------------------------------------------------------------------------

describe('PocketSphinxEngine with a missing model directory', () => {
  it('rejects ready() and every request with ModelLoadFailed', async () => {
    const engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 1, maxQueuedDecodes: 2, modelDir: '/nonexistent/model' });
    try {
      const queued = engine.decodeUtterance(EN_US, weather);
      await assert.rejects(engine.ready(), isEngineError('ModelLoadFailed'));
      await assert.rejects(queued, isEngineError('ModelLoadFailed'));
      await assert.rejects(engine.decodeUtterance(EN_US, weather), isEngineError('ModelLoadFailed'));
      await assert.rejects(engine.openLiveDecoder(EN_US), isEngineError('ModelLoadFailed'));
    } finally {
      await engine.close();
    }
  });
});

// ------------------------------------------------------------------------------------------------------------------
// close(): a process that closes its engine can exit on its own
// ------------------------------------------------------------------------------------------------------------------

describe('PocketSphinxEngine.close', () => {
  it('stops every worker, so the process exits without process.exit()', async () => {
    const moduleUrl = new URL('../../src/engines/pocketsphinx/index.js', import.meta.url).href;
    const script = `
      import { PocketSphinxEngine } from ${JSON.stringify(moduleUrl)};
      const engine = new PocketSphinxEngine({ workers: 2, liveDecodersPerWorker: 1, maxQueuedDecodes: 2 });
      await engine.ready();
      const live = await engine.openLiveDecoder({ locale: 'en-US' });
      await live.feed(new Int16Array(1600));
      const hyp = await engine.decodeUtterance({ locale: 'en-US' }, new Int16Array(16000));
      await engine.close();
      const rejected = await engine.decodeUtterance({ locale: 'en-US' }, new Int16Array(1600)).then(() => 'resolved', (e) => e.kind);
      console.log(JSON.stringify({ text: hyp.text, afterClose: rejected }));
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(null);
      }, 20_000);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    assert.equal(code, 0, `child exited on its own (code ${code}); stderr: ${stderr}`);
    assert.deepEqual(JSON.parse(stdout.trim()), { text: '', afterClose: 'Aborted' });
  });
});
