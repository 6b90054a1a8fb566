import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import { WebSocket } from 'ws';
import { startServer, type TestServer } from '../helpers/server.js';
import { recognizeContinuous, recognizeOnce, sdk, type ContinuousEvent } from '../helpers/sdk.js';
import { bytesFromS16, concatInt16, readWav } from '../helpers/pcm.js';
import { wavFromPcm } from '../helpers/wav.js';
import { wordErrors } from '../helpers/wer.js';
import { decodeTextFrame, encodeBinaryFrame, encodeTextFrame } from '../../src/protocol/speech-ws/frame-codec.js';
import { Segmenter, type SegmentEvent } from '../../src/domain/recognition/segmenter.js';
import { connectionAgeReason, connectionAudioReason } from '../../src/protocol/speech-ws/recognition-session.js';

// Audio limits of the recognition WebSocket (protocol §A.9, §A.12, §F.3): an interactive turn ends at
// 15 s of audio with the utterance so far; a connection ends (1000) at its audio/age limit, and the
// SDK reconnects and replays the audio after its last recognized phrase.

const RATE = 16_000;
const SPM = RATE / 1000;
/** Azure's default segmentation silence: a pause this long ends an utterance. */
const SEGMENTATION_SILENCE_MS = 500;

// English recordings (16 kHz mono) whose speech has no pause of SEGMENTATION_SILENCE_MS inside.
const CLIPS = [
  'weatheratthebeach.wav',
  'whatstheweatherlike.wav',
  'myVoiceIsMyPassportVerifyMe01.wav',
  'weatherinthemountain.wav',
  'TurnOnTheLamp.wav',
  'myVoiceIsMyPassportVerifyMe04.wav',
  'contoso-hows-the-weather.wav',
  'wreck-a-nice-beach.wav',
  'myVoiceIsMyPassportVerifyMe03.wav',
];

function segments(pcm: Int16Array): SegmentEvent[] {
  const seg = new Segmenter({ segmentationSilenceMs: SEGMENTATION_SILENCE_MS, maxUtteranceMs: 70_000 });
  return [...seg.push(pcm), ...seg.finish()];
}

/** A recording's speech, from its first onset to its last end (± marginMs), leading and trailing silence cut off. */
function speechOf(file: string, marginMs = 100): Int16Array {
  const pcm = readWav(file).pcm;
  assert.ok(pcm, `${file} is 16-bit PCM`);
  const ev = segments(pcm);
  const start = ev.find((e) => e.type === 'speech-start')?.atMs;
  const end = ev.filter((e) => e.type === 'speech-end').at(-1)?.atMs;
  assert.ok(start !== undefined && end !== undefined, `${file} has speech`);
  return pcm.subarray(Math.max(0, Math.round((start - marginMs) * SPM)), Math.min(pcm.length, Math.round((end + marginMs) * SPM)));
}

/** Longest run of quiet 10 ms frames (rms below ~40 dB, the segmenter's speech floor) between the first and last loud one. */
function longestInnerPauseMs(pcm: Int16Array): number {
  const frames: boolean[] = [];
  for (let i = 0; i + 160 <= pcm.length; i += 160) {
    let sum = 0;
    for (let k = i; k < i + 160; k++) sum += (pcm[k] ?? 0) ** 2;
    frames.push(20 * Math.log10(Math.sqrt(sum / 160) + 1) >= 40);
  }
  const first = frames.indexOf(true);
  const last = frames.lastIndexOf(true);
  let run = 0;
  let longest = 0;
  for (let i = first; i <= last; i++) {
    run = frames[i] ? 0 : run + 1;
    longest = Math.max(longest, run);
  }
  return longest * 10;
}

/**
 * ~19 s of speech without a pause the service would end an utterance at: real recordings trimmed to
 * their speech and put back to back (the joins are ≤ 200 ms of quiet).
 */
