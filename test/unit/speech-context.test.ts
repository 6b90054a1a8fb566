import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { RecognitionRequest } from '../../src/domain/recognition/recognition-service.js';
import { ServiceError } from '../../src/kernel/errors.js';
import { applySpeechContext, getCI, modeFromString } from '../../src/protocol/speech-ws/speech-context.js';
import { recognitionRequestFromQuery } from '../../src/protocol/shared/recognition-query.js';

/** Observed bodies, verbatim from docs/azure-speech-protocol.md §A.5.2. */
const BODIES = {
  jsFromHost: '{"phraseDetection":{"language":"en-US","enrichment":{}},"phraseOutput":{}}',
  jsV2: '{"phraseDetection":{"mode":"Interactive","language":"en-US","enrichment":{}},"phraseOutput":{}}',
  jsDetailed:
    '{"phraseDetection":{"language":"en-US","initialSilenceTimeout":3000,"mode":"Interactive","interactive":{"segmentation":{"mode":"Custom","segmentationSilenceTimeoutMs":800}},"enrichment":{"profanity":"Raw"}},"phraseOutput":{"detailed":{"options":["WordTimings"]},"format":"Detailed"}}',
  cppDefault: '{"audio":{"streams":{"1":null}},"phraseDetection":{"language":"en-us","mode":"INTERACTIVE"}}',
};

const ctx = (name: keyof typeof BODIES): unknown => JSON.parse(BODIES[name]);

/** What the v2 route starts from before speech.context (query said nothing). */
const V2_BASE: RecognitionRequest = { mode: 'interactive' };

