import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { loggerOptions } from '../../src/observability/logging.js';
import { SECRET_HEADER_NAMES, redactUrl } from '../../src/observability/redact.js';

const R = '[REDACTED]';

describe('redactUrl', () => {
  it('masks Ocp-Apim-Subscription-Key and Authorization in any letter case', () => {
    for (const name of ['Ocp-Apim-Subscription-Key', 'ocp-apim-subscription-key', 'OCP-APIM-SUBSCRIPTION-KEY', 'oCp-ApIm-SuBsCrIpTiOn-KeY']) {
      assert.equal(redactUrl(`/speech?${name}=SECRET`), `/speech?${name}=${R}`, name);
    }
    for (const name of ['Authorization', 'authorization', 'AUTHORIZATION']) {
      assert.equal(redactUrl(`/speech?${name}=Bearer%20SECRET`), `/speech?${name}=${R}`, name);
      assert.equal(redactUrl(`/speech?${name}=Bearer+SECRET`), `/speech?${name}=${R}`, name);
    }
  });

  it('masks percent-encoded and plus-encoded parameter names', () => {
    assert.equal(redactUrl('/x?Ocp%2DApim%2DSubscription%2DKey=SECRET'), `/x?Ocp%2DApim%2DSubscription%2DKey=${R}`);
    assert.equal(redactUrl('/x?ocp%2dapim%2dsubscription%2dkey=SECRET'), `/x?ocp%2dapim%2dsubscription%2dkey=${R}`);
    assert.equal(redactUrl('/x?%4Fcp-Apim-Subscription-Key=SECRET'), `/x?%4Fcp-Apim-Subscription-Key=${R}`);
    assert.equal(redactUrl('/x?%41uthorization=SECRET'), `/x?%41uthorization=${R}`);
  });

  it('masks the other secret parameters (token, access_token, key, sig)', () => {
    assert.equal(redactUrl('/x?token=T&access_token=A&key=K&sig=S&keep=1'), `/x?token=${R}&access_token=${R}&key=${R}&sig=${R}&keep=1`);
  });

  it('masks every occurrence of a repeated secret', () => {
    assert.equal(
      redactUrl('/x?Ocp-Apim-Subscription-Key=a&language=en-US&Ocp-Apim-Subscription-Key=b'),
      `/x?Ocp-Apim-Subscription-Key=${R}&language=en-US&Ocp-Apim-Subscription-Key=${R}`,
    );
  });

  it('keeps every other parameter byte for byte', () => {
    const others = 'language=en-US&format=detailed&X-ConnectionId=0A1B%2f&q=a+b%20c&empty=&flag&&weird=%zz&uni=%C3%A9&x=1=2';
    assert.equal(redactUrl(`/speech/recognition/conversation/cognitiveservices/v1?${others}`), `/speech/recognition/conversation/cognitiveservices/v1?${others}`);
    const mixed = `/x?language=en-US&Ocp-Apim-Subscription-Key=SECRET&format=simple&x=%20`;
    assert.equal(redactUrl(mixed), `/x?language=en-US&Ocp-Apim-Subscription-Key=${R}&format=simple&x=%20`);
  });

  it('a URL without a query is unchanged', () => {
    for (const url of ['/', '/speech/universal/v2', 'wss://westus.stt.speech.microsoft.com/stt/speech/universal/v2', '', '/x#frag']) {
      assert.equal(redactUrl(url), url);
    }
  });

  it('absolute URLs keep scheme, host and path', () => {
    assert.equal(
      redactUrl('wss://127.0.0.1:5000/stt/speech/universal/v2?Authorization=Bearer%20eyJhbGciOi.SECRET&X-ConnectionId=abc'),
      `wss://127.0.0.1:5000/stt/speech/universal/v2?Authorization=${R}&X-ConnectionId=abc`,
    );
  });

  it('keeps the fragment', () => {
    assert.equal(redactUrl('/x?Ocp-Apim-Subscription-Key=SECRET#part'), `/x?Ocp-Apim-Subscription-Key=${R}#part`);
    assert.equal(redactUrl('/x?a=1&key=SECRET#frag?key=x'), `/x?a=1&key=${R}#frag?key=x`);
    assert.equal(redactUrl('/x?#frag'), '/x?#frag');
  });

  it('empty values and names without a value', () => {
    assert.equal(redactUrl('/x?Ocp-Apim-Subscription-Key='), `/x?Ocp-Apim-Subscription-Key=${R}`);
    assert.equal(redactUrl('/x?Ocp-Apim-Subscription-Key'), '/x?Ocp-Apim-Subscription-Key', 'nothing to hide');
    assert.equal(redactUrl('/x?'), '/x?');
    assert.equal(redactUrl('/x?&&'), '/x?&&');
  });

  it('a secret value containing "=" is masked whole', () => {
    assert.equal(redactUrl('/x?Authorization=Bearer%20abc==&b=1'), `/x?Authorization=${R}&b=1`);
    assert.equal(redactUrl('/x?Authorization=a=b=SECRET'), `/x?Authorization=${R}`);
  });

  it('malformed percent-encoding in a name does not throw and does not stop redaction', () => {
    assert.equal(redactUrl('/x?%E0%A4%A=1&Ocp-Apim-Subscription-Key=SECRET'), `/x?%E0%A4%A=1&Ocp-Apim-Subscription-Key=${R}`);
    assert.equal(redactUrl('/x?ocp-apim-subscription-key=SECRET%ZZ'), `/x?ocp-apim-subscription-key=${R}`);
  });

  it('names the secret headers', () => {
    for (const h of ['ocp-apim-subscription-key', 'authorization', 'cookie', 'set-cookie']) assert.ok(SECRET_HEADER_NAMES.includes(h), h);
  });
});

