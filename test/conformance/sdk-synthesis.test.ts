import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { sdk } from '../helpers/sdk.js';

interface Probe {
  format_name: string;
  duration: number;
  codec_name: string;
  sample_rate: number;
  channels: number;
}

/** ffprobe's view of an audio file: container, codec, rate, channels, duration. */
function probe(bytes: Buffer, dir: string, args: string[] = []): Probe {
  const file = join(dir, `probe-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, bytes);
  const out = execFileSync('ffprobe', ['-v', 'error', ...args, '-show_streams', '-show_format', '-of', 'json', file], { encoding: 'utf8' });
  const json = JSON.parse(out) as { streams: Array<{ codec_name: string; sample_rate: string; channels: number }>; format: { format_name: string; duration: string } };
  const s = json.streams[0];
  assert.ok(s, 'an audio stream');
  return { format_name: json.format.format_name, duration: Number(json.format.duration), codec_name: s.codec_name, sample_rate: Number(s.sample_rate), channels: s.channels };
}

interface Spoken {
  result: sdk.SpeechSynthesisResult;
  words: sdk.SpeechSynthesisWordBoundaryEventArgs[];
}

async function speak(config: sdk.SpeechConfig, input: string, ssml: boolean): Promise<Spoken> {
  // A null AudioConfig keeps the audio in the result instead of playing it.
  const synthesizer = new sdk.SpeechSynthesizer(config, null as unknown as sdk.AudioConfig);
  const words: sdk.SpeechSynthesisWordBoundaryEventArgs[] = [];
  synthesizer.wordBoundary = (_s, e) => words.push(e);
  try {
    const result = await new Promise<sdk.SpeechSynthesisResult>((resolve, reject) =>
      ssml ? synthesizer.speakSsmlAsync(input, resolve, (e) => reject(new Error(e))) : synthesizer.speakTextAsync(input, resolve, (e) => reject(new Error(e))),
    );
    return { result, words };
  } finally {
    synthesizer.close();
  }
}

const SENTENCE = 'The quick brown fox jumps over the lazy dog.';

describe('Speech SDK (npm) against Parlance: synthesis', () => {
  let server: TestServer;
  let dir: string;
  before(async () => {
    server = await startServer();
    dir = mkdtempSync(join(tmpdir(), 'parlance-tts-'));
  });
  after(async () => {
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // TTS containers are addressed with http:// (protocol §C.5): the SDK dials ws:// for synthesis and
  // uses the URL as is for the voices list, which a ws:// URL would break.
  const config = (): sdk.SpeechConfig => sdk.SpeechConfig.fromHost(new URL(server.httpUrl), server.key);

  it('speakTextAsync with the default format: WAV, 16 kHz mono, word boundaries for every word in order', async () => {
    const { result, words } = await speak(config(), SENTENCE, false);
    assert.equal(result.reason, sdk.ResultReason.SynthesizingAudioCompleted, result.errorDetails);
    const p = probe(Buffer.from(result.audioData), dir);
    assert.equal(p.codec_name, 'pcm_s16le');
    assert.equal(p.sample_rate, 16_000);
    assert.equal(p.channels, 1);
    assert.ok(p.duration > 1 && p.duration < 8, `duration ${p.duration}`);
    const expected = SENTENCE.replace(/[.]/g, '').split(' ');
    assert.deepEqual(
      words.filter((w) => w.boundaryType === sdk.SpeechSynthesisBoundaryType.Word).map((w) => w.text),
      expected,
    );
    const durationTicks = p.duration * 10_000_000;
    let prev = -1;
    for (const w of words) {
      assert.ok(w.audioOffset > prev, 'offsets increase');
      assert.ok(w.audioOffset + w.duration <= durationTicks + 1, 'inside the audio');
      prev = w.audioOffset;
    }
    assert.equal(words[1]?.textOffset, SENTENCE.indexOf('quick'), 'the SDK found the word in the text');
  });

  for (const [format, container, codec, rate] of [
    [sdk.SpeechSynthesisOutputFormat.Audio16Khz32KBitRateMonoMp3, 'mp3', 'mp3', 16_000],
    [sdk.SpeechSynthesisOutputFormat.Ogg16Khz16BitMonoOpus, 'ogg', 'opus', 48_000],
    [sdk.SpeechSynthesisOutputFormat.Raw8Khz8BitMonoMULaw, 'mulaw', 'pcm_mulaw', 8_000],
  ] as const) {
    it(`speakSsmlAsync with ${sdk.SpeechSynthesisOutputFormat[format]}: ffprobe confirms ${container}/${codec}`, async () => {
      const c = config();
      c.speechSynthesisOutputFormat = format;
      const ssml = `<speak version='1.0' xmlns='http://www.w3.org/2001/10/synthesis' xml:lang='en-US'><voice name='en-US-GuyNeural'>${SENTENCE}</voice></speak>`;
      const { result, words } = await speak(c, ssml, true);
      assert.equal(result.reason, sdk.ResultReason.SynthesizingAudioCompleted, result.errorDetails);
      const bytes = Buffer.from(result.audioData);
      // Raw µ-law has no container: ffprobe is told the format, as a player would be.
      const p = probe(bytes, dir, container === 'mulaw' ? ['-f', 'mulaw', '-ar', '8000', '-ac', '1'] : []);
      assert.match(p.format_name, new RegExp(container));
      assert.equal(p.codec_name, codec);
      // Opus always decodes at 48 kHz; ffprobe reports the stream rate the encoder declared.
      if (codec !== 'opus') assert.equal(p.sample_rate, rate);
      assert.equal(p.channels, 1);
      assert.ok(p.duration > 1 && p.duration < 8, `duration ${p.duration}`);
      assert.ok(words.length >= 9, 'word boundaries arrive with compressed formats too');
    });
  }

  it('en-US-JennyNeural is served, and getVoicesAsync lists the local voices', async () => {
    const c = config();
    c.speechSynthesisVoiceName = 'en-US-JennyNeural';
    const { result } = await speak(c, 'Hello from Jenny.', false);
    assert.equal(result.reason, sdk.ResultReason.SynthesizingAudioCompleted, result.errorDetails);
    const synthesizer = new sdk.SpeechSynthesizer(config(), null as unknown as sdk.AudioConfig);
    try {
      const voices = await synthesizer.getVoicesAsync();
      assert.equal(voices.reason, sdk.ResultReason.VoicesListRetrieved, voices.errorDetails);
      assert.ok(voices.voices.length >= 5);
      const names = voices.voices.map((v) => v.shortName);
      assert.ok(names.some((n) => n.startsWith('en-US-')));
      const enUs = await synthesizer.getVoicesAsync('en-US');
      assert.ok(enUs.voices.every((v) => v.locale === 'en-US'));
    } finally {
      synthesizer.close();
    }
  });

  it('bad SSML gives a canceled result with details', async () => {
    const { result } = await speak(config(), "<speak version='1.0' xml:lang='en-US'><voice name='en-US-JennyNeural'>unclosed", true);
    assert.equal(result.reason, sdk.ResultReason.Canceled);
    const details = sdk.CancellationDetails.fromResult(result);
    assert.equal(details.ErrorCode, sdk.CancellationErrorCode.BadRequestParameters);
    assert.match(details.errorDetails, /SSML|XML/i);
  });

  it('an unservable voice gives a canceled result naming it', async () => {
    const c = config();
    c.speechSynthesisVoiceName = 'xx-XX-NobodyNeural';
    const { result } = await speak(c, 'Hello.', false);
    assert.equal(result.reason, sdk.ResultReason.Canceled);
    assert.match(sdk.CancellationDetails.fromResult(result).errorDetails, /xx-XX-NobodyNeural/);
  });

  it('a wrong key is refused', async () => {
    const { result } = await speak(sdk.SpeechConfig.fromHost(new URL(server.httpUrl), 'wrong-key'), 'Hello.', false);
    assert.equal(result.reason, sdk.ResultReason.Canceled);
    assert.match(sdk.CancellationDetails.fromResult(result).errorDetails, /401/);
  });
});
