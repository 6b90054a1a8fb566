import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { decodeTextFrame, encodeBinaryFrame, encodeTextFrame } from '../../src/protocol/speech-ws/frame-codec.js';

interface Received {
  path: string;
  requestId: string | undefined;
  body: Record<string, unknown>;
}

/** A bare protocol client: the frames exactly as the SDKs send them, and everything the service answers. */
class Client {
  readonly received: Received[] = [];
  #waiters: Array<() => void> = [];
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = decodeTextFrame(String(data));
      this.received.push({ path: m.path, requestId: m.requestId, body: (m.body === '' ? {} : JSON.parse(m.body)) as Record<string, unknown> });
      for (const w of this.#waiters.splice(0)) w();
    });
  }

  static async open(server: TestServer, path: string, protocol?: string): Promise<Client> {
    const ws = new WebSocket(`${server.wsUrl}${path}`, protocol ? [protocol] : [], { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new Client(ws);
  }

  text(path: string, requestId: string | undefined, body: object): void {
    if (requestId === undefined) {
      // The C++ SDKs send speech.config with no X-RequestId at all.
      this.ws.send(`Path: ${path}\r\nContent-Type: application/json\r\n\r\n${JSON.stringify(body)}`);
    } else this.ws.send(encodeTextFrame(path, requestId, body));
  }

  audio(requestId: string, payload: Buffer): void {
    this.ws.send(encodeBinaryFrame('audio', requestId, payload));
  }

  /** Sends a WAV as the JS SDK does: header message, 3200-byte chunks, empty end-of-stream message. */
  sendWav(requestId: string, wav: Buffer, headerSeparate = true): void {
    if (headerSeparate) {
      this.audio(requestId, wav.subarray(0, 44));
      for (let i = 44; i < wav.length; i += 3200) this.audio(requestId, wav.subarray(i, i + 3200));
    } else {
      for (let i = 0; i < wav.length; i += 3244) this.audio(requestId, wav.subarray(i, i + 3244));
    }
    this.audio(requestId, Buffer.alloc(0));
  }

  async until(pred: (r: Received[]) => boolean, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${this.received.map((r) => r.path).join(', ')}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  turn(requestId: string): Received[] {
    return this.received.filter((r) => r.requestId === requestId);
  }
}

const ID1 = '11111111111111111111111111111111';
const ID2 = '22222222222222222222222222222222';

function assertTurnShape(msgs: Received[]): void {
  assert.equal(msgs[0]?.path, 'turn.start', 'turn.start first');
  assert.equal(msgs[msgs.length - 1]?.path, 'turn.end', 'turn.end last');
  assert.equal(msgs.filter((m) => m.path === 'turn.end').length, 1, 'one turn.end');
  assert.ok(msgs.some((m) => m.path === 'speech.phrase'), 'a phrase in every turn');
  const firstPhrase = msgs.findIndex((m) => m.path === 'speech.phrase');
  const start = msgs.findIndex((m) => m.path === 'speech.startDetected');
  assert.ok(start > 0 && start < firstPhrase, 'speech.startDetected before the phrase');
}

describe('WebSocket protocol details', () => {
  let server: TestServer;
  let weather: Buffer;
  let lamp: Buffer;
  before(async () => {
    server = await startServer();
    weather = readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav'));
    lamp = readFileSync(join(SDK_AUDIO, 'TurnOnTheLamp.wav'));
  });
  after(async () => {
    await server.close();
  });

  it('several turns on one connection, each tagged with its own X-RequestId, offsets restarting per turn', async () => {
    const c = await Client.open(server, '/speech/recognition/interactive/cognitiveservices/v1?language=en-US&format=simple');
    c.text('speech.config', ID1, { context: {} });
    c.text('speech.context', ID1, { phraseDetection: { language: 'en-US' }, phraseOutput: {} });
    c.sendWav(ID1, weather);
    await c.until((r) => r.some((m) => m.requestId === ID1 && m.path === 'turn.end'));
    c.text('telemetry', ID1, { Metrics: [] });
    c.text('speech.context', ID2, { phraseDetection: { language: 'en-US' }, phraseOutput: {} });
    c.sendWav(ID2, lamp);
    await c.until((r) => r.some((m) => m.requestId === ID2 && m.path === 'turn.end'));
    const t1 = c.turn(ID1);
    const t2 = c.turn(ID2);
    assertTurnShape(t1);
    assertTurnShape(t2);
    assert.equal(c.received.length, t1.length + t2.length, 'every frame carries the id of its turn');
    assert.equal(t1.find((m) => m.path === 'speech.phrase')?.body['DisplayText'], "What's the weather like?");
    const p2 = t2.find((m) => m.path === 'speech.phrase')?.body;
    assert.equal(p2?.['RecognitionStatus'], 'Success');
    assert.ok(Number(p2?.['Offset']) < 10_000_000, 'the second turn has its own timeline');
    c.ws.close();
  });

  it('C++ style: speech.config without X-RequestId, USP subprotocol, v2 path, upper-case mode, header prefixed to the first audio', async () => {
    const c = await Client.open(server, '/stt/speech/universal/v2', 'USP');
    c.text('speech.config', undefined, { context: { system: { name: 'SpeechSDK', build: 'C++' } } });
    c.text('speech.context', ID1, { audio: { streams: { '1': null } }, phraseDetection: { language: 'en-us', mode: 'CONVERSATION' }, phraseOutput: { format: 'Detailed' } });
    c.sendWav(ID1, readFileSync(join(SDK_AUDIO, 'katiesteve_mono.wav')), false);
    await c.until((r) => r.some((m) => m.path === 'turn.end'), 60_000);
    const phrases = c.received.filter((m) => m.path === 'speech.phrase' && m.body['RecognitionStatus'] === 'Success');
    assert.ok(phrases.length >= 2, 'conversation mode from speech.context yields several phrases');
    for (const p of phrases) assert.ok(Array.isArray(p.body['NBest']) && (p.body['NBest'] as unknown[]).length > 0, 'detailed from phraseOutput.format');
    assert.equal(c.received[c.received.length - 2]?.path, 'speech.endDetected', 'speech.endDetected just before turn.end');
    c.ws.close();
  });

  it('dictation ends with an EndOfDictation phrase before turn.end', async () => {
    const c = await Client.open(server, '/speech/recognition/dictation/cognitiveservices/v1?language=en-US');
    c.text('speech.context', ID1, {});
    c.sendWav(ID1, weather);
    await c.until((r) => r.some((m) => m.path === 'turn.end'));
    const statuses = c.received.filter((m) => m.path === 'speech.phrase').map((m) => m.body['RecognitionStatus']);
    assert.deepEqual(statuses, ['Success', 'EndOfDictation']);
    c.ws.close();
  });

  it('audio with a request id of no open turn after the end of stream is ignored (the JS SDK sends a second end)', async () => {
    const c = await Client.open(server, '/speech/recognition/interactive/cognitiveservices/v1?language=en-US');
    c.text('speech.context', ID1, {});
    c.sendWav(ID1, weather);
    await c.until((r) => r.some((m) => m.path === 'turn.end'));
    c.audio(ID1, Buffer.alloc(0));
    c.text('telemetry', ID1, {});
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(c.received.filter((m) => m.path === 'turn.start').length, 1, 'no new turn');
    c.ws.close();
  });

  it('segmentation silence from speech.context splits utterances: a long pause is two phrases, a short one is one', async () => {
    // "What's the weather like" + 400 ms silence + "Turn on the lamp".
    const pcm = Buffer.concat([weather.subarray(44), Buffer.alloc(12_800), lamp.subarray(44)]);
    const header = Buffer.from(weather.subarray(0, 44));
    const count = async (segmentationMs: number): Promise<number> => {
      const c = await Client.open(server, '/speech/recognition/conversation/cognitiveservices/v1?language=en-US');
      c.text('speech.context', ID1, { phraseDetection: { conversation: { segmentation: { mode: 'Custom', segmentationSilenceTimeoutMs: segmentationMs } } } });
      c.sendWav(ID1, Buffer.concat([header, pcm]));
      await c.until((r) => r.some((m) => m.path === 'turn.end'));
      c.ws.close();
      return c.received.filter((m) => m.path === 'speech.phrase' && m.body['RecognitionStatus'] === 'Success').length;
    };
    assert.equal(await count(1500), 1);
    assert.ok((await count(100)) >= 2);
  });
});
