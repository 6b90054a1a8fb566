import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { startServer, SDK_AUDIO, type TestServer } from '../helpers/server.js';
import { encodeBinaryFrame, encodeTextFrame } from '../../src/protocol/speech-ws/frame-codec.js';
import { recognizeOnce, sdk } from '../helpers/sdk.js';
import { prng } from '../helpers/prng.js';

function connect(server: TestServer, path = '/speech/recognition/conversation/cognitiveservices/v1?language=en-US'): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}${path}`, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  });
}

function closed(ws: WebSocket, timeoutMs = 15_000): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    if (ws.readyState === ws.CLOSED) return resolve({ code: 1006, reason: '' });
    const t = setTimeout(() => reject(new Error('socket did not close')), timeoutMs);
    ws.once('close', (code, reason) => {
      clearTimeout(t);
      resolve({ code, reason: reason.toString() });
    });
  });
}

function randomBytes(rnd: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
  return b;
}

describe('WebSocket robustness', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ config: { limits: { wsMaxPayloadBytes: 65_536, shutdownGraceMs: 200 } } });
  });
  after(async () => {
    await server.close();
  });

  it('survives thousands of malformed frames, garbage audio and out-of-order messages, and keeps serving', async () => {
    const rnd = prng(42);
    const id = 'A'.repeat(32);
    const valid = [
      encodeTextFrame('speech.config', id, { context: {} }),
      encodeTextFrame('speech.context', id, { phraseDetection: { mode: 'Conversation' } }),
    ];
    let sent = 0;
    let closes = 0;
    for (let round = 0; round < 40; round++) {
      const ws = await connect(server);
      const done = closed(ws);
      for (let i = 0; i < 60 && ws.readyState === ws.OPEN; i++) {
        const kind = Math.floor(rnd() * 8);
        let frame: Buffer | string;
        switch (kind) {
          case 0: // random binary
            frame = randomBytes(rnd, Math.floor(rnd() * 300));
            break;
          case 1: // truncated header length
            frame = Buffer.from([0xff, 0xff, 0x41]);
            break;
          case 2: // garbage audio inside a valid frame (sometimes starting like a WAV or Ogg header)
            frame = encodeBinaryFrame('audio', id, Buffer.concat([Buffer.from(rnd() < 0.5 ? 'RIFF' : 'OggS'), randomBytes(rnd, 3200)]));
            break;
          case 3: // random text
            frame = randomBytes(rnd, Math.floor(rnd() * 200)).toString('latin1');
            break;
          case 4: // headers without a path
            frame = 'X-RequestId: 123\r\n\r\n{}';
            break;
          case 5: // valid control messages out of order, invalid JSON bodies
            frame = rnd() < 0.5 ? (valid[Math.floor(rnd() * valid.length)] ?? '') : `Path: speech.context\r\nX-RequestId: ${id}\r\n\r\n{not json`;
            break;
          case 6: // end of stream for an unknown turn, audio for another request id
            frame = encodeBinaryFrame('audio', rnd() < 0.5 ? id : 'B'.repeat(32), rnd() < 0.5 ? Buffer.alloc(0) : randomBytes(rnd, 640));
            break;
          default: // oversize message (beyond maxPayload)
            frame = Buffer.alloc(70_000, 1);
        }
        ws.send(frame);
        sent++;
      }
      if (ws.readyState === ws.OPEN) ws.close(1000);
      const c = await done;
      if (c.code !== 1000) closes++;
    }
    assert.ok(sent > 1000, `sent ${sent} frames`);
    assert.ok(closes > 0, 'bad frames are answered with a close');

    // Still alive and correct for a real client.
    const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);
    const { result } = await recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    assert.equal(result.text, "What's the weather like?");
  });

  it('a session killed mid-turn does not disturb a concurrent one', async () => {
    const ws = await connect(server);
    const id = 'C'.repeat(32);
    ws.send(encodeTextFrame('speech.config', id, {}));
    ws.send(encodeTextFrame('speech.context', id, {}));
    const wav = readFileSync(join(SDK_AUDIO, 'katiesteve_mono.wav'));
    ws.send(encodeBinaryFrame('audio', id, wav.subarray(0, 44)));
    for (let i = 44; i < 200_000; i += 3200) ws.send(encodeBinaryFrame('audio', id, wav.subarray(i, i + 3200)));
    const config = sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key);
    const pending = recognizeOnce(config, readFileSync(join(SDK_AUDIO, 'whatstheweatherlike.wav')));
    ws.terminate();
    const { result } = await pending;
    assert.equal(result.text, "What's the weather like?");
  });

  it('refuses upgrades with a bad key (401) before any session starts', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const ws = new WebSocket(`${server.wsUrl}/speech/recognition/interactive/cognitiveservices/v1?language=en-US`, { headers: { 'Ocp-Apim-Subscription-Key': 'nope' } });
      ws.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
      ws.once('open', () => reject(new Error('upgrade should be refused')));
      ws.once('error', () => undefined);
    });
    assert.equal(status, 401);
  });

  it('the synthesis socket survives garbage, out-of-order messages and invalid requests, and keeps serving', async () => {
    const rnd = prng(7);
    const id = 'D'.repeat(32);
    for (let round = 0; round < 20; round++) {
      const ws = await connect(server, '/tts/cognitiveservices/websocket/v1');
      const done = closed(ws);
      for (let i = 0; i < 30 && ws.readyState === ws.OPEN; i++) {
        const kind = Math.floor(rnd() * 5);
        if (kind === 0) ws.send(randomBytes(rnd, Math.floor(rnd() * 200)));
        else if (kind === 1) ws.send(encodeTextFrame('synthesis.context', id, { synthesis: { audio: { outputFormat: rnd() < 0.5 ? 'raw-16khz-16bit-mono-pcm' : 'no-such-format' } } }));
        else if (kind === 2) ws.send(`Path: ssml\r\nX-RequestId: ${id}\r\n\r\n<speak>${randomBytes(rnd, 20).toString('latin1')}`);
        else if (kind === 3) ws.send(encodeTextFrame('synthesis.control', id, { action: 'stop' }));
        else ws.send(randomBytes(rnd, 100).toString('latin1'));
      }
      if (ws.readyState === ws.OPEN) ws.close(1000);
      await done;
    }
    // Still serving a real request on a fresh socket.
    const ws = await connect(server, '/tts/cognitiveservices/websocket/v1');
    const got: string[] = [];
    let audioBytes = 0;
    const finished = new Promise<void>((resolve) => {
      ws.on('message', (data, isBinary) => {
        if (isBinary) {
          audioBytes += (data as Buffer).length;
          return;
        }
        const path = /Path:\s*([^\r\n]+)/i.exec(String(data))?.[1] ?? '';
        got.push(path);
        if (path === 'turn.end') resolve();
      });
    });
    ws.send(encodeTextFrame('speech.config', id, { context: {} }));
    ws.send(encodeTextFrame('synthesis.context', id, { synthesis: { audio: { outputFormat: 'raw-16khz-16bit-mono-pcm', metadataOptions: { wordBoundaryEnabled: 'true' } } } }));
    ws.send(`Path: ssml\r\nX-RequestId: ${id}\r\nContent-Type: application/ssml+xml\r\n\r\n<speak version='1.0' xml:lang='en-US'><voice name='en-US-GuyNeural'>Still here.</voice></speak>`);
    await finished;
    assert.deepEqual(got.slice(0, 2), ['turn.start', 'response']);
    assert.equal(got[got.length - 1], 'turn.end');
    assert.ok(got.includes('audio.metadata'));
    assert.ok(audioBytes > 16_000, 'audio arrived');
    ws.close();
  });

  it('echoes the USP subprotocol that the C++ SDKs offer', async () => {
    const ws = new WebSocket(`${server.wsUrl}/stt/speech/universal/v2`, 'USP', { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    assert.equal(ws.protocol, 'USP');
    ws.close();
  });
});