function continuousSpeech(): Int16Array {
  const pcm = concatInt16(CLIPS.map((f) => speechOf(f)));
  return pcm.subarray(0, Math.min(pcm.length, 19_000 * SPM));
}

/** Several recordings, each followed by ~1 s of silence (several utterances). */
function separatedPhrases(): Int16Array {
  const silence = new Int16Array(1_000 * SPM);
  const files = [...CLIPS, 'explicitpunc1.wav', 'whatstheweatherlike.wav', 'TurnOnTheLamp.wav'];
  return concatInt16([silence.subarray(0, 300 * SPM), ...files.flatMap((f) => [speechOf(f, 150), silence])]);
}

function wavOf(pcm: Int16Array): Buffer {
  return wavFromPcm(bytesFromS16(pcm));
}

function norm(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9' ]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

const TICKS_PER_MS = 10_000;

interface Received {
  path: string;
  requestId: string | undefined;
  body: Record<string, unknown>;
}

/** A bare USP client: the frames as the SDKs send them, every text frame received, and the close. */
class RawClient {
  readonly received: Received[] = [];
  readonly closed: Promise<{ code: number; reason: string; at: number }>;
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data, isBinary) => {
      if (isBinary) return;
      const m = decodeTextFrame(String(data));
      this.received.push({ path: m.path, requestId: m.requestId, body: (m.body === '' ? {} : JSON.parse(m.body)) as Record<string, unknown> });
    });
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString(), at: Date.now() })));
  }

  static async open(server: TestServer, path: string): Promise<RawClient> {
    const ws = new WebSocket(`${server.wsUrl}${path}`, { headers: { 'Ocp-Apim-Subscription-Key': server.key } });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return new RawClient(ws);
  }

  context(requestId: string, body: object = {}): void {
    this.ws.send(encodeTextFrame('speech.context', requestId, body));
  }

  /** A 16 kHz WAV header, then the samples in `chunkMs` messages, all at once (faster than real time). */
  audio(requestId: string, pcm: Int16Array, chunkMs = 100, header = true): void {
    if (header) this.ws.send(encodeBinaryFrame('audio', requestId, wavFromPcm(Buffer.alloc(0)).subarray(0, 44)));
    const bytes = bytesFromS16(pcm);
    const step = chunkMs * SPM * 2;
    for (let i = 0; i < bytes.length; i += step) this.ws.send(encodeBinaryFrame('audio', requestId, bytes.subarray(i, i + step)));
  }

  endOfStream(requestId: string): void {
    this.ws.send(encodeBinaryFrame('audio', requestId, Buffer.alloc(0)));
  }

  /**
   * Header, audio in `chunkMs` messages and the end of stream in ONE socket write, so the server has
   * the end of stream in hand by the time it processes the audio that follows its first read.
   */
  audioAndEndInOneWrite(requestId: string, pcm: Int16Array, chunkMs: number): void {
    const messages = [wavFromPcm(Buffer.alloc(0)).subarray(0, 44)];
    const bytes = bytesFromS16(pcm);
    const step = chunkMs * SPM * 2;
    for (let i = 0; i < bytes.length; i += step) messages.push(bytes.subarray(i, i + step));
    messages.push(Buffer.alloc(0));
    const frames = messages.map((m) => maskedBinaryFrame(encodeBinaryFrame('audio', requestId, m)));
    // ws has no public access to its socket; the frames are built here exactly as ws would.
    (this.ws as unknown as { _socket: Socket })._socket.write(Buffer.concat(frames));
  }

  async until(pred: (r: Received[]) => boolean, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pred(this.received)) {
      if (Date.now() > deadline) throw new Error(`timed out; received ${this.received.map((r) => r.path).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

/** A client-to-server binary WebSocket frame (masked, RFC 6455 §5.2). */
function maskedBinaryFrame(payload: Buffer): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65_536 ? 4 : 10);
  head[0] = 0x82;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65_536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const mask = randomBytes(4);
  const body = Buffer.from(payload);
  for (let i = 0; i < body.length; i++) body[i] = (body[i] ?? 0) ^ (mask[i & 3] ?? 0);
  return Buffer.concat([head, mask, body]);
}

const ID1 = 'A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1A1';

/** Counts the recognition WebSocket upgrades the server receives. */
function countUpgrades(server: TestServer): { readonly count: number } {
  const counter = { count: 0 };
  server.app.http.server.on('upgrade', (req: { url?: string }) => {
    if (req.url?.includes('/speech/recognition/')) counter.count++;
  });
  return counter;
}

interface Phrase {
  text: string;
  offsetMs: number;
  endMs: number;
}

function recognizedPhrases(events: ContinuousEvent[]): Phrase[] {
  return events
    .filter((e) => e.kind === 'recognized' && e.reason === sdk.ResultReason.RecognizedSpeech)
    .map((e) => ({ text: norm(e.text ?? ''), offsetMs: (e.offset ?? 0) / TICKS_PER_MS, endMs: ((e.offset ?? 0) + (e.duration ?? 0)) / TICKS_PER_MS }));
}

describe('audio limits: interactive turns end at 15 s of audio', () => {
  let server: TestServer;
  let speech: Int16Array;
  before(async () => {
    server = await startServer();
    speech = continuousSpeech();
  });
  after(async () => {
    await server.close();
  });

  it('the test audio is one utterance longer than 15 s (no pause the service would end it at)', () => {
    assert.ok(speech.length / SPM >= 17_000, `long enough: ${speech.length / SPM} ms`);
    const ev = segments(speech);
    assert.equal(ev[0]?.type, 'speech-start');
    assert.ok((ev[0]?.atMs ?? Infinity) < 500, 'speech from the start');
    const firstEnd = ev.find((e) => e.type === 'speech-end');
    assert.ok(firstEnd === undefined || firstEnd.atMs >= 16_500, `no utterance end before 16.5 s: ${JSON.stringify(ev)}`);
    assert.ok(longestInnerPauseMs(speech) < SEGMENTATION_SILENCE_MS, `no quiet stretch of ${SEGMENTATION_SILENCE_MS} ms (longest ${longestInnerPauseMs(speech)} ms)`);
  });

  it('SDK recognizeOnce (fromHost, default config): RecognizedSpeech covering the first 15 s', async () => {
    const started = Date.now();
    const { result, canceled } = await recognizeOnce(sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key), wavOf(speech));
    assert.equal(canceled?.errorDetails, undefined);
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    assert.ok(result.text.split(' ').length >= 20, `many words: ${result.text}`);
    const durationMs = result.duration / TICKS_PER_MS;
    const endMs = (result.offset + result.duration) / TICKS_PER_MS;
    assert.ok(durationMs >= 13_000 && durationMs <= 15_500, `Duration ${durationMs} ms`);
    assert.ok(endMs <= 15_500, `ends by 15 s: ${endMs} ms`);
    // The SDK sends 5 s at once, then 2× real time: the whole 19 s would take ~12 s to send.
    assert.ok(Date.now() - started < 60_000);
  });

  it('raw client: Success phrase, speech.endDetected and turn.end after 15 s of audio, with no end of stream', async () => {
    const c = await RawClient.open(server, '/speech/recognition/interactive/cognitiveservices/v1?language=en-US&format=detailed');
    c.context(ID1);
    // Just over 15 s and no end-of-stream message: the turn must end on its own, not wait for more.
    c.audio(ID1, speech.subarray(0, 15_300 * SPM));
    await c.until((r) => r.some((m) => m.path === 'turn.end'));
    const paths = c.received.map((m) => m.path).filter((p) => p !== 'speech.hypothesis');
    assert.deepEqual(paths, ['turn.start', 'speech.startDetected', 'speech.endDetected', 'speech.phrase', 'turn.end']);
    const phrase = c.received.find((m) => m.path === 'speech.phrase')?.body ?? {};
    assert.equal(phrase['RecognitionStatus'], 'Success');
    const durationMs = Number(phrase['Duration']) / TICKS_PER_MS;
    const endMs = (Number(phrase['Offset']) + Number(phrase['Duration'])) / TICKS_PER_MS;
    assert.ok(durationMs >= 13_000 && durationMs <= 15_500, `Duration ${durationMs} ms`);
    assert.ok(endMs <= 15_050, `recognized no audio past 15 s: ends at ${endMs} ms`);
    const endDetected = Number(c.received.find((m) => m.path === 'speech.endDetected')?.body['Offset']) / TICKS_PER_MS;
    assert.ok(endDetected > 14_000 && endDetected <= 15_000, `speech.endDetected at the limit: ${endDetected} ms`);
    c.ws.close();
  });
});

describe('audio limits: limits.interactiveMaxAudioSeconds is configurable', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ config: { limits: { interactiveMaxAudioSeconds: 6 } } });
  });
  after(async () => {
    await server.close();
  });

  it('a 6 s limit ends the turn at 6 s with the utterance so far; the SDK gets RecognizedSpeech', async () => {
    const speech = continuousSpeech();
    const c = await RawClient.open(server, '/speech/recognition/interactive/cognitiveservices/v1?language=en-US');
    c.context(ID1);
    c.audio(ID1, speech.subarray(0, 10_000 * SPM));
    await c.until((r) => r.some((m) => m.path === 'turn.end'));
    const phrase = c.received.find((m) => m.path === 'speech.phrase')?.body ?? {};
    assert.equal(phrase['RecognitionStatus'], 'Success');
    const endMs = (Number(phrase['Offset']) + Number(phrase['Duration'])) / TICKS_PER_MS;
    assert.ok(endMs > 4_000 && endMs <= 6_050, `ends at the 6 s limit: ${endMs} ms`);
    c.ws.close();

    const { result } = await recognizeOnce(sdk.SpeechConfig.fromHost(new URL(server.wsUrl), server.key), wavOf(speech));
    assert.equal(result.reason, sdk.ResultReason.RecognizedSpeech);
    const sdkDuration = result.duration / TICKS_PER_MS;
    assert.ok(sdkDuration >= 4_000 && sdkDuration <= 6_050, `Duration ${sdkDuration} ms`);
  });
});

describe('audio limits: the connection limit (limits.maxConnectionSeconds) with the SDK reconnecting', () => {
  let reference: TestServer;
  let limited: TestServer;
  let audio: Buffer;
  before(async () => {
    [reference, limited] = await Promise.all([startServer(), startServer({ config: { limits: { maxConnectionSeconds: 8 } } })]);
    audio = wavOf(separatedPhrases());
  });
  after(async () => {
    await Promise.all([reference.close(), limited.close()]);
  });

  it('continuous recognition across several connections loses no phrase and is not canceled', async () => {
    assert.ok(audio.length / 2 / RATE >= 25, `≥ 25 s of audio (${(audio.length / 2 / RATE).toFixed(1)} s)`);
    const refUpgrades = countUpgrades(reference);
    const upgrades = countUpgrades(limited);
    const t0 = Date.now();
    const refEvents = await recognizeContinuous(sdk.SpeechConfig.fromHost(new URL(reference.wsUrl), reference.key), audio);
    const t1 = Date.now();
    const events = await recognizeContinuous(sdk.SpeechConfig.fromHost(new URL(limited.wsUrl), limited.key), audio);
    const t2 = Date.now();
    const expected = recognizedPhrases(refEvents);
    const got = recognizedPhrases(events);
    const show = (ps: Phrase[]): string => ps.map((p) => `${(p.offsetMs / 1000).toFixed(2)} ${p.text}`).join(' | ');
    const diag = `\nreference (${refUpgrades.count} connection(s), ${t1 - t0} ms): ${show(expected)}\nlimited (${upgrades.count} connections, ${t2 - t1} ms): ${show(got)}`;
    assert.equal(refUpgrades.count, 1, `one connection without the limit${diag}`);
    assert.ok(expected.length >= 10, `the reference run has the phrases${diag}`);
    assert.ok(upgrades.count >= 3, `the SDK reconnected at the limit${diag}`);
    const cancels = events.filter((e) => e.kind === 'canceled').map((e) => e.cancellation);
    for (const c of cancels) assert.equal(c?.reason, sdk.CancellationReason.EndOfStream, `only the end-of-stream cancel: ${JSON.stringify(c)}${diag}`);
    // Every phrase of the reference run, once, in order, at the same place in the audio: the
    // utterance in progress at a connection's end is recognized from the replayed audio on the next
    // connection, and nothing recognized before the end is recognized again.
    assert.equal(got.length, expected.length, `no phrase lost or repeated${diag}`);
    let differing = 0;
    expected.forEach((want, i) => {
      const have = got[i];
      assert.ok(have, `phrase ${i}${diag}`);
      assert.ok(Math.abs(have.offsetMs - want.offsetMs) <= 500 && Math.abs(have.endMs - want.endMs) <= 500, `phrase ${i} at the same place (${have.offsetMs}–${have.endMs} vs ${want.offsetMs}–${want.endMs})${diag}`);
      if (have.text === want.text) return;
      // The first utterance on a new connection is decoded with a little more lead-in audio (no
      // earlier utterance of the turn bounds its pre-roll), which may change an unsteady word.
      differing++;
      const e = wordErrors(want.text, have.text);
      assert.ok((e.substitutions + e.deletions + e.insertions) / e.refWords <= 0.5, `phrase ${i} is the same utterance ("${have.text}" vs "${want.text}")${diag}`);
    });
    assert.ok(differing <= 2, `texts identical but for a word here and there (${differing} differ)${diag}`);
    for (let i = 1; i < got.length; i++) assert.ok((got[i]?.offsetMs ?? 0) > (got[i - 1]?.offsetMs ?? 0), `offsets increase across connections${diag}`);
    assert.equal(events.at(-1)?.kind, 'sessionStopped');
  });
});

describe('audio limits: the connection limit on a raw WebSocket', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer({ config: { limits: { maxConnectionSeconds: 3 } } });
  });
  after(async () => {
    await server.close();
  });

  it('dictation faster than real time: closed with 1000 and the reason at 3 s of audio, no phrase for the cut utterance', async () => {
    // One utterance that ends before the limit, one in progress at the limit (about 2.6 s to 7.4 s).
    const speech = concatInt16([new Int16Array(300 * SPM), speechOf('whatstheweatherlike.wav'), new Int16Array(1_000 * SPM), speechOf('weatheratthebeach.wav'), new Int16Array(3_000 * SPM)]);
    const c = await RawClient.open(server, '/speech/recognition/dictation/cognitiveservices/v1?language=en-US');
    const opened = Date.now();
    c.context(ID1);
    c.audio(ID1, speech.subarray(0, 10_000 * SPM));
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, connectionAudioReason(3_000));
    assert.ok(Buffer.byteLength(closed.reason) <= 123);
    assert.ok(closed.at - opened < 2_500, `closed by the audio limit, before the 3 s age limit (${closed.at - opened} ms)`);
    // The utterance that ended before the limit is reported before the close (the SDK's replay then
    // starts after it); the one in progress is not (the SDK replays it on its next connection).
    const phrases = c.received.filter((r) => r.path === 'speech.phrase');
    assert.deepEqual(
      phrases.map((m) => [m.body['RecognitionStatus'], m.body['DisplayText']]),
      [['Success', "What's the weather like?"]],
    );
    const endMs = (Number(phrases[0]?.body['Offset']) + Number(phrases[0]?.body['Duration'])) / TICKS_PER_MS;
    assert.ok(endMs <= 2_000, `the phrase ends before the limit (${endMs} ms)`);
    assert.ok(!c.received.some((m) => m.path === 'turn.end'), 'the turn is cut, not ended');
    const line = server.logs.find((l) => l.includes('connection limit reached') && l.includes(connectionAudioReason(3_000)));
    assert.ok(line, 'logged');
    const audioMs = (JSON.parse(line) as { audioMs: number }).audioMs;
    assert.ok(audioMs >= 3_000 && audioMs <= 3_100, `cut at the message that reached the limit: ${audioMs} ms`);
  });

  it('a client that sent its end of stream gets every result and turn.end before the close', async () => {
    // Two utterances, 3.6 s: the second straddles the 3 s limit.
    const speech = concatInt16([speechOf('whatstheweatherlike.wav'), new Int16Array(700 * SPM), speechOf('TurnOnTheLamp.wav'), new Int16Array(400 * SPM)]);
    assert.ok(speech.length / SPM > 3_300, `${speech.length / SPM} ms`);
    const c = await RawClient.open(server, '/speech/recognition/dictation/cognitiveservices/v1?language=en-US');
    c.context(ID1);
    await new Promise((resolve) => setTimeout(resolve, 100));
    c.audioAndEndInOneWrite(ID1, speech, 500);
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, connectionAudioReason(3_000));
    const paths = c.received.map((m) => m.path);
    assert.equal(paths.at(-1), 'turn.end', `turn.end before the close: ${paths.join(', ')}`);
    const phrases = c.received.filter((m) => m.path === 'speech.phrase');
    assert.equal(phrases.at(-1)?.body['RecognitionStatus'], 'EndOfDictation');
    const success = phrases.filter((m) => m.body['RecognitionStatus'] === 'Success');
    assert.equal(success.length, 2, `both utterances, also the one past the limit: ${JSON.stringify(success.map((m) => m.body['DisplayText']))}`);
    const lastEnd = Math.max(...success.map((m) => (Number(m.body['Offset']) + Number(m.body['Duration'])) / TICKS_PER_MS));
    assert.ok(lastEnd > 2_500, `the second phrase runs towards the end of the audio (ends at ${lastEnd} ms)`);
  });

  it('the age limit closes an idle connection with 1000 and its reason', async () => {
    const c = await RawClient.open(server, '/speech/recognition/conversation/cognitiveservices/v1?language=en-US');
    const opened = Date.now();
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, connectionAgeReason(3_000));
    assert.ok(closed.at - opened >= 2_800 && closed.at - opened < 4_500, `after ~3 s (${closed.at - opened} ms)`);
  });

  it('the age limit lets an interactive turn in progress finish, then closes', async () => {
    const samples = concatInt16([speechOf('whatstheweatherlike.wav'), new Int16Array(1_500 * SPM)]);
    const c = await RawClient.open(server, '/speech/recognition/interactive/cognitiveservices/v1?language=en-US');
    const opened = Date.now();
    // Idle until shortly before the limit, then a single-shot request streamed at real time (no end of
    // stream: a microphone), its speech spanning the limit.
    await new Promise((resolve) => setTimeout(resolve, 2_200));
    c.context(ID1);
    c.audio(ID1, new Int16Array(0));
    for (let i = 0; i < samples.length && c.ws.readyState === c.ws.OPEN; i += 100 * SPM) {
      c.audio(ID1, samples.subarray(i, i + 100 * SPM), 100, false);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    const closed = await c.closed;
    assert.equal(closed.code, 1000);
    assert.equal(closed.reason, connectionAgeReason(3_000));
    assert.ok(closed.at - opened > 3_300, `waited for the turn past the limit (${closed.at - opened} ms)`);
    const paths = c.received.map((m) => m.path).filter((p) => p !== 'speech.hypothesis');
    assert.deepEqual(paths, ['turn.start', 'speech.startDetected', 'speech.endDetected', 'speech.phrase', 'turn.end']);
    assert.equal(c.received.find((m) => m.path === 'speech.phrase')?.body['RecognitionStatus'], 'Success');
  });
});
