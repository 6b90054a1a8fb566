import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { arpaFromSentences, normalizeTrainingText, spellCardinal, spellOrdinal } from '../../src/engines/pocketsphinx/arpa.js';
import { isDictionaryWord, toSphinxPhones } from '../../src/engines/pocketsphinx/phones.js';

// ------------------------------------------------------------------------------------------------------------------
// A minimal ARPA reader and back-off evaluator, independent of the writer
// ------------------------------------------------------------------------------------------------------------------

interface Arpa {
  declared: number[];
  /** key: words joined by ' '; log10 values */
  prob: Map<string, number>;
  bow: Map<string, number>;
  order: number;
  unigrams: string[];
}

function parseArpa(text: string): Arpa {
  const lines = text.split('\n');
  assert.equal(lines[0], '\\data\\');
  const declared: number[] = [];
  const prob = new Map<string, number>();
  const bow = new Map<string, number>();
  const unigrams: string[] = [];
  let section = 0;
  const seen: number[] = [];
  let ended = false;
  for (const line of lines.slice(1)) {
    const m = /^ngram (\d+)=(\d+)$/.exec(line);
    if (m) {
      declared[Number(m[1]) - 1] = Number(m[2]);
      continue;
    }
    const s = /^\\(\d)-grams:$/.exec(line);
    if (s) {
      section = Number(s[1]);
      seen[section - 1] = 0;
      continue;
    }
    if (line === '\\end\\') {
      ended = true;
      break;
    }
    if (line === '' || section === 0) continue;
    const fields = line.split(' ');
    assert.ok(fields.length === section + 1 || fields.length === section + 2, `bad line '${line}'`);
    const words = fields.slice(1, section + 1).join(' ');
    assert.ok(!prob.has(words), `duplicate n-gram '${words}'`);
    prob.set(words, Number(fields[0]));
    if (fields.length === section + 2) bow.set(words, Number(fields[section + 1]));
    if (section === 1) unigrams.push(words);
    seen[section - 1] = (seen[section - 1] ?? 0) + 1;
  }
  assert.ok(ended, 'no \\end\\ marker');
  assert.deepEqual(seen, declared, 'declared counts match the listed n-grams');
  return { declared, prob, bow, order: declared.length, unigrams };
}

/** P(w | history) by ARPA back-off, as a probability. */
function backoffProb(lm: Arpa, history: string[], w: string): number {
  for (let start = 0; start <= history.length; start++) {
    const h = history.slice(start);
    const p = lm.prob.get([...h, w].join(' '));
    if (p !== undefined) {
      // Back-off weights of the longer histories we skipped.
      let bowSum = 0;
      for (let s = 0; s < start; s++) bowSum += lm.bow.get(history.slice(s).join(' ')) ?? 0;
      return 10 ** (p + bowSum);
    }
  }
  return 0;
}

const CORPUS = [
  'the zorblax rocket launches at dawn',
  'launch the zorblax rocket',
  'the rocket launches at noon',
  'the crew checks the zorblax engine before the launch',
  'at dawn the crew launches the rocket',
  'check the engine',
].map((s) => s.split(' '));

