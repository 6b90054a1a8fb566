import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildDisplayForms } from '../../src/domain/recognition/display-form.js';
import { normalizeForWer, wer, wordErrors } from '../helpers/wer.js';

describe('normalizeForWer', () => {
  const cases: readonly (readonly [string, string[]])[] = [
    ['Hello World', ['hello', 'world']],
    ["What's the weather like?", ['whats', 'the', 'weather', 'like']],
    ['What\u2019s up', ['whats', 'up']],
    ['well-known  self-hosted', ['well', 'known', 'self', 'hosted']],
    ['Send an e-mail, or E-Mails.', ['send', 'an', 'email', 'or', 'emails']],
    ['Mr. Smith and mr Jones', ['mister', 'smith', 'and', 'mister', 'jones']],
    ['Buy 5 pencils', ['buy', 'five', 'pencils']],
    ['0 1 9 10 13 20 21 99', ['zero', 'one', 'nine', 'ten', 'thirteen', 'twenty', 'twenty', 'one', 'ninety', 'nine']],
    // 100 and up, and non-canonical spellings, stay as written.
    ['100 2024 007', ['100', '2024', '007']],
    // Other punctuation becomes a space, so formatted numbers split into readable parts.
    ['at 3:30 PM', ['at', 'three', 'thirty', 'pm']],
    ['Go forward 10 meters.', ['go', 'forward', 'ten', 'meters']],
    ['5% of $3', ['five', 'of', 'three']],
    ['', []],
    ['  ...  ', []],
  ];
  for (const [text, expected] of cases) {
    it(JSON.stringify(text), () => {
      assert.deepEqual(normalizeForWer(text), expected);
    });
  }
});

describe('wordErrors', () => {
  it('identical after normalization: no errors', () => {
    assert.deepEqual(wordErrors('remind me to buy five pencils', 'Remind me to buy 5 pencils.'), {
      substitutions: 0,
      deletions: 0,
      insertions: 0,
      refWords: 6,
    });
  });
  it('counts a substitution', () => {
    assert.deepEqual(wordErrors('go forward ten meters', 'go backward ten meters'), {
      substitutions: 1,
      deletions: 0,
      insertions: 0,
      refWords: 4,
    });
  });
  it('counts a deletion', () => {
    assert.deepEqual(wordErrors('go forward ten meters', 'go ten meters'), {
      substitutions: 0,
      deletions: 1,
      insertions: 0,
      refWords: 4,
    });
  });
  it('counts an insertion', () => {
    assert.deepEqual(wordErrors('go forward', 'go go forward'), {
      substitutions: 0,
      deletions: 0,
      insertions: 1,
      refWords: 2,
    });
  });
  it('prefers one substitution over a deletion plus an insertion', () => {
    const e = wordErrors('a b c', 'a x c');
    assert.equal(e.substitutions, 1);
    assert.equal(e.deletions + e.insertions, 0);
  });
  it('mixed errors total the edit distance', () => {
    // ref: the cat sat on the mat / hyp: cat sat in the hat today
    const e = wordErrors('the cat sat on the mat', 'cat sat in the hat today');
    assert.equal(e.substitutions + e.deletions + e.insertions, 4);
    assert.equal(e.refWords, 6);
  });
  it('empty reference: every hypothesis word is an insertion', () => {
    assert.deepEqual(wordErrors('', 'hello there'), { substitutions: 0, deletions: 0, insertions: 2, refWords: 0 });
  });
  it('empty hypothesis: every reference word is a deletion', () => {
    assert.deepEqual(wordErrors('hello there', ''), { substitutions: 0, deletions: 2, insertions: 0, refWords: 2 });
  });
});

describe('wer', () => {
  it('is corpus-level: total errors over total reference words', () => {
    const result = wer([
      { ref: 'one two three four', hyp: 'one two three four' },
      { ref: 'a b', hyp: 'a c' },
    ]);
    assert.deepEqual(result, { wer: 1 / 6, substitutions: 1, deletions: 0, insertions: 0, refWords: 6 });
  });
  it('no pairs: zero', () => {
    assert.deepEqual(wer([]), { wer: 0, substitutions: 0, deletions: 0, insertions: 0, refWords: 0 });
  });
  it('no reference words but insertions: infinite', () => {
    assert.equal(wer([{ ref: '', hyp: 'noise' }]).wer, Number.POSITIVE_INFINITY);
  });
  it('can exceed 1 with many insertions', () => {
    assert.equal(wer([{ ref: 'hi', hyp: 'hi there you all' }]).wer, 3);
  });
  it('scores a Display form against its lexical reference as equal for small numbers', () => {
    for (const lexical of ['go forward ten meters', "what's the weather like", 'i have twenty one cats', 'mister smith is here']) {
      const display = buildDisplayForms(lexical.split(' '), { profanity: 'raw' }).display;
      assert.equal(wer([{ ref: lexical, hyp: display }]).wer, 0, `${lexical} vs ${display}`);
    }
  });
});
