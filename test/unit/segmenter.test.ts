import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FRAME_MS, FRAME_SAMPLES, Segmenter, frameEnergyDb, type SegmentEvent, type SegmenterOptions } from '../../src/domain/recognition/segmenter.js';
import { prng } from '../helpers/prng.js';

const RATE = 16_000;
const SAMPLES_PER_MS = RATE / 1000;
/** Allowed error on a detected boundary. */
const TOLERANCE_MS = 60;

interface Part {
  ms: number;
  /** Speech-like burst: a 200–400 Hz gliding tone with short dips every 250 ms. */
  speech?: number;
  /** A constant tone (background hum) of this amplitude. */
  hum?: number;
  humHz?: number;
  /** Peak amplitude of uniform background noise (0 = digital silence). */
  noise?: number;
}

/** 16 kHz s16 mono PCM built from parts. Deterministic for a given seed. */
function synth(parts: Part[], seed = 1): Int16Array {
  const rnd = prng(seed);
  const total = parts.reduce((n, p) => n + Math.round(p.ms * SAMPLES_PER_MS), 0);
  const out = new Int16Array(total);
  let i = 0;
  let speechPhase = 0;
  let humPhase = 0;
  for (const p of parts) {
    const n = Math.round(p.ms * SAMPLES_PER_MS);
    const noise = p.noise ?? 30;
    for (let k = 0; k < n; k++, i++) {
      let v = (rnd() * 2 - 1) * noise;
      if (p.speech) {
        const tMs = k / SAMPLES_PER_MS;
        const f = 200 + 200 * (0.5 + 0.5 * Math.sin((2 * Math.PI * tMs) / 700));
        speechPhase += (2 * Math.PI * f) / RATE;
        // Short dips between "syllables", as real speech has.
        const dip = tMs % 250 > 220 ? 0.1 : 1;
        v += p.speech * dip * Math.sin(speechPhase);
      }
      if (p.hum) {
        humPhase += (2 * Math.PI * (p.humHz ?? 120)) / RATE;
        v += p.hum * Math.sin(humPhase);
      }
      out[i] = Math.max(-32768, Math.min(32767, Math.round(v)));
    }
  }
  return out;
}

const silence = (ms: number, noise = 30): Part => ({ ms, noise });
const speech = (ms: number, amp = 3000): Part => ({ ms, speech: amp });

interface Observed {
  type: SegmentEvent['type'];
  atMs: number;
  forced?: boolean;
  /** Audio consumed (ms) when the event was returned; undefined for finish(). */
  emittedAtMs: number | undefined;
}

/** Pushes `pcm` in chunks (fixed size or a sequence of sizes) and collects events, then finish(). */
function run(pcm: Int16Array, opts: SegmenterOptions, chunk: number | (() => number) = 160, finish = true): Observed[] {
  const seg = new Segmenter(opts);
  const events: Observed[] = [];
  let i = 0;
  while (i < pcm.length) {
    const size = Math.max(1, typeof chunk === 'number' ? chunk : chunk());
    const evs = seg.push(pcm.subarray(i, i + size));
    i += size;
    for (const e of evs) events.push({ ...e, emittedAtMs: seg.positionMs });
  }
  if (finish) for (const e of seg.finish()) events.push({ ...e, emittedAtMs: undefined });
  return events;
}

/** Events without the emission position (which depends on chunking by design). */
function shape(events: Observed[]): Array<Pick<Observed, 'type' | 'atMs' | 'forced'>> {
  return events.map(({ type, atMs, forced }) => (forced === undefined ? { type, atMs } : { type, atMs, forced }));
}

function near(actual: number, expected: number, what: string, tol = TOLERANCE_MS): void {
  assert.ok(Math.abs(actual - expected) <= tol, `${what}: ${actual} ms is not within ${tol} ms of ${expected} ms`);
}

const OPTS: SegmenterOptions = { segmentationSilenceMs: 500, maxUtteranceMs: 20_000 };

