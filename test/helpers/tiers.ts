import { WebSocket } from 'ws';
import { encodeBinaryFrame, encodeTextFrame } from '../../src/protocol/speech-ws/frame-codec.js';
import type { Clock } from '../../src/kernel/time.js';
import { accountPath, armOk } from './arm.js';
import { httpCall, type HttpResult } from './net-client.js';
import { readWav } from './pcm.js';
import { silencePcm, wavFromPcm } from './wav.js';
import type { TestServer } from './server.js';

/** The service clock, moved by tests (month rollover); real time still passes underneath. */
export class MovableClock implements Clock {
  offsetMs = 0;
  now(): number {
    return Date.now() + this.offsetMs;
  }
  /** Moves the clock to `iso` (keeps running from there). */
  setTo(iso: string): void {
    this.offsetMs = Date.parse(iso) - Date.now();
  }
}

/** Creates a Speech resource of the tier through the control plane, sets limit overrides, returns key1. */
export async function createResource(server: TestServer, name: string, sku: 'F0' | 'S0', limits?: Record<string, unknown>): Promise<string> {
  await armOk(server.port, server.adminToken, 'PUT', accountPath(name), { location: 'westus', kind: 'SpeechServices', sku: { name: sku }, properties: {} });
  if (limits) await armOk(server.port, server.adminToken, 'PATCH', `${accountPath(name)}/limits`, limits);
  const keys = (await armOk(server.port, server.adminToken, 'POST', `${accountPath(name)}/listKeys`)) as { key1: string };
  return keys.key1;
}

/** A 16 kHz WAV of "What's the weather like?" followed by silence up to `totalMs` of audio. */
export function paddedWeatherWav(totalMs: number): { wav: Buffer; audioMs: number } {
  const speechBytes = readWav('whatstheweatherlike.wav').data;
  const speechMs = speechBytes.length / 32;
  const pad = silencePcm(Math.max(0, totalMs - speechMs));
  const pcm = Buffer.concat([speechBytes, pad]);
  return { wav: wavFromPcm(pcm), audioMs: pcm.length / 32 };
}

/** Short-audio REST recognition on the container-style host. */
export function restRecognize(server: TestServer, key: string, wav: Buffer, query = 'language=en-US'): Promise<HttpResult> {
  return httpCall({ connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' }, 'POST', `/speech/recognition/conversation/cognitiveservices/v1?${query}`, {
    headers: { 'Ocp-Apim-Subscription-Key': key, 'Content-Type': 'audio/wav; codecs=audio/pcm; samplerate=16000' },
    body: wav,
  });
}

/** Text-to-speech REST with a small SSML document speaking `text`. */
export function restSynthesize(server: TestServer, key: string, text: string): Promise<HttpResult> {
  const ssml = `<speak version='1.0' xml:lang='en-US'><voice name='en-US-JennyNeural'>${text}</voice></speak>`;
  return httpCall({ connect: '127.0.0.1', port: server.port, host: `127.0.0.1:${server.port}`, from: '127.0.0.1' }, 'POST', '/cognitiveservices/v1', {
    headers: { 'Ocp-Apim-Subscription-Key': key, 'Content-Type': 'application/ssml+xml', 'X-Microsoft-OutputFormat': 'riff-16khz-16bit-mono-pcm', 'User-Agent': 'parlance-test' },
    body: ssml,
  });
}

/** Opens a recognition WebSocket with a key; resolves once open, or with the refused upgrade's status. */
export function openRecognitionSocket(
  server: TestServer,
  key: string,
  query = 'language=en-US',
): Promise<{ ws: WebSocket } | { status: number; retryAfter: string | undefined; body: string }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.wsUrl}/speech/recognition/conversation/cognitiveservices/v1?${query}`, { headers: { 'Ocp-Apim-Subscription-Key': key } });
    ws.once('open', () => resolve({ ws }));
    ws.once('unexpected-response', (_req, res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const h = res.headers['retry-after'];
        resolve({ status: res.statusCode ?? 0, retryAfter: typeof h === 'string' ? h : undefined, body: Buffer.concat(chunks).toString('utf8') });
      });
    });
    ws.once('error', reject);
  });
}

/** Sends `wav` as one recognition turn (header, 3200-byte chunks, end of stream), as fast as the socket takes it. */
export function sendTurn(ws: WebSocket, requestId: string, wav: Buffer, endOfStream = true): void {
  ws.send(encodeTextFrame('speech.config', requestId, { context: { system: { name: 'parlance-test' } } }));
  ws.send(encodeBinaryFrame('audio', requestId, wav.subarray(0, 44)));
  for (let i = 44; i < wav.length; i += 3200) ws.send(encodeBinaryFrame('audio', requestId, wav.subarray(i, i + 3200)));
  if (endOfStream) ws.send(encodeBinaryFrame('audio', requestId, Buffer.alloc(0)));
}

/** `ms` of silence as a 16 kHz WAV: a recognition that holds its slot only that long (pacing). */
export function silentWav(ms: number): Buffer {
  return wavFromPcm(silencePcm(ms));
}
