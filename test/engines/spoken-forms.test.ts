import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FliteLetterToSound } from '../../src/engines/flite/lts.js';
import { PocketSphinxEngine } from '../../src/engines/pocketsphinx/index.js';

/** Azure Pronunciation datasets give a written word and how it is spoken; the engine makes phones of the spoken words. */
describe('PocketSphinx custom models: spoken forms from Pronunciation datasets', () => {
  let engine: PocketSphinxEngine;
  const dir = mkdtempSync(join(tmpdir(), 'parlance-spoken-'));
  before(async () => {
    engine = new PocketSphinxEngine({ workers: 1, liveDecodersPerWorker: 0, maxQueuedDecodes: 4, letterToSound: new FliteLetterToSound() });
    await engine.ready();
  });
  after(async () => {
    await engine.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('phones come from the dictionary words of the spoken form, else letter-to-sound; unusable forms are skipped', async () => {
    const build = await engine.buildCustomModel(
      {
        locale: 'en-US',
        sentences: ['open the cargobay now', 'ask the zentrix crew', 'call qx7'],
        pronunciations: [],
        spokenForms: [
          { word: 'cargobay', spoken: 'cargo bay' },
          { word: 'zentrix', spoken: 'zen tricks' },
          { word: 'two words', spoken: 'two words' },
        ],
      },
      dir,
    );
    const byWord = new Map(build.newWords.map((w) => [w.word, w]));
    assert.deepEqual(byWord.get('cargobay'), { word: 'cargobay', phones: 'K AA R G OW B EY', source: 'dataset' });
    assert.equal(byWord.get('zentrix')?.source, 'dataset');
    assert.match(byWord.get('zentrix')?.phones ?? '', /^Z EH N .*T R IH K S$/);
    const dict = readFileSync(join(dir, build.files.find((f) => f.endsWith('.dict')) ?? 'words.dict'), 'utf8');
    assert.match(dict, /^cargobay K AA R G OW B EY$/m);
  });
});