describe('applySpeechContext: SDK bodies', () => {
  it('JS on the v1 path (no mode in the body): language only, mode from the path', () => {
    const base: RecognitionRequest = { mode: 'conversation' };
    assert.deepEqual(applySpeechContext(base, ctx('jsFromHost'), 'conversation'), { mode: 'conversation', locale: 'en-US' });
  });

  it('JS v2 body with mode Interactive', () => {
    assert.deepEqual(applySpeechContext({ mode: 'conversation' }, ctx('jsV2'), undefined), { mode: 'interactive', locale: 'en-US' });
  });

  it('JS detailed + word timings + options body', () => {
    const req = applySpeechContext({ mode: 'conversation', format: 'simple', profanity: 'masked' }, ctx('jsDetailed'), undefined);
    assert.deepEqual(req, {
      mode: 'interactive',
      locale: 'en-US',
      initialSilenceTimeoutMs: 3000,
      segmentationSilenceTimeoutMs: 800,
      profanity: 'raw',
      format: 'detailed',
      wordTimings: true,
    });
  });

  it('C++ default body: upper-case mode INTERACTIVE and lower-case language en-us', () => {
    assert.deepEqual(applySpeechContext({ mode: 'conversation' }, ctx('cppDefault'), undefined), { mode: 'interactive', locale: 'en-us' });
  });

  it('C++ conversation body with the upper-case mode name as the segmentation key', () => {
    const body = {
      phraseDetection: {
        language: 'de-de',
        mode: 'CONVERSATION',
        CONVERSATION: { segmentation: { mode: 'CUSTOM', segmentationSilenceTimeoutMs: 1200, segmentationForcedTimeoutMs: 30000 } },
      },
      phraseOutput: { format: 'DETAILED' },
    };
    assert.deepEqual(applySpeechContext(V2_BASE, body, undefined), {
      mode: 'conversation',
      locale: 'de-de',
      segmentationSilenceTimeoutMs: 1200,
      maxUtteranceMs: 30000,
      format: 'detailed',
    });
  });

  it('keys are matched case-insensitively at every level', () => {
    const body = {
      PHRASEDETECTION: {
        Mode: 'dictation',
        LANGUAGE: 'fr-FR',
        InitialSilenceTimeout: '2500',
        Dictation: { Segmentation: { Mode: 'custom', SegmentationSilenceTimeoutMS: 600 } },
        Enrichment: { Profanity: 'REMOVED' },
        CustomModels: [{ Language: 'fr-FR', Endpoint: 'abc' }],
      },
      PhraseOutput: { Format: 'simple', Detailed: { Options: ['wordtimings'] } },
    };
    assert.deepEqual(applySpeechContext(V2_BASE, body, undefined), {
      mode: 'dictation',
      locale: 'fr-FR',
      initialSilenceTimeoutMs: 2500,
      segmentationSilenceTimeoutMs: 600,
      profanity: 'removed',
      endpointId: 'abc',
      format: 'detailed',
      wordTimings: true,
    });
  });

  it('the mode of a v1 path is not overridden by the body', () => {
    for (const pathMode of ['interactive', 'conversation', 'dictation'] as const) {
      for (const name of ['jsV2', 'jsDetailed', 'cppDefault'] as const) {
        assert.equal(applySpeechContext({ mode: pathMode }, ctx(name), pathMode).mode, pathMode, `${pathMode} / ${name}`);
      }
    }
  });

  it('on a v1 path, segmentation is read under the path mode', () => {
    const body = { phraseDetection: { mode: 'Interactive', conversation: { segmentation: { segmentationSilenceTimeoutMs: 900 } }, interactive: { segmentation: { segmentationSilenceTimeoutMs: 300 } } } };
    assert.equal(applySpeechContext({ mode: 'conversation' }, body, 'conversation').segmentationSilenceTimeoutMs, 900);
    assert.equal(applySpeechContext({ mode: 'conversation' }, body, undefined).segmentationSilenceTimeoutMs, 300);
  });

  it('customModels endpoint → endpointId', () => {
    const body = { phraseDetection: { customModels: [{ language: 'en-US', endpoint: '5e6f7a8b-0000-4c1d-9e2f-123456789abc' }] } };
    assert.equal(applySpeechContext(V2_BASE, body, undefined).endpointId, '5e6f7a8b-0000-4c1d-9e2f-123456789abc');
    assert.equal(applySpeechContext(V2_BASE, { phraseDetection: { customModels: [] } }, undefined).endpointId, undefined);
    assert.equal(applySpeechContext(V2_BASE, { phraseDetection: { customModels: { endpoint: 'x' } } }, undefined).endpointId, undefined);
    assert.equal(applySpeechContext(V2_BASE, { phraseDetection: { customModels: [{ endpoint: '' }] } }, undefined).endpointId, undefined);
  });

  it('segmentation silence applies only to Custom (or unspecified) segmentation; the forced timeout always', () => {
    const seg = (segmentation: unknown): RecognitionRequest =>
      applySpeechContext(V2_BASE, { phraseDetection: { mode: 'Conversation', conversation: { segmentation } } }, undefined);
    assert.equal(seg({ mode: 'Custom', segmentationSilenceTimeoutMs: 700 }).segmentationSilenceTimeoutMs, 700);
    assert.equal(seg({ segmentationSilenceTimeoutMs: 700 }).segmentationSilenceTimeoutMs, 700);
    assert.equal(seg({ mode: 'Normal', segmentationSilenceTimeoutMs: 700 }).segmentationSilenceTimeoutMs, undefined);
    assert.equal(seg({ mode: 'Semantic', segmentationSilenceTimeoutMs: 700 }).segmentationSilenceTimeoutMs, undefined);
    assert.equal(seg({ mode: 'Normal', segmentationForcedTimeoutMs: 25000 }).maxUtteranceMs, 25000);
  });

  it('profanity Tagged/Labeled fall back to masked; unknown values are ignored', () => {
    const prof = (p: unknown): RecognitionRequest['profanity'] =>
      applySpeechContext({ mode: 'interactive', profanity: 'raw' }, { phraseDetection: { enrichment: { profanity: p } } }, undefined).profanity;
    assert.equal(prof('Tagged'), 'masked');
    assert.equal(prof('labeled'), 'masked');
    assert.equal(prof('Masked'), 'masked');
    assert.equal(prof('Removed'), 'removed');
    assert.equal(prof('Bleep'), 'raw');
    assert.equal(prof(3), 'raw');
  });

  it('mode None or unknown keeps the base mode', () => {
    for (const mode of ['None', 'chatty', '', 5, null]) {
      assert.equal(applySpeechContext({ mode: 'dictation' }, { phraseDetection: { mode } }, undefined).mode, 'dictation', String(mode));
    }
  });

  it('numeric fields: numbers and digit strings accepted; negatives, fractions-as-strings and junk ignored', () => {
    const initial = (v: unknown): number | undefined =>
      applySpeechContext(V2_BASE, { phraseDetection: { initialSilenceTimeout: v } }, undefined).initialSilenceTimeoutMs;
    assert.equal(initial(3000), 3000);
    assert.equal(initial('3000'), 3000);
    assert.equal(initial(0), 0);
    assert.equal(initial(2.6), 3);
    assert.equal(initial(-1), undefined);
    assert.equal(initial('-1'), undefined);
    assert.equal(initial('1.5'), undefined);
    assert.equal(initial('abc'), undefined);
    assert.equal(initial(Number.NaN), undefined);
    assert.equal(initial(Number.POSITIVE_INFINITY), undefined);
    assert.equal(initial(true), undefined);
    assert.equal(initial(null), undefined);
  });

  it('garbage bodies change nothing', () => {
    const base: RecognitionRequest = { mode: 'conversation', locale: 'en-GB', format: 'simple', profanity: 'removed', initialSilenceTimeoutMs: 1000 };
    const garbage: unknown[] = [
      null,
      undefined,
      [],
      [{ phraseDetection: { mode: 'Interactive' } }],
      'string',
      '{"phraseDetection":{"mode":"Interactive"}}',
      42,
      true,
      {},
      { phraseDetection: null },
      { phraseDetection: 'Interactive' },
      { phraseDetection: [] },
      { phraseDetection: { mode: 7, language: 7, initialSilenceTimeout: {}, enrichment: 'x', customModels: 'x', conversation: [] } },
      { phraseOutput: { format: 'verbose', detailed: { options: 'WordTimings' } } },
      { phraseOutput: { detailed: { options: [1, null, {}] } } },
      { translation: { targetLanguages: ['de'] }, dgi: { groups: [] }, audio: { streams: { 1: null } } },
    ];
    for (const g of garbage) {
      assert.deepEqual(applySpeechContext(base, g, undefined), base, JSON.stringify(g) ?? String(g));
    }
  });

  it('does not modify the base request', () => {
    const base: RecognitionRequest = { mode: 'conversation' };
    const snapshot = structuredClone(base);
    const out = applySpeechContext(base, ctx('jsDetailed'), undefined);
    assert.deepEqual(base, snapshot);
    assert.notEqual(out, base);
  });

  it('getCI and modeFromString helpers', () => {
    assert.equal(getCI({ A: { b: { C: 1 } } }, 'a', 'B', 'c'), 1);
    assert.equal(getCI({ a: 1 }, 'a', 'b'), undefined);
    assert.equal(getCI([{ a: 1 }], '0'), undefined, 'arrays are not objects here');
    assert.equal(getCI({}, 'constructor'), undefined, 'no inherited properties');
    assert.equal(getCI({}, 'toString'), undefined);
    assert.equal(modeFromString('CONVERSATION'), 'conversation');
    assert.equal(modeFromString('Dictation'), 'dictation');
    assert.equal(modeFromString('none'), undefined);
    assert.equal(modeFromString(undefined), undefined);
  });
});

