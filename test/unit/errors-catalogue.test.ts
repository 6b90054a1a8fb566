import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ErrorCodes, Errors } from '../../src/domain/errors.js';
import { ServiceError } from '../../src/kernel/errors.js';
import { gatewayErrorBody, retryAfterSeconds, toServiceError } from '../../src/protocol/http/error-envelope.js';
import { recognitionStatus } from '../../src/protocol/shared/recognition-json.js';
import { REPO_ROOT } from '../helpers/paths.js';

const DOC = readFileSync(join(REPO_ROOT, 'docs/errors.md'), 'utf8');
const CODES = Object.values(ErrorCodes) as string[];

/** Example arguments for every factory in `Errors`. */
const FACTORY_ARGS: Record<keyof typeof Errors, unknown[]> = {
  missingCredentials: [],
  invalidKey: [],
  invalidToken: ['expired'],
  notFound: [],
  networkAccessDenied: ['address is not allowed'],
  customDomainRequired: [],
  localAuthDisabled: [],
  tokenIssuanceRestricted: [403],
  adminAuthRequired: [],
  conflict: ['taken', { armCode: 'CustomDomainInUse' }],
  endpointNotFound: ['0b8c…'],
  endpointNotReady: ['0b8c…'],
  invalidArgument: ['bad value', { field: 'format' }],
  unsupportedLocale: ['xx-XX', ['en-US']],
  unsupportedMediaType: ['text/plain'],
  unsupportedVoice: ['xx-XX-NobodyNeural', 'No local voice speaks xx-XX.'],
  invalidSsml: ['The SSML is not well-formed.'],
  unsupportedOutputFormat: ['amr-wb-16000hz', 'No AMR-WB encoder.'],
  invalidAudio: ['bad audio', new Error('cause')],
  audioTooLong: [60],
  payloadTooLarge: [1024],
  tooManyRequests: [3],
  concurrencyExceeded: [2, 1],
  rateExceeded: [1, 20, 60],
  quotaExceeded: ['F0', 9],
  engineOverloaded: [],
  engineFailure: [new Error('boom')],
  requestTimeout: ['too slow'],
  shuttingDown: [],
  internal: [new Error('oops')],
};

function make(name: string): ServiceError {
  const factory = (Errors as Record<string, (...args: unknown[]) => unknown>)[name];
  assert.ok(factory, name);
  const args = (FACTORY_ARGS as Record<string, unknown[]>)[name];
  assert.ok(args, `test has example arguments for Errors.${name}`);
  const err = factory(...args);
  assert.ok(err instanceof ServiceError, `Errors.${name} returns a ServiceError`);
  return err;
}

/** Rows of the table in docs/errors.md: code → [HTTP column, WebSocket column]. */
function docTable(): Map<string, { http: string; ws: string }> {
  const rows = new Map<string, { http: string; ws: string }>();
  for (const line of DOC.split('\n')) {
    const m = /^\|\s*`([A-Za-z]+)`\s*\|\s*([^|]*)\|\s*([^|]*)\|/.exec(line);
    if (m) rows.set(m[1] ?? '', { http: (m[2] ?? '').trim(), ws: (m[3] ?? '').trim() });
  }
  return rows;
}

function tsFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = join(dir, e.name);
    if (e.isDirectory()) return tsFiles(p);
    return e.name.endsWith('.ts') ? [p] : [];
  });
}