describe('ARPA writer (Witten-Bell)', () => {
  for (const order of [1, 2, 3]) {
    it(`order ${order}: every history's distribution sums to 1 after back-off, and every prefix is listed`, () => {
      const lm = parseArpa(arpaFromSentences(CORPUS, order));
      assert.equal(lm.order, order);
      const predicted = lm.unigrams.filter((w) => w !== '<s>');
      // The unigram distribution, and every seen history of each order.
      const histories: string[][] = [[]];
      for (const key of lm.prob.keys()) {
        const words = key.split(' ');
        if (words.length < order && words.at(-1) !== '</s>') histories.push(words);
        // Prefix (and suffix) of each n-gram exist: the sphinxbase trie needs them.
        if (words.length > 1) {
          assert.ok(lm.prob.has(words.slice(0, -1).join(' ')), `prefix of '${key}' is listed`);
          assert.ok(lm.prob.has(words.slice(1).join(' ')), `suffix of '${key}' is listed`);
        }
      }
      assert.ok(histories.length > 1 || order === 1);
      for (const h of histories) {
        if (h.length === 1 && h[0] === '</s>') continue;
        const total = predicted.reduce((acc, w) => acc + backoffProb(lm, h, w), 0);
        assert.ok(Math.abs(total - 1) < 1e-4, `history '${h.join(' ')}' sums to ${total}`);
      }
      // An unseen history backs off to the lower order entirely (bow 1): still a distribution.
      const unseen = predicted.reduce((acc, w) => acc + backoffProb(lm, ['crew', 'noon'], w), 0);
      assert.ok(Math.abs(unseen - 1) < 1e-4, `unseen history sums to ${unseen}`);
    });
  }

  it('lists <s> with -99 and a back-off weight, </s> as a predicted word, and no <unk>', () => {
    const lm = parseArpa(arpaFromSentences(CORPUS));
    assert.equal(lm.prob.get('<s>'), -99);
    assert.ok(lm.bow.has('<s>'));
    assert.ok((lm.prob.get('</s>') ?? -99) > -2);
    assert.ok(!lm.unigrams.includes('<unk>') && !lm.unigrams.includes('<UNK>'));
    assert.equal(lm.declared[0], new Set(CORPUS.flat()).size + 2);
  });

  it('prefers seen continuations: P(rocket | the zorblax) > P(engine | the zorblax) > P(noon | the zorblax)', () => {
    const lm = parseArpa(arpaFromSentences(CORPUS));
    const p = (w: string): number => backoffProb(lm, ['the', 'zorblax'], w);
    assert.ok(p('rocket') > p('engine'));
    assert.ok(p('engine') > p('noon'));
    assert.ok(p('noon') > 0);
  });

  it('is deterministic whatever the sentence order', () => {
    assert.equal(arpaFromSentences(CORPUS), arpaFromSentences([...CORPUS].reverse()));
  });
});

describe('training-text normalisation', () => {
  it('lower-cases, strips punctuation, keeps inner apostrophes and splits sentences', () => {
    assert.deepEqual(normalizeTrainingText("Don't launch the Zorblax-7 rocket! 'Wait,' she said. O'Neill agreed; fine"), [
      ['don\'t', 'launch', 'the', 'zorblax', 'seven', 'rocket'],
      ['wait', 'she', 'said'],
      ['o\'neill', 'agreed'],
      ['fine'],
    ]);
  });

  it('spells numbers, ordinals, decimals, symbols', () => {
    assert.deepEqual(normalizeTrainingText('Gate 42 opens at 3.5% past 1,500 on the 21st & 2nd floor @ 007'), [
      ['gate', 'forty', 'two', 'opens', 'at', 'three', 'point', 'five', 'percent', 'past', 'one', 'thousand', 'five', 'hundred',
        'on', 'the', 'twenty', 'first', 'and', 'second', 'floor', 'at', 'zero', 'zero', 'seven'],
    ]);
    assert.deepEqual(spellCardinal('0'), ['zero']);
    assert.deepEqual(spellCardinal('110'), ['one', 'hundred', 'ten']);
    assert.deepEqual(spellCardinal('2024'), ['two', 'thousand', 'twenty', 'four']);
    assert.deepEqual(spellCardinal('1000001'), ['one', 'million', 'one']);
    assert.deepEqual(spellOrdinal('12'), ['twelfth']);
    assert.deepEqual(spellOrdinal('40'), ['fortieth']);
    assert.deepEqual(spellOrdinal('103'), ['one', 'hundred', 'third']);
  });

  it('removes accents, typographic apostrophes, splits digits from letters, drops empty sentences', () => {
    assert.deepEqual(normalizeTrainingText('Café’s MP3 player…\n\n  ?!  \nnaïve'), [['cafe\'s', 'mp', 'three', 'player'], ['naive']]);
  });
});

describe('pronunciations for the en-US acoustic model', () => {
  it('upper-cases, drops stress digits and maps arpabet symbols the model lacks', () => {
    assert.equal(toSphinxPhones('K AE1 T'), 'K AE T');
    assert.equal(toSphinxPhones(' z ao1 r  b ax0 k s '), 'Z AO R B AH K S');
    assert.equal(toSphinxPhones('B AH1 T EL0 pau'), 'B AH T AH L');
    assert.equal(toSphinxPhones('K QQ T'), undefined);
    assert.equal(toSphinxPhones('pau'), undefined);
    assert.equal(toSphinxPhones(''), undefined);
  });

  it('accepts dictionary words, not markers, fillers or whitespace', () => {
    assert.ok(isDictionaryWord("o'neill"));
    for (const w of ['', '<s>', '[NOISE]', '++BREATH++', 'two words', 'x'.repeat(201)]) assert.ok(!isDictionaryWord(w), w);
  });
});
