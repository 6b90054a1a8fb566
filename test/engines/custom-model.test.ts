/**
 * Custom models on the PocketSphinx engine (issue #5 item 4, "Training is real"): a language model trained on
 * domain text and the domain's new words, interpolated with the base model, must really lower the error rate on
 * speech of that domain. There are no recordings of a custom domain, so Parlance's own best voice (Festival's
 * cmu_us_slt_arctic_hts) reads the test sentences; the recognizer hears them at 16 kHz, once with the base model
 * and once with the custom model.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';

import { EngineError, type EngineErrorKind, type EngineHypothesis } from '../../src/domain/ports/engines.js';
import { FestivalEngine } from '../../src/engines/festival/index.js';
import { FliteLetterToSound } from '../../src/engines/flite/lts.js';
import { arpaFromSentences } from '../../src/engines/pocketsphinx/arpa.js';
import { validateArpaFile } from '../../src/engines/pocketsphinx/bindings.js';
import { DEFAULT_CUSTOM_LM_WEIGHT, PocketSphinxEngine } from '../../src/engines/pocketsphinx/index.js';
import { ENGINE_SAMPLE_RATE } from '../../src/kernel/audio/format.js';
import { Resampler } from '../../src/kernel/audio/resample.js';
import { DATASET_PRONUNCIATIONS, DOMAIN_WORDS, TEST_SENTENCES, TRAINING_TEXT } from '../fixtures/custom-speech-domain.js';
import { readWav } from '../helpers/pcm.js';
import { wer } from '../helpers/wer.js';

const EN_US = { locale: 'en-US' };
const FESTIVAL_VOICE = 'festival:cmu_us_slt_arctic_hts';

function isEngineError(kind: EngineErrorKind): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof EngineError, `expected EngineError(${kind}), got ${String(err)}`);
    assert.equal(err.kind, kind);
    return true;
  };
}

function concat(parts: readonly Int16Array[]): Int16Array {
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/** Festival speaks `text`; the 32 kHz audio comes back at the engine rate. */
async function speak(tts: FestivalEngine, text: string): Promise<Int16Array> {
  const rate = tts.voices()[0]?.sampleRate ?? 32_000;
  const resampler = new Resampler(rate, ENGINE_SAMPLE_RATE);
  const parts: Int16Array[] = [];
  for await (const ev of tts.synthesize({ text, voiceId: FESTIVAL_VOICE, prosody: { rate: 1, pitch: 1, volume: 1 } })) {
    if (ev.type === 'audio') parts.push(resampler.process(ev.pcm));
  }
  parts.push(resampler.flush());
  return concat(parts);
}

const tempDirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'parlance-custom-model-'));
  tempDirs.push(dir);
  return dir;
}