describe('Segmenter', () => {
  it('frames are 10 ms of 16 kHz audio', () => {
    assert.equal(FRAME_MS, 10);
    assert.equal(FRAME_SAMPLES, 160);
  });

  it('frameEnergyDb: zeros are 0 dB, a 3000-amplitude tone is ~66.5 dB', () => {
    assert.equal(frameEnergyDb(new Int16Array(160)), 0);
    const tone = new Int16Array(160);
    for (let i = 0; i < 160; i++) tone[i] = Math.round(3000 * Math.sin((2 * Math.PI * 200 * i) / RATE));
    near(frameEnergyDb(tone), 20 * Math.log10(3000 / Math.SQRT2), 'tone energy', 0.5);
  });

  it('reports speech-start near the burst start and speech-end at the last voiced frame after the segmentation silence', () => {
    const pcm = synth([silence(1000), speech(1500), silence(1200)]);
    const events = run(pcm, OPTS, 1);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
    const [start, end] = events as [Observed, Observed];
    near(start.atMs, 1000, 'speech-start');
    near(end.atMs, 2500, 'speech-end');
    assert.equal(end.forced, false);
    // The start is declared after a short onset run, long before the burst ends.
    assert.ok(start.emittedAtMs !== undefined && start.emittedAtMs >= start.atMs && start.emittedAtMs <= start.atMs + 100);
    // The end is only known once segmentationSilenceMs of unvoiced audio followed the last voiced frame.
    assert.ok(end.emittedAtMs !== undefined);
    near(end.emittedAtMs, end.atMs + OPTS.segmentationSilenceMs, 'speech-end emission', 20);
    assert.ok(end.emittedAtMs >= end.atMs + OPTS.segmentationSilenceMs);
  });

  it('digital silence (zeros) around a burst works the same', () => {
    const pcm = synth([silence(1000, 0), speech(1000), silence(1000, 0)]);
    const events = run(pcm, OPTS);
    assert.equal(events.length, 2);
    near(events[0]!.atMs, 1000, 'speech-start');
    near(events[1]!.atMs, 2000, 'speech-end');
  });

  it('the segmentation silence option moves the emission of speech-end, not its offset', () => {
    const pcm = synth([silence(800), speech(1000), silence(2000)]);
    for (const segmentationSilenceMs of [200, 500, 1200]) {
      const events = run(pcm, { segmentationSilenceMs, maxUtteranceMs: 20_000 }, 1);
      assert.equal(events.length, 2, `silence ${segmentationSilenceMs}`);
      const end = events[1]!;
      near(end.atMs, 1800, `speech-end (silence ${segmentationSilenceMs})`);
      near(end.emittedAtMs ?? -1, end.atMs + segmentationSilenceMs, `emission (silence ${segmentationSilenceMs})`, 20);
    }
  });

  it('forces an end at maxUtteranceMs and starts a new utterance while speech goes on', () => {
    const pcm = synth([silence(500), speech(5000), silence(1000)]);
    const events = run(pcm, { segmentationSilenceMs: 500, maxUtteranceMs: 2000 });
    const types = events.map((e) => e.type);
    assert.deepEqual(types, ['speech-start', 'speech-end', 'speech-start', 'speech-end', 'speech-start', 'speech-end']);
    near(events[0]!.atMs, 500, 'first start');
    assert.equal(events[1]!.forced, true);
    assert.equal(events[1]!.atMs - events[0]!.atMs, 2000, 'forced break exactly at maxUtteranceMs');
    assert.equal(events[3]!.forced, true);
    assert.equal(events[3]!.atMs - events[2]!.atMs, 2000);
    // Nothing lost in between: the next utterance starts where the forced one ended.
    assert.ok(events[2]!.atMs >= events[1]!.atMs && events[2]!.atMs - events[1]!.atMs <= 60);
    assert.equal(events[5]!.forced, false);
    near(events[5]!.atMs, 5500, 'final natural end');
  });

  it('two bursts separated by a pause longer than the segmentation silence are two utterances', () => {
    const pcm = synth([silence(1000), speech(1000), silence(800), speech(1000), silence(1000)]);
    const events = run(pcm, OPTS);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end', 'speech-start', 'speech-end'],
    );
    near(events[0]!.atMs, 1000, 'start 1');
    near(events[1]!.atMs, 2000, 'end 1');
    near(events[2]!.atMs, 2800, 'start 2');
    near(events[3]!.atMs, 3800, 'end 2');
  });

  it('a pause shorter than the segmentation silence keeps one utterance', () => {
    const pcm = synth([silence(1000), speech(1000), silence(300), speech(1000), silence(1000)]);
    const events = run(pcm, OPTS);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
    near(events[0]!.atMs, 1000, 'start');
    near(events[1]!.atMs, 3300, 'end');
  });

  it('chunking (1 sample, 160, 3200, odd and random sizes) does not change the events', () => {
    const pcm = synth([silence(700), speech(1200), silence(650), speech(900), silence(200), speech(400), silence(900)], 7);
    const reference = shape(run(pcm, OPTS, 160));
    assert.ok(reference.length >= 4, 'the reference signal has utterances');
    const rnd = prng(99);
    const chunkings: Array<[string, number | (() => number)]> = [
      ['1', 1],
      ['3200', 3200],
      ['whole', pcm.length],
      ['7', 7],
      ['159', 159],
      ['161', 161],
      ['777', 777],
      ['random 1..5000', () => 1 + Math.floor(rnd() * 5000)],
    ];
    for (const [name, chunk] of chunkings) {
      assert.deepEqual(shape(run(pcm, OPTS, chunk)), reference, `chunking ${name}`);
    }
  });

  it('audio that starts with speech immediately is still detected', () => {
    const pcm = synth([speech(1500), silence(1000)]);
    const events = run(pcm, OPTS);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
    near(events[0]!.atMs, 0, 'start');
    near(events[1]!.atMs, 1500, 'end');
  });

  it('a steady loud hum is not speech forever: the floor adapts, the utterance ends and does not restart', () => {
    for (const lead of [0, 500]) {
      const pcm = synth([silence(lead), { ms: 10_000, hum: 3000 }], 3);
      const events = run(pcm, OPTS, 320, false);
      const starts = events.filter((e) => e.type === 'speech-start');
      const ends = events.filter((e) => e.type === 'speech-end');
      assert.ok(starts.length <= 1, `lead ${lead}: at most one start (got ${JSON.stringify(events)})`);
      assert.equal(ends.length, starts.length, `lead ${lead}: every start is ended without finish()`);
      for (const e of ends) assert.ok(e.atMs <= lead + 3_000, `lead ${lead}: the hum stops counting as speech within seconds (end at ${e.atMs})`);
      assert.ok(!events.some((e) => e.type === 'speech-end' && e.forced), 'not ended by the forced break');
    }
  });

  it('louder speech over an adapted hum is detected', () => {
    const pcm = synth(
      [
        { ms: 4000, hum: 2000 },
        { ms: 1000, hum: 2000, speech: 20_000 },
        { ms: 2000, hum: 2000 },
      ],
      5,
    );
    const events = run(pcm, OPTS, 320, false).filter((e) => e.atMs >= 3000);
    assert.deepEqual(
      events.map((e) => e.type),
      ['speech-start', 'speech-end'],
    );
    near(events[0]!.atMs, 4000, 'start over hum');
    near(events[1]!.atMs, 5000, 'end over hum');
  });

  it('pure silence and low noise produce no events', () => {
    assert.deepEqual(run(synth([silence(5000)]), OPTS), []);
    assert.deepEqual(run(synth([silence(5000, 0)]), OPTS), []);
    assert.deepEqual(run(synth([silence(5000, 300)]), OPTS), []);
  });

  it('finish() closes an open utterance at its last voiced frame, once', () => {
    const pcm = synth([silence(500), speech(1000)]);
    const seg = new Segmenter(OPTS);
    const pushed = seg.push(pcm);
    assert.deepEqual(
      pushed.map((e) => e.type),
      ['speech-start'],
    );
    assert.equal(seg.inSpeech, true);
    const fin = seg.finish();
    assert.equal(fin.length, 1);
    const end = fin[0]!;
    assert.equal(end.type, 'speech-end');
    if (end.type === 'speech-end') assert.equal(end.forced, false);
    near(end.atMs, 1500, 'finish end');
    assert.equal(seg.inSpeech, false);
    assert.deepEqual(seg.finish(), []);
  });

  it('finish() without an open utterance returns nothing', () => {
    const seg = new Segmenter(OPTS);
    assert.deepEqual(seg.finish(), []);
    seg.push(synth([silence(500), speech(500), silence(800)]));
    assert.equal(seg.inSpeech, false);
    assert.deepEqual(seg.finish(), []);
  });

  it('positionMs counts whole frames consumed', () => {
    const seg = new Segmenter(OPTS);
    assert.equal(seg.positionMs, 0);
    seg.push(new Int16Array(159));
    assert.equal(seg.positionMs, 0);
    seg.push(new Int16Array(1));
    assert.equal(seg.positionMs, 10);
    seg.push(new Int16Array(16_000 + 80));
    assert.equal(seg.positionMs, 1010);
  });

  it('is deterministic: the same input gives the same events', () => {
    const pcm = synth([silence(600), speech(700), silence(600), speech(300), silence(700)], 11);
    assert.deepEqual(run(pcm, OPTS), run(pcm, OPTS));
  });
});
