import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { startServer, PS_TESTDATA, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { recognizeContinuous, sdk } from '../helpers/sdk.js';
import { wavFromPcm } from '../helpers/wav.js';
import { wer } from '../helpers/wer.js';

interface Item {
  name: string;
  wav: Buffer;
  ref: string;
}

/** The exact-reference sets of docs/engines.md §1: SDK short files, LibriVox, commands. */
function corpus(): Item[] {
  const items: Item[] = [
    { name: 'whatstheweatherlike', wav: readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')), ref: "What's the weather like?" },
    { name: 'TurnOnTheLamp', wav: readFileSync(join(SDK_AUDIO, 'TurnOnTheLamp.wav')), ref: 'Turn on the lamp.' },
    { name: 'wreck-a-nice-beach', wav: readFileSync(join(SDK_AUDIO, 'wreck-a-nice-beach.wav')), ref: 'Wreck a nice beach.' },
  ];
  for (const n of ['01', '02', '03', '04']) {
    items.push({ name: `passport${n}`, wav: readFileSync(join(SDK_AUDIO, `myVoiceIsMyPassportVerifyMe${n}.wav`)), ref: 'My voice is my passport, verify me.' });
  }
  const lines = (path: string): Array<{ id: string; text: string }> =>
    readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => /^<s>(.*)<\/s>\s*\((.+)\)\s*$/.exec(l.trim()))
      .filter((m): m is RegExpExecArray => m !== null)
      .map((m) => ({ id: m[2] ?? '', text: (m[1] ?? '').trim() }));
  for (const { id, text } of lines(join(PS_TESTDATA, 'librivox/transcription'))) {
    items.push({ name: id, wav: readFileSync(join(PS_TESTDATA, 'librivox', `${id}.wav`)), ref: text });
  }
  for (const { id, text } of lines(join(PS_TESTDATA, 'cards/cards.transcription'))) {
    items.push({ name: `cards-${id}`, wav: readFileSync(join(PS_TESTDATA, 'cards', `${id}.wav`)), ref: text });
  }
  items.push({ name: 'goforward', wav: wavFromPcm(readFileSync(join(PS_TESTDATA, 'goforward.raw'))), ref: 'go forward ten meters' });
  return items;
}

describe('accuracy: word error rate through the server and the SDK', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer();
  });
  after(async () => {
    await server.close();
  });

  it('WER over the exact-reference corpus is at most 22 %', async () => {
    const pairs: Array<{ ref: string; hyp: string }> = [];
    const rows: string[] = [];
    for (const item of corpus()) {
      const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);
      const events = await recognizeContinuous(config, item.wav);
      const hyp = events
        .filter((e) => e.kind === 'recognized' && e.reason === sdk.ResultReason.RecognizedSpeech)
        .map((e) => e.text ?? '')
        .join(' ');
      pairs.push({ ref: item.ref, hyp });
      const one = wer([{ ref: item.ref, hyp }]);
      rows.push(`${item.name.padEnd(44)} ${(one.wer * 100).toFixed(1).padStart(6)} %  ${hyp}`);
    }
    const total = wer(pairs);
    console.log(rows.join('\n'));
    console.log(
      `WER ${(total.wer * 100).toFixed(1)} % over ${total.refWords} words (S ${total.substitutions}, D ${total.deletions}, I ${total.insertions})`,
    );
    assert.ok(total.refWords >= 130, 'the whole gold corpus was scored');
    assert.ok(total.wer <= 0.22, `WER ${(total.wer * 100).toFixed(1)} % must be at most 22 %`);
  });
});
