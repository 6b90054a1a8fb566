import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AZURE_SUFFIXES, toCustomDomainUrl, toRegionalUrl, type HostSuffixes } from '../../src/domain/resources/endpoint-url.js';

const NAME = 'my-private-link-speech';
const CUSTOM_HOST = `${NAME}.cognitiveservices.azure.com`;

describe('toCustomDomainUrl (seed 001 "Construct endpoint URL")', () => {
  it('example 1: STT WebSocket, query kept', () => {
    assert.equal(
      toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1?language=en-US', NAME),
      `wss://${CUSTOM_HOST}/stt/speech/recognition/conversation/cognitiveservices/v1?language=en-US`,
    );
  });

  it('example 2: TTS WebSocket', () => {
    assert.equal(
      toCustomDomainUrl('wss://westeurope.tts.speech.microsoft.com/cognitiveservices/websocket/v1', NAME),
      `wss://${CUSTOM_HOST}/tts/cognitiveservices/websocket/v1`,
    );
  });

  it('voices list', () => {
    assert.equal(
      toCustomDomainUrl('https://westeurope.tts.speech.microsoft.com/cognitiveservices/voices/list', 'my-res'),
      'https://my-res.cognitiveservices.azure.com/tts/cognitiveservices/voices/list',
    );
  });

  it('token and batch URLs on the api host keep their path', () => {
    assert.equal(
      toCustomDomainUrl('https://westeurope.api.cognitive.microsoft.com/sts/v1.0/issueToken', 'my-res'),
      'https://my-res.cognitiveservices.azure.com/sts/v1.0/issueToken',
    );
    assert.equal(
      toCustomDomainUrl('https://westeurope.api.cognitive.microsoft.com/speechtotext/v3.1/transcriptions', NAME),
      `https://${CUSTOM_HOST}/speechtotext/v3.1/transcriptions`,
    );
  });

  it('covers every offering of the seed table', () => {
    for (const o of ['stt', 'tts', 'voice', 's2s', 'commands', 'convai']) {
      assert.equal(toCustomDomainUrl(`wss://eastus.${o}.speech.microsoft.com/x/y`, 'r1'), `wss://r1.cognitiveservices.azure.com/${o}/x/y`);
    }
  });

  it('keeps scheme, port, query and fragment; accepts the full host as the name; ignores host case', () => {
    assert.equal(
      toCustomDomainUrl('http://WestEurope.STT.speech.microsoft.com:8443/speech/universal/v2?a=1&b=%20x#frag', `${CUSTOM_HOST}`),
      `http://${CUSTOM_HOST}:8443/stt/speech/universal/v2?a=1&b=%20x#frag`,
    );
    assert.equal(toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/x', 'My-Res'), 'wss://my-res.cognitiveservices.azure.com/stt/x');
  });

  it('does not double a prefix the regional URL already has', () => {
    assert.equal(
      toCustomDomainUrl('wss://westeurope.tts.speech.microsoft.com/tts/cognitiveservices/websocket/v1', 'my-res'),
      'wss://my-res.cognitiveservices.azure.com/tts/cognitiveservices/websocket/v1',
    );
    assert.equal(
      toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/stt/speech/universal/v2', 'my-res'),
      'wss://my-res.cognitiveservices.azure.com/stt/speech/universal/v2',
    );
  });

  it('returns a URL already on that custom domain unchanged', () => {
    const u = `wss://${CUSTOM_HOST}/stt/speech/recognition/conversation/cognitiveservices/v1?language=en-US`;
    assert.equal(toCustomDomainUrl(u, NAME), u);
    assert.throws(() => toCustomDomainUrl(u, 'another-res'), /already uses custom domain my-private-link-speech/);
  });

  it('refuses what it cannot convert, saying why', () => {
    assert.throws(() => toCustomDomainUrl('https://example.com/x', 'my-res'), /not a Speech endpoint URL.*stt, tts, voice, s2s, commands, convai/);
    assert.throws(() => toCustomDomainUrl('wss://westeurope.foo.speech.microsoft.com/x', 'my-res'), /not a Speech endpoint URL/);
    assert.throws(() => toCustomDomainUrl('wss://transcribe.westeurope.cts.speech.microsoft.com/x', 'my-res'), /not a Speech endpoint URL/);
    assert.throws(() => toCustomDomainUrl('wss://speech.microsoft.com/x', 'my-res'), /not a Speech endpoint URL/);
    assert.throws(() => toCustomDomainUrl('westeurope.stt.speech.microsoft.com/x', 'my-res'), /not an absolute URL/);
    assert.throws(() => toCustomDomainUrl('ftp://westeurope.stt.speech.microsoft.com/x', 'my-res'), /scheme ftp:/);
    assert.throws(() => toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/x', '-bad-'), /not a custom subdomain name/);
    assert.throws(() => toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/x', 'a.b'), /not a custom subdomain name/);
  });
});

describe('toRegionalUrl', () => {
  it('moves an offering prefix back into the host', () => {
    assert.equal(
      toRegionalUrl(`wss://${CUSTOM_HOST}/stt/speech/recognition/conversation/cognitiveservices/v1?language=en-US`, 'westeurope'),
      'wss://westeurope.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1?language=en-US',
    );
    assert.equal(toRegionalUrl('https://my-res.cognitiveservices.azure.com/tts', 'eastus'), 'https://eastus.tts.speech.microsoft.com/');
  });

  it('sends other paths to the api host unchanged', () => {
    assert.equal(
      toRegionalUrl('https://my-res.cognitiveservices.azure.com/sts/v1.0/issueToken', 'westeurope'),
      'https://westeurope.api.cognitive.microsoft.com/sts/v1.0/issueToken',
    );
    assert.equal(
      toRegionalUrl('https://my-res.cognitiveservices.azure.com/sttx/v1', 'westeurope'),
      'https://westeurope.api.cognitive.microsoft.com/sttx/v1',
    );
  });

  it('returns a URL already regional for that region unchanged, refuses another region', () => {
    const u = 'https://westeurope.tts.speech.microsoft.com/cognitiveservices/voices/list';
    assert.equal(toRegionalUrl(u, 'westeurope'), u);
    assert.throws(() => toRegionalUrl(u, 'eastus'), /for westeurope rather than eastus/);
  });

  it('refuses bad input', () => {
    assert.throws(() => toRegionalUrl('https://example.com/x', 'westeurope'), /not a Speech endpoint URL/);
    assert.throws(() => toRegionalUrl('https://my-res.cognitiveservices.azure.com/stt/x', 'west europe'), /not an Azure region name/);
  });

  it('inverts toCustomDomainUrl', () => {
    const urls = [
      'wss://westeurope.stt.speech.microsoft.com/speech/recognition/conversation/cognitiveservices/v1?language=en-US',
      'wss://westeurope.tts.speech.microsoft.com/cognitiveservices/websocket/v1',
      'https://westeurope.tts.speech.microsoft.com/cognitiveservices/voices/list',
      'https://westeurope.voice.speech.microsoft.com/cognitiveservices/v1?deploymentId=abc',
      'https://westeurope.api.cognitive.microsoft.com/sts/v1.0/issueToken',
      'https://westeurope.api.cognitive.microsoft.com/speechtotext/v3.2/transcriptions?skip=0&top=10',
      'ws://westeurope.s2s.speech.microsoft.com:5000/speech/translation/cognitiveservices/v1?from=en-US&to=de',
    ];
    for (const u of urls) {
      const custom = toCustomDomainUrl(u, 'my-res');
      assert.match(custom, /my-res\.cognitiveservices\.azure\.com/);
      assert.equal(toRegionalUrl(custom, 'westeurope'), u);
      assert.equal(toCustomDomainUrl(toRegionalUrl(custom, 'westeurope'), 'my-res'), custom);
    }
  });

  it('honours other clouds through suffixes', () => {
    const gov: HostSuffixes = { speechSuffix: 'speech.azure.us', apiSuffix: 'api.cognitive.microsoft.us', customDomainSuffix: 'cognitiveservices.azure.us' };
    assert.notDeepEqual(gov, AZURE_SUFFIXES);
    const custom = toCustomDomainUrl('wss://usgovvirginia.stt.speech.azure.us/speech/universal/v2', 'gov-res', gov);
    assert.equal(custom, 'wss://gov-res.cognitiveservices.azure.us/stt/speech/universal/v2');
    assert.equal(toRegionalUrl(custom, 'usgovvirginia', gov), 'wss://usgovvirginia.stt.speech.azure.us/speech/universal/v2');
    assert.throws(() => toCustomDomainUrl('wss://westeurope.stt.speech.microsoft.com/x', 'r1', gov), /speech\.azure\.us/);
  });
});