after(() => {
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

const pct = (x: number): string => `${(x * 100).toFixed(1)} %`;

describe('custom models: PocketSphinx trained on domain text', () => {
  let engine: PocketSphinxEngine;
  let tts: FestivalEngine;
  let domainDir: string;
  /** Festival's recordings of TEST_SENTENCES, 16 kHz. */
  let recordings: Int16Array[];
  const weather = readWav('whatstheweatherlike.wav').pcm ?? new Int16Array(0);
  let weatherBefore: EngineHypothesis;

  before(async () => {
    engine = new PocketSphinxEngine({ workers: 2, liveDecodersPerWorker: 1, maxQueuedDecodes: 64, letterToSound: new FliteLetterToSound() });
    tts = new FestivalEngine({ processes: 2, maxQueued: TEST_SENTENCES.length });
    await Promise.all([engine.ready(), tts.ready()]);
    // Recorded before any custom model exists, to show the base model is left as it was.
    weatherBefore = await engine.decodeUtterance(EN_US, weather);
    recordings = await Promise.all(TEST_SENTENCES.map((s) => speak(tts, s)));
    await tts.close();
  });

  after(async () => {
    await tts.close();
    await engine.close();
  });

  it('an ARPA model written from a tiny corpus is accepted by sphinxbase', () => {
    const file = path.join(tempDir(), 'tiny.arpa');
    fs.writeFileSync(file, arpaFromSentences([['launch', 'the', 'zorbex'], ['the', 'zorbex', 'pods'], ['launch']]));
    assert.doesNotThrow(() => validateArpaFile(file));
    fs.writeFileSync(file, '\\data\\\nngram 1=3\n\n\\1-grams:\n-1 <s>\n\\end\\\n');
    assert.throws(() => validateArpaFile(file));
  });

  it("letter-to-sound from flite's CMU lexicon: lexicon words, rules for new words, English only", async () => {
    const lts = new FliteLetterToSound();
    assert.equal(await lts.phones('cat', 'en-US'), 'K AE1 T');
    assert.equal(await lts.phones('Zorbex', 'en-US'), 'Z AO1 R B AH0 K S');
    assert.equal(await lts.phones('zorbex', 'de-DE'), undefined);
    assert.equal(await lts.phones('ζeta', 'en-US'), undefined);
    assert.equal(await lts.phones('r2d2', 'en-US'), undefined);
  });

  it('builds a model: ARPA, dictionary and manifest; new words from the dataset or letter-to-sound; unpronounceable words dropped', async () => {
    const dir = tempDir();
    const build = await engine.buildCustomModel(
      {
        locale: 'en-US',
        sentences: ['Launch the Zorbex pods at 9.', 'The ζeta zorbex waits.', ''],
        pronunciations: [{ word: 'Zorbex', phones: 'Z AO1 R B EH0 K S' }, { word: 'two words', phones: 'T UW' }, { word: 'bad', phones: 'QQ' }],
      },
      dir,
    );
    assert.deepEqual([...build.files].sort(), ['lm.arpa', 'model.json', 'words.dict']);
    for (const f of build.files) assert.ok(fs.statSync(path.join(dir, f)).size > 0, `${f} written`);
    assert.equal(build.sentenceCount, 2);
    // launch the zorbex pods at nine waits (ζeta has no pronunciation: dropped, not in the model)
    assert.equal(build.vocabularySize, 7);
    assert.deepEqual(build.newWords, [{ word: 'zorbex', phones: 'Z AO R B EH K S', source: 'dataset' }]);
    assert.deepEqual(build.droppedWords, ['ζeta']);
    assert.equal(build.truncated, false);
    assert.equal(fs.readFileSync(path.join(dir, 'words.dict'), 'utf8'), 'zorbex Z AO R B EH K S\n');
    assert.doesNotMatch(fs.readFileSync(path.join(dir, 'lm.arpa'), 'utf8'), /ζeta/u);
    // Loads in every worker, decodes, unloads.
    await engine.loadCustomModel('tiny', dir);
    await engine.loadCustomModel('tiny', dir);
    const hyp = await engine.decodeUtterance({ locale: 'en-US', modelId: 'tiny' }, weather);
    assert.equal(typeof hyp.text, 'string');
    await engine.unloadCustomModel('tiny');
    await assert.rejects(engine.decodeUtterance({ locale: 'en-US', modelId: 'tiny' }, weather), isEngineError('ModelLoadFailed'));
  });

  it('trained on the domain text, lowers WER on synthesized domain speech by at least 30 % relative', async () => {
    domainDir = tempDir();
    const t0 = performance.now();
    const build = await engine.buildCustomModel({ locale: 'en-US', sentences: TRAINING_TEXT, pronunciations: DATASET_PRONUNCIATIONS }, domainDir);
    const buildMs = performance.now() - t0;
    assert.deepEqual(build.newWords.map((w) => w.word).sort(), [...DOMAIN_WORDS].sort());
    assert.deepEqual(build.newWords.filter((w) => w.source === 'dataset').map((w) => w.word).sort(), ['graventis', 'lumivar', 'tavrin']);
    assert.equal(build.droppedWords?.length, 0);
    const t1 = performance.now();
    await engine.loadCustomModel('vantrel', domainDir);
    const loadMs = performance.now() - t1;

    const base = await Promise.all(recordings.map((pcm) => engine.decodeUtterance(EN_US, pcm)));
    const custom = await Promise.all(recordings.map((pcm) => engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel' }, pcm)));
    const basePairs = TEST_SENTENCES.map((ref, i) => ({ ref, hyp: base[i]?.text ?? '' }));
    const customPairs = TEST_SENTENCES.map((ref, i) => ({ ref, hyp: custom[i]?.text ?? '' }));
    TEST_SENTENCES.forEach((ref, i) => console.log(`  ref:    ${ref}\n  base:   ${basePairs[i]?.hyp}\n  custom: ${customPairs[i]?.hyp}`));
    const b = wer(basePairs);
    const c = wer(customPairs);
    const reduction = 1 - c.wer / b.wer;
    console.log(
      `custom model (${build.sentenceCount} training sentences, ${build.vocabularySize} words, ${build.newWords.length} new; ` +
        `built in ${Math.round(buildMs)} ms, loaded in ${Math.round(loadMs)} ms, LM weight ${DEFAULT_CUSTOM_LM_WEIGHT}) on ${TEST_SENTENCES.length} ` +
        `Festival sentences, ${b.refWords} words: base WER ${pct(b.wer)} (S ${b.substitutions}, D ${b.deletions}, I ${b.insertions}), ` +
        `custom WER ${pct(c.wer)} (S ${c.substitutions}, D ${c.deletions}, I ${c.insertions}), relative reduction ${pct(reduction)}`,
    );
    assert.ok(reduction >= 0.3, `relative WER reduction ${pct(reduction)} must be at least 30 %`);

    // The invented words are recognized with the custom model, and cannot be with the base model.
    const heard = (hyps: EngineHypothesis[]): Set<string> => new Set(hyps.flatMap((h) => h.words.map((w) => w.word)));
    const customWords = heard(custom);
    const baseWords = heard(base);
    const recognized = DOMAIN_WORDS.filter((w) => customWords.has(w));
    console.log(`domain words recognized with the custom model: ${recognized.length}/${DOMAIN_WORDS.length} (${recognized.join(', ')})`);
    for (const w of ['zorbex', 'kelvora', 'vantrel', 'tavrin']) assert.ok(customWords.has(w), `'${w}' recognized with the custom model`);
    assert.ok(recognized.length >= DOMAIN_WORDS.length / 2);
    assert.deepEqual(DOMAIN_WORDS.filter((w) => baseWords.has(w)), []);
  });

  it('leaves the base model as it was, and decodes deterministically with either model', async () => {
    const weatherAfter = await engine.decodeUtterance(EN_US, weather);
    assert.deepEqual(weatherAfter, weatherBefore);
    const pcm = recordings[0] ?? new Int16Array(0);
    const [first, second] = await Promise.all([
      engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel' }, pcm),
      engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel' }, pcm),
    ]);
    assert.deepEqual(first, second);
    assert.match(first.text, /zorbex/u);
  });

  it('gives live decoders the custom model too', async () => {
    const pcm = recordings[0] ?? new Int16Array(0);
    const live = await engine.openLiveDecoder({ locale: 'en-US', modelId: 'vantrel' });
    assert.ok(live !== undefined, 'a live decoder is free');
    let partial = '';
    try {
      for (let i = 0; i < pcm.length; i += 1600) partial = await live.feed(pcm.subarray(i, i + 1600));
    } finally {
      live.release();
    }
    assert.match(partial, /zorbex/u);
    // The same decoder, back on the base model.
    const baseLive = await engine.openLiveDecoder(EN_US);
    assert.ok(baseLive !== undefined);
    let basePartial = '';
    try {
      for (let i = 0; i < pcm.length; i += 1600) basePartial = await baseLive.feed(pcm.subarray(i, i + 1600));
    } finally {
      baseLive.release();
    }
    assert.doesNotMatch(basePartial, /zorbex/u);
  });

  it('rejects unknown and unloaded models with ModelLoadFailed, and directories without a model', async () => {
    await assert.rejects(engine.decodeUtterance({ locale: 'en-US', modelId: 'nope' }, weather), isEngineError('ModelLoadFailed'));
    await assert.rejects(engine.loadCustomModel('empty', tempDir()), isEngineError('ModelLoadFailed'));
    await assert.rejects(engine.decodeUtterance({ locale: 'en-US', modelId: 'empty' }, weather), isEngineError('ModelLoadFailed'));
    await engine.unloadCustomModel('vantrel');
    await engine.unloadCustomModel('vantrel');
    await assert.rejects(engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel' }, weather), isEngineError('ModelLoadFailed'));
    // Loading again after an unload works, under another id as well.
    await engine.loadCustomModel('vantrel-2', domainDir);
    const pcm = recordings[0] ?? weather;
    const vantrel = await engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel-2' }, pcm);
    assert.match(vantrel.text, /zorbex/u);
    // A second model with other new words (the decoders' dictionaries are reloaded) changes nothing for the first.
    const otherDir = tempDir();
    await engine.buildCustomModel({ locale: 'en-US', sentences: ["what's the quibbix weather like"], pronunciations: [] }, otherDir);
    await engine.loadCustomModel('quibbix', otherDir);
    assert.deepEqual(await engine.decodeUtterance({ locale: 'en-US', modelId: 'vantrel-2' }, pcm), vantrel);
    assert.equal((await engine.decodeUtterance({ locale: 'en-US', modelId: 'quibbix' }, weather)).text, "what's the weather like");
    assert.deepEqual(await engine.decodeUtterance(EN_US, weather), weatherBefore);
  });

  it('rejects other locales and aborted builds', async () => {
    await assert.rejects(engine.buildCustomModel({ locale: 'de-DE', sentences: ['Hallo'], pronunciations: [] }, tempDir()), isEngineError('UnsupportedLocale'));
    const dir = tempDir();
    await assert.rejects(
      engine.buildCustomModel({ locale: 'en-US', sentences: TRAINING_TEXT, pronunciations: [] }, dir, AbortSignal.abort()),
      isEngineError('Aborted'),
    );
    assert.deepEqual(fs.readdirSync(dir), []);
    // Aborted while the build worker runs: nothing half-built is left.
    const ac = new AbortController();
    const building = engine.buildCustomModel({ locale: 'en-US', sentences: TRAINING_TEXT, pronunciations: [] }, dir, ac.signal);
    setTimeout(() => ac.abort(), 5);
    await assert.rejects(building, isEngineError('Aborted'));
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});

describe('custom models and a restarted worker', () => {
  it('loads at most maxCustomModels at once; an unloaded one makes room', async () => {
    const engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 0, maxQueuedDecodes: 4, maxCustomModels: 1 });
    try {
      await engine.ready();
      const dir = tempDir();
      await engine.buildCustomModel({ locale: 'en-US', sentences: ["what's the weather like"], pronunciations: [] }, dir);
      await engine.loadCustomModel('first', dir);
      await engine.loadCustomModel('first', dir);
      await assert.rejects(engine.loadCustomModel('second', dir), (err: unknown) => isEngineError('ModelLoadFailed')(err) && /maxCustomModels/.test((err as Error).message));
      await engine.unloadCustomModel('first');
      await engine.loadCustomModel('second', dir);
      const hyp = await engine.decodeUtterance({ locale: 'en-US', modelId: 'second' }, readWav('whatstheweatherlike.wav').pcm ?? new Int16Array(0));
      assert.equal(hyp.text, "what's the weather like");
    } finally {
      await engine.close();
    }
  });

  it('a respawned worker loads the custom models again', async () => {
    const engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 0, maxQueuedDecodes: 4 });
    try {
      await engine.ready();
      const dir = tempDir();
      await engine.buildCustomModel({ locale: 'en-US', sentences: ["what's the weather like", 'the zorbex weather'], pronunciations: [{ word: 'zorbex', phones: 'Z AO R B EH K S' }] }, dir);
      await engine.loadCustomModel('m', dir);
      engine.crashWorkerForTest(0);
      const lost = engine.decodeUtterance({ locale: 'en-US', modelId: 'm' }, readWav('whatstheweatherlike.wav').pcm ?? new Int16Array(0));
      await assert.rejects(lost, isEngineError('Internal'));
      const hyp = await engine.decodeUtterance({ locale: 'en-US', modelId: 'm' }, readWav('whatstheweatherlike.wav').pcm ?? new Int16Array(0));
      assert.equal(hyp.text, "what's the weather like");
    } finally {
      await engine.close();
    }
  });
});
