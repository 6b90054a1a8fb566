import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, type TestServer } from '../helpers/server.js';
import { wer } from '../helpers/wer.js';

/** Sentences of the tests' own choosing: everyday requests, numbers, questions. */
const SENTENCES = [
  'Please call Stella and ask her to bring these things with her from the store.',
  'The weather today will be sunny with a high of seventy degrees.',
  'Turn on the lights in the living room and close the kitchen door.',
  'Our meeting has been moved to Thursday afternoon at three o clock.',
  'What time does the next train leave for the city?',
  'I would like to order two large pizzas for dinner tonight.',
  'Remind me to buy milk and bread on the way home.',
  'The quick brown fox jumps over the lazy dog.',
  'Can you tell me how far it is to the nearest gas station?',
  'My flight was delayed by two hours because of the storm.',
  'Set an alarm for seven in the morning.',
  'She reads a book every night before she goes to sleep.',
];

async function synthesize(server: TestServer, text: string): Promise<Buffer> {
  const ssml = `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-AvaMultilingualNeural'>${text}</voice></speak>`;
  const res = await fetch(`${server.httpUrl}/cognitiveservices/v1`, {
    method: 'POST',
    headers: { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-16khz-16bit-mono-pcm' },
    body: ssml,
  });
  assert.equal(res.status, 200, await res.clone().text());
  return Buffer.from(await res.arrayBuffer());
}

async function recognize(server: TestServer, wav: Buffer): Promise<string> {
  const res = await fetch(`${server.httpUrl}/speech/recognition/conversation/cognitiveservices/v1?language=en-US&format=detailed`, {
    method: 'POST',
    headers: { 'Ocp-Apim-Subscription-Key': server.key, 'Content-Type': 'audio/wav; codecs=audio/pcm; samplerate=16000' },
    body: wav,
  });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { RecognitionStatus: string; DisplayText?: string };
  return body.DisplayText ?? '';
}

describe('round trip: Parlance speaks, Parlance listens', () => {
  let server: TestServer;
  before(async () => {
    // Long sentences are one phrase: a pause inside a synthesized sentence must not end the utterance.
    server = await startServer({ config: { recognition: { segmentationSilenceTimeoutMs: 1_500 } } });
  });
  after(async () => {
    await server.close();
  });

  it('the default voice is understood by the recognizer: WER at most 10 %', async () => {
    const pairs: Array<{ ref: string; hyp: string }> = [];
    for (const ref of SENTENCES) {
      const hyp = await recognize(server, await synthesize(server, ref));
      pairs.push({ ref, hyp });
      console.log(`${(wer([{ ref, hyp }]).wer * 100).toFixed(0).padStart(4)} %  ${hyp}`);
    }
    const total = wer(pairs);
    console.log(`round-trip WER ${(total.wer * 100).toFixed(1)} % over ${total.refWords} words (S ${total.substitutions}, D ${total.deletions}, I ${total.insertions})`);
    assert.ok(total.wer <= 0.1, `WER ${(total.wer * 100).toFixed(1)} % must be at most 10 %`);
  });
});