describe('error catalogue', () => {
  it('ErrorCodes maps every name to itself', () => {
    for (const [k, v] of Object.entries(ErrorCodes)) assert.equal(k, v);
    assert.ok(CODES.length >= 17);
  });

  it('every code in ErrorCodes is documented in docs/errors.md', () => {
    const missing = CODES.filter((c) => !DOC.includes(`\`${c}\``));
    assert.deepEqual(missing, []);
  });

  it('every code has a row in the docs table, and every row is a real code', () => {
    const rows = docTable();
    assert.deepEqual([...rows.keys()].sort(), [...CODES].sort());
  });

  it('the test covers every factory', () => {
    assert.deepEqual(Object.keys(Errors).sort(), Object.keys(FACTORY_ARGS).sort());
  });

  for (const name of Object.keys(Errors)) {
    it(`Errors.${name}() has a catalogued code and a 4xx/5xx status`, () => {
      const err = make(name);
      assert.ok(CODES.includes(err.code), `code ${err.code}`);
      assert.ok(Number.isInteger(err.status) && err.status >= 400 && err.status <= 599, `status ${err.status}`);
      assert.ok(err.message.length > 0);
      assert.equal(err.name, 'ServiceError');
    });
  }

  it('factory statuses match the HTTP column of the docs', () => {
    const rows = docTable();
    for (const name of Object.keys(Errors)) {
      const err = make(name);
      assert.equal(rows.get(err.code)?.http, String(err.status), `${err.code} (Errors.${name})`);
    }
  });

  it('in-band WebSocket statuses match the docs', () => {
    const rows = docTable();
    for (const name of Object.keys(Errors)) {
      const err = make(name);
      const documented = /`([A-Za-z]+)`/.exec(rows.get(err.code)?.ws ?? '')?.[1];
      if (documented === undefined) continue;
      const status = recognitionStatus({ status: 'error', offsetMs: 0, durationMs: 0, displayText: '', alternatives: [], error: err });
      assert.equal(status, documented, `${err.code}`);
    }
  });

  it('causes and details are kept', () => {
    const cause = new Error('root');
    assert.equal(Errors.internal(cause).cause, cause);
    assert.equal(Errors.invalidAudio('x', cause).cause, cause);
    assert.equal(Errors.invalidAudio('x').cause, undefined);
    assert.deepEqual(Errors.unsupportedLocale('de-DE', ['en-US']).details, { locale: 'de-DE', supported: ['en-US'] });
    assert.deepEqual(Errors.invalidArgument('x', { a: 1 }).details, { a: 1 });
  });

  it('ServiceErrors constructed directly in src use catalogued codes', () => {
    const found = new Set<string>();
    for (const file of tsFiles(join(REPO_ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/new ServiceError\(\s*'([^']+)'/g)) found.add(m[1] ?? '');
      for (const m of text.matchAll(/new ServiceError\(\s*ErrorCodes\.([A-Za-z]+)/g)) found.add(m[1] ?? '');
    }
    assert.ok(found.size > 0);
    assert.deepEqual([...found].filter((c) => !CODES.includes(c)), []);
  });

  it('retry hints: 429 and 503 errors carry retryAfterSeconds', () => {
    assert.equal(retryAfterSeconds(Errors.tooManyRequests(7)), 7);
    assert.equal(retryAfterSeconds(Errors.engineOverloaded()), 1);
    assert.equal(retryAfterSeconds(Errors.invalidKey()), undefined);
  });
});

describe('gatewayErrorBody', () => {
  it('maps 401/403/404/429 to numeric string codes', () => {
    for (const status of [401, 403, 404, 429]) {
      const body = gatewayErrorBody(new ServiceError('X', status, 'msg'));
      assert.deepEqual(body, { error: { code: String(status), message: 'msg' } });
    }
    assert.equal(gatewayErrorBody(Errors.invalidKey()).error.code, '401');
    assert.equal(gatewayErrorBody(Errors.missingCredentials()).error.code, '401');
    assert.equal(gatewayErrorBody(Errors.notFound()).error.code, '404');
    assert.equal(gatewayErrorBody(Errors.tooManyRequests(1)).error.code, '429');
  });

  it('maps other statuses to words', () => {
    const expected: Array<[number, string]> = [
      [400, 'BadRequest'],
      [408, 'RequestTimeout'],
      [413, 'PayloadTooLarge'],
      [415, 'UnsupportedMediaType'],
      [503, 'ServiceUnavailable'],
      [500, 'InternalServerError'],
      [502, 'InternalServerError'],
      [504, 'InternalServerError'],
      [409, 'BadRequest'],
      [422, 'BadRequest'],
    ];
    for (const [status, word] of expected) {
      const body = gatewayErrorBody(new ServiceError('X', status, 'm'));
      assert.equal(body.error.code, word, String(status));
      assert.ok(!/^\d+$/.test(body.error.code));
    }
  });

  it('every factory gets a code the docs name for REST', () => {
    const words = ['BadRequest', 'UnsupportedMediaType', 'PayloadTooLarge', 'RequestTimeout', 'ServiceUnavailable', 'InternalServerError'];
    for (const w of words) assert.ok(DOC.includes(`\`${w}\``), `docs mention ${w}`);
    for (const name of Object.keys(Errors)) {
      const err = make(name);
      const { code, message } = gatewayErrorBody(err).error;
      assert.equal(message, err.message);
      assert.ok(['401', '403', '404', '429', ...words].includes(code), `${name} → ${code}`);
    }
  });

  it('toServiceError normalizes framework errors', () => {
    const se = Errors.invalidKey();
    assert.equal(toServiceError(se), se);
    assert.equal(toServiceError({ statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE', message: 'too big' }).code, ErrorCodes.PayloadTooLarge);
    assert.equal(toServiceError({ statusCode: 415, code: 'FST_ERR_CTP_INVALID_MEDIA_TYPE', message: 'nope' }).code, ErrorCodes.UnsupportedMediaType);
    assert.equal(toServiceError({ statusCode: 404, message: 'Route not found' }).code, ErrorCodes.NotFound);
    assert.equal(toServiceError({ statusCode: 400, message: 'bad json' }).code, ErrorCodes.InvalidArgument);
    assert.equal(toServiceError(new Error('unexpected')).code, ErrorCodes.InternalError);
    assert.equal(toServiceError({ statusCode: 502, message: 'x' }).code, ErrorCodes.InternalError);
    assert.equal(toServiceError('a string').code, ErrorCodes.InternalError);
    assert.equal(toServiceError(null).code, ErrorCodes.InternalError);
  });
});