function throwsInvalidArgument(fn: () => unknown, mentions?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ServiceError, String(err));
    assert.equal(err.code, 'InvalidArgument');
    assert.equal(err.status, 400);
    if (mentions) assert.match(err.message, mentions);
    return true;
  });
}

describe('recognitionRequestFromQuery', () => {
  it('an empty query gives just the mode', () => {
    assert.deepEqual(recognitionRequestFromQuery({}, 'interactive'), { mode: 'interactive' });
    assert.deepEqual(recognitionRequestFromQuery(undefined, 'dictation'), { mode: 'dictation' });
  });

  it('reads every setting, names case-insensitively, values case-insensitively', () => {
    const q = {
      LANGUAGE: 'de-DE',
      Format: 'DETAILED',
      profanity: 'Raw',
      initialSilenceTimeoutMs: '2500',
      SegmentationSilenceTimeoutMs: '700',
      cid: 'endpoint-1',
      'Ocp-Apim-Subscription-Key': 'not a setting',
    };
    assert.deepEqual(recognitionRequestFromQuery(q, 'conversation'), {
      mode: 'conversation',
      locale: 'de-DE',
      format: 'detailed',
      profanity: 'raw',
      initialSilenceTimeoutMs: 2500,
      segmentationSilenceTimeoutMs: 700,
      endpointId: 'endpoint-1',
    });
  });

  it('invalid format throws InvalidArgument', () => {
    for (const v of ['verbose', 'json', 'detailed ', '1']) throwsInvalidArgument(() => recognitionRequestFromQuery({ format: v }, 'interactive'), /format/i);
  });

  it('invalid profanity throws InvalidArgument', () => {
    for (const v of ['none', 'tagged', 'off']) throwsInvalidArgument(() => recognitionRequestFromQuery({ profanity: v }, 'interactive'), /profanity/i);
  });

  it('invalid timeouts throw InvalidArgument', () => {
    for (const v of ['-1', 'abc', '1.5', '1e3', '120001', ' 100']) {
      throwsInvalidArgument(() => recognitionRequestFromQuery({ initialSilenceTimeoutMs: v }, 'interactive'));
    }
    for (const v of ['99', '5001', '0', 'x']) {
      throwsInvalidArgument(() => recognitionRequestFromQuery({ segmentationSilenceTimeoutMs: v }, 'conversation'));
    }
    // Bounds are inclusive.
    assert.equal(recognitionRequestFromQuery({ initialSilenceTimeoutMs: '0' }, 'interactive').initialSilenceTimeoutMs, 0);
    assert.equal(recognitionRequestFromQuery({ initialSilenceTimeoutMs: '120000' }, 'interactive').initialSilenceTimeoutMs, 120_000);
    assert.equal(recognitionRequestFromQuery({ segmentationSilenceTimeoutMs: '100' }, 'interactive').segmentationSilenceTimeoutMs, 100);
    assert.equal(recognitionRequestFromQuery({ segmentationSilenceTimeoutMs: '5000' }, 'interactive').segmentationSilenceTimeoutMs, 5000);
  });

  it('empty values are ignored, not errors', () => {
    assert.deepEqual(recognitionRequestFromQuery({ format: '', profanity: '', initialSilenceTimeoutMs: '', language: '', cid: '' }, 'interactive'), {
      mode: 'interactive',
    });
  });

  it('wordLevelTimestamps=true forces detailed output', () => {
    assert.deepEqual(recognitionRequestFromQuery({ wordLevelTimestamps: 'true' }, 'interactive'), { mode: 'interactive', wordTimings: true, format: 'detailed' });
    assert.equal(recognitionRequestFromQuery({ format: 'simple', wordLevelTimestamps: 'TRUE' }, 'interactive').format, 'detailed');
    const off = recognitionRequestFromQuery({ format: 'simple', wordLevelTimestamps: 'false' }, 'interactive');
    assert.equal(off.format, 'simple');
    assert.equal(off.wordTimings, undefined);
  });

  it('repeated parameters: the first value counts', () => {
    assert.equal(recognitionRequestFromQuery({ format: ['detailed', 'simple'] }, 'interactive').format, 'detailed');
  });

  it('query then speech.context: explicit context values win', () => {
    const fromQuery = recognitionRequestFromQuery({ language: 'en-GB', format: 'simple', profanity: 'masked' }, 'interactive');
    const req = applySpeechContext(fromQuery, ctx('jsDetailed'), undefined);
    assert.equal(req.locale, 'en-US');
    assert.equal(req.format, 'detailed');
    assert.equal(req.profanity, 'raw');
    const kept = applySpeechContext(fromQuery, ctx('cppDefault'), undefined);
    assert.equal(kept.format, 'simple');
    assert.equal(kept.profanity, 'masked');
  });
});