function capture(level = 'info'): { log: pino.Logger; text: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      lines.push(chunk.toString('utf8'));
      cb();
    },
  });
  return { log: pino(loggerOptions(level), stream), text: () => lines.join('') };
}

/** pino writes to a Writable synchronously per call, but give it a turn to be safe. */
async function flushed(): Promise<void> {
  await new Promise((r) => setImmediate(r));
}

describe('loggerOptions: no secret reaches a log line', () => {
  it('a request-like object: URL query and headers', async () => {
    const { log, text } = capture();
    log.info(
      {
        req: {
          method: 'GET',
          url: '/x?Ocp-Apim-Subscription-Key=SECRET',
          headers: { 'ocp-apim-subscription-key': 'SECRET', authorization: 'Bearer SECRET', cookie: 'sid=SECRET' },
          hostname: 'localhost',
          ip: '127.0.0.1',
          socket: { remotePort: 5555 },
        },
      },
      'incoming request',
    );
    await flushed();
    const out = text();
    assert.ok(!out.includes('SECRET'), out);
    const line = JSON.parse(out.trim().split('\n')[0] ?? '{}') as { req: Record<string, unknown>; msg: string };
    assert.equal(line.msg, 'incoming request');
    assert.equal(line.req['method'], 'GET');
    assert.equal(line.req['url'], `/x?Ocp-Apim-Subscription-Key=${R}`);
    assert.equal(line.req['host'], 'localhost');
    assert.equal(line.req['remoteAddress'], '127.0.0.1');
    assert.equal(line.req['remotePort'], 5555);
  });

  it('a bare headers object', async () => {
    const { log, text } = capture();
    log.warn({ headers: { 'ocp-apim-subscription-key': 'SECRET', authorization: 'Bearer SECRET', cookie: 'a=SECRET', 'set-cookie': 'b=SECRET', 'content-type': 'audio/wav' } }, 'headers');
    await flushed();
    const out = text();
    assert.ok(!out.includes('SECRET'), out);
    const line = JSON.parse(out.trim()) as { headers: Record<string, string> };
    assert.equal(line.headers['ocp-apim-subscription-key'], R);
    assert.equal(line.headers['authorization'], R);
    assert.equal(line.headers['content-type'], 'audio/wav', 'other headers stay');
  });

  it('child loggers and other levels redact too', async () => {
    const { log, text } = capture('debug');
    const child = log.child({ component: 'ws' });
    child.debug({ req: { method: 'GET', url: '/speech/universal/v2?authorization=Bearer%20SECRET&language=en-US' } }, 'upgrade');
    child.error({ headers: { authorization: 'SECRET' } }, 'failed');
    await flushed();
    const out = text();
    assert.ok(!out.includes('SECRET'), out);
    assert.ok(out.includes('language=en-US'));
  });

  it('a request without a url logs without one', async () => {
    const { log, text } = capture();
    log.info({ req: { method: 'POST' } }, 'no url');
    await flushed();
    const line = JSON.parse(text().trim()) as { req: Record<string, unknown> };
    assert.equal(line.req['method'], 'POST');
    assert.equal(line.req['url'], undefined);
  });

  it(
    'header names in other letter cases are redacted too',
    async () => {
      const { log, text } = capture();
      log.info({ headers: { 'Ocp-Apim-Subscription-Key': 'SECRET', Authorization: 'Bearer SECRET' } }, 'outgoing');
      await flushed();
      assert.ok(!text().includes('SECRET'), text());
    },
  );
});
