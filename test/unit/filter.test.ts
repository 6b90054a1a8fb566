import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  compileFilter,
  decodeSkipToken,
  encodeSkipToken,
  FILTER_LIMITS,
  FilterError,
  paginate,
  paginateByToken,
  PagingError,
  parseDateTime,
  parseFilter,
  parsePagingQuery,
  resolvePaging,
  tokenize,
  V32_FILTER_PROPERTIES,
  type FilterNode,
  type FilterProperties,
} from '../../src/domain/filter/index.js';
import { ServiceError } from '../../src/kernel/errors.js';

/** Throws-assertion for FilterError with the given inner code and position. */
function assertFilterError(fn: () => unknown, innerCode: FilterError['innerCode'], position: number, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof FilterError, `expected FilterError, got ${String(err)}`);
    assert.equal(err.innerCode, innerCode, err.message);
    assert.equal(err.position, position, err.message);
    if (message) assert.match(err.message, message);
    return true;
  });
}

/** Compact rendering of an AST for precedence tests. */
function show(node: FilterNode): string {
  switch (node.kind) {
    case 'compare': {
      const v = node.value;
      const lit =
        v.type === 'string' ? `'${v.value}'` : v.type === 'datetime' ? v.text : v.type === 'null' ? 'null' : String(v.value);
      return `${node.property} ${node.op} ${lit}`;
    }
    case 'not':
      return `not(${show(node.operand)})`;
    case 'and':
    case 'or':
      return `${node.kind}(${node.operands.map(show).join(', ')})`;
  }
}

const TRANSCRIPTIONS = V32_FILTER_PROPERTIES.transcriptions;

const ITEMS = [
  { displayName: 'My transcription', description: 'first', createdDateTime: '2022-02-01T10:00:00Z', lastActionDateTime: '2022-02-01T10:05:00Z', status: 'Succeeded', locale: 'en-US' },
  { displayName: "O'Brien's call", createdDateTime: '2022-02-01T11:00:00Z', lastActionDateTime: '2022-02-01T11:00:00.5Z', status: 'Running', locale: 'de-DE' },
  { displayName: 'my transcription', description: null, createdDateTime: '2022-02-02T00:00:00Z', lastActionDateTime: '2022-02-02T00:00:00Z', status: 'Failed', locale: 'en-US' },
  { displayName: 'Later', createdDateTime: '2023-06-15T08:30:00+02:00', status: 'NotStarted', locale: 'fr-FR' },
];

function names(filter: string, props: FilterProperties = TRANSCRIPTIONS, items: readonly Record<string, unknown>[] = ITEMS): string[] {
  const pred = compileFilter(filter, props);
  return items.filter(pred).map((i) => String(i['displayName']));
}

describe('filter lexer', () => {
  it('splits words, strings, numbers, date-times and parentheses with positions', () => {
    const toks = tokenize("(displayName eq 'a b') and size ge -1.5e2 or createdDateTime lt 2022-02-01T11:00:00Z");
    assert.deepEqual(
      toks.map((t) => [t.kind, t.pos]),
      [
        ['lparen', 0],
        ['word', 1],
        ['word', 13],
        ['string', 16],
        ['rparen', 21],
        ['word', 23],
        ['word', 27],
        ['word', 32],
        ['number', 35],
        ['word', 42],
        ['word', 45],
        ['word', 61],
        ['datetime', 64],
        ['eof', 84],
      ],
    );
    const num = toks[8];
    assert.ok(num?.kind === 'number');
    assert.equal(num.value, -150);
  });

  it("unescapes '' inside strings and keeps other characters verbatim", () => {
    const [t] = tokenize("'It''s a ''test'' (not) and \"more\"'");
    assert.ok(t?.kind === 'string');
    assert.equal(t.value, 'It\'s a \'test\' (not) and "more"');
    const [empty] = tokenize("''");
    assert.ok(empty?.kind === 'string');
    assert.equal(empty.value, '');
    const [quote] = tokenize("''''");
    assert.ok(quote?.kind === 'string');
    assert.equal(quote.value, "'");
  });

  it('reads property paths with /', () => {
    const [t] = tokenize('properties/duration');
    assert.ok(t?.kind === 'word');
    assert.equal(t.text, 'properties/duration');
  });

  it('reports lexical errors with positions', () => {
    assertFilterError(() => tokenize("displayName eq 'abc"), 'InvalidParameterValue', 15, /Unterminated string/);
    assertFilterError(() => tokenize("displayName eq 'a''"), 'InvalidParameterValue', 15, /Unterminated/);
    assertFilterError(() => tokenize('displayName eq "abc"'), 'InvalidParameterValue', 15, /single quotes/);
    assertFilterError(() => tokenize('displayName eq abc#'), 'InvalidParameterValue', 18, /Unexpected character '#'/);
    assertFilterError(() => tokenize('properties/'), 'InvalidParameterValue', 11, /property name after/);
    assertFilterError(() => tokenize('a eq 12abc'), 'InvalidParameterValue', 5, /Invalid literal '12abc'/);
    assertFilterError(() => tokenize('a gt 2022-13-01T00:00:00Z'), 'InvalidParameterValue', 5, /Invalid date-time/);
    assertFilterError(() => tokenize('a gt 2022-02-30T00:00:00Z'), 'InvalidParameterValue', 5, /Invalid date-time/);
    assertFilterError(() => tokenize('a gt 2022-02-01T24:00:00Z'), 'InvalidParameterValue', 5, /Invalid date-time/);
    assertFilterError(() => tokenize('a gt 2022-02-01T10:00:00+25:00'), 'InvalidParameterValue', 5, /Invalid date-time/);
    assertFilterError(() => tokenize('a gt 1e999'), 'InvalidParameterValue', 5, /out of range/);
  });
});

describe('parseDateTime', () => {
  it('honours Z and offsets, and orders instants', () => {
    const z = parseDateTime('2022-02-01T11:00:00Z');
    assert.deepEqual(z, { ms: Date.UTC(2022, 1, 1, 11), nanos: 0 });
    assert.deepEqual(parseDateTime('2022-02-01T12:00:00+01:00'), z);
    assert.deepEqual(parseDateTime('2022-02-01T12:00:00+0100'), z);
    assert.deepEqual(parseDateTime('2022-02-01T12:00:00+01'), z);
    assert.deepEqual(parseDateTime('2022-02-01T06:30:00-04:30'), z);
    assert.deepEqual(parseDateTime('2022-02-01t11:00:00z'), z);
    assert.deepEqual(parseDateTime('2022-02-01T11:00Z'), z);
    assert.deepEqual(parseDateTime('2022-02-01T11:00:00'), z, 'no offset reads as UTC');
    assert.deepEqual(parseDateTime('2022-02-01'), { ms: Date.UTC(2022, 1, 1), nanos: 0 });
    assert.deepEqual(parseDateTime('2022-02-01T11:00:00.1234567Z'), { ms: Date.UTC(2022, 1, 1, 11) + 123, nanos: 456_700 });
    assert.deepEqual(parseDateTime('2024-02-29T00:00:00Z'), { ms: Date.UTC(2024, 1, 29), nanos: 0 });
    assert.equal(parseDateTime('2023-02-29T00:00:00Z'), undefined);
    assert.equal(parseDateTime('0099-01-01T00:00:00Z')?.ms, Date.parse('0099-01-01T00:00:00Z'));
    for (const bad of ['2022-2-1', '2022-02-01T11', '2022-02-01 11:00:00Z', '2022-02-01T11:00:60Z', 'yesterday', '']) {
      assert.equal(parseDateTime(bad), undefined, bad);
    }
  });
});

describe('filter parser', () => {
  const cases: readonly (readonly [string, string])[] = [
    ["a eq 'x'", "a eq 'x'"],
    ["a eq 'x' or b eq 'y' and c eq 'z'", "or(a eq 'x', and(b eq 'y', c eq 'z'))"],
    ["a eq 'x' and b eq 'y' or c eq 'z'", "or(and(a eq 'x', b eq 'y'), c eq 'z')"],
    ["(a eq 'x' or b eq 'y') and c eq 'z'", "and(or(a eq 'x', b eq 'y'), c eq 'z')"],
    ["not a eq 'x' and b eq 'y'", "and(not(a eq 'x'), b eq 'y')"],
    ["not a eq 'x' or b eq 'y'", "or(not(a eq 'x'), b eq 'y')"],
    ["not (a eq 'x' or b eq 'y')", "not(or(a eq 'x', b eq 'y'))"],
    ["not not a eq 'x'", "not(not(a eq 'x'))"],
    ["a eq 'x' and b eq 'y' and c eq 'z'", "and(a eq 'x', b eq 'y', c eq 'z')"],
    ["((a eq 'x'))", "a eq 'x'"],
    ["A EQ 'x' AND NOT b Ne 'y' Or c Gt 5", "or(and(A eq 'x', not(b ne 'y')), c gt 5)"],
    ['a eq true or b eq FALSE or c eq Null', 'or(a eq true, b eq false, c eq null)'],
    ['createdDateTime gt 2022-02-01T11:00:00Z', 'createdDateTime gt 2022-02-01T11:00:00Z'],
    ["(a eq'x')and(b eq'y')", "and(a eq 'x', b eq 'y')"],
    ['  a   eq\t1  ', 'a eq 1'],
  ];
  for (const [text, expected] of cases) {
    it(text, () => assert.equal(show(parseFilter(text)), expected));
  }

  it('reports syntax errors with positions', () => {
    assertFilterError(() => parseFilter(''), 'InvalidParameterValue', 0, /empty/);
    assertFilterError(() => parseFilter('displayName'), 'InvalidParameterValue', 11, /Expected an operator.*end of the filter/);
    assertFilterError(() => parseFilter('displayName eq'), 'InvalidParameterValue', 14, /Expected a value/);
    assertFilterError(() => parseFilter("displayName = 'x'"), 'InvalidParameterValue', 12, /Unexpected character '='/);
    assertFilterError(() => parseFilter("displayName equals 'x'"), 'InvalidParameterValue', 12, /Expected an operator/);
    assertFilterError(() => parseFilter('displayName eq x'), 'InvalidParameterValue', 15, /single quotes/);
    assertFilterError(() => parseFilter("(a eq 'x'"), 'InvalidParameterValue', 9, /Expected "\)" to close the "\(" at position 0/);
    assertFilterError(() => parseFilter("a eq 'x')"), 'InvalidParameterValue', 8, /Unbalanced/);
    assertFilterError(() => parseFilter("a eq 'x' b eq 'y'"), 'InvalidParameterValue', 9, /Expected "and", "or"/);
    assertFilterError(() => parseFilter("a eq 'x' and"), 'InvalidParameterValue', 12, /Expected a property name, found the end/);
    assertFilterError(() => parseFilter("a eq 'x' and or b eq 'y'"), 'InvalidParameterValue', 13, /keyword "or"/);
    assertFilterError(() => parseFilter('()'), 'InvalidParameterValue', 1, /Empty parentheses/);
    assertFilterError(() => parseFilter("'x' eq a"), 'InvalidParameterValue', 0, /Expected a property name/);
    assertFilterError(() => parseFilter('not'), 'InvalidParameterValue', 3, /property name/);
  });

  it('rejects functions and other OData operators as unsupported', () => {
    assertFilterError(() => parseFilter("startswith(displayName, 'My')"), 'UnsupportedFilter', 0, /Functions/);
    assertFilterError(() => parseFilter("status in ('Running')"), 'UnsupportedFilter', 7, /operator "in"/);
    assertFilterError(() => parseFilter('size add 1 eq 2'), 'UnsupportedFilter', 5, /operator "add"/);
    assertFilterError(() => parseFilter("a eq 'x', b eq 'y'"), 'InvalidParameterValue', 8, /found ","/);
  });

  it('enforces the length bound', () => {
    const ok = `displayName eq '${'x'.repeat(FILTER_LIMITS.maxLength - 17)}'`;
    assert.equal(ok.length, FILTER_LIMITS.maxLength);
    parseFilter(ok);
    assertFilterError(() => parseFilter(`${ok} `), 'UnsupportedFilter', FILTER_LIMITS.maxLength, /longer than 1000/);
  });

  it('enforces the nesting bound (parentheses and not)', () => {
    const nest = (n: number): string => `${'('.repeat(n)}a eq 1${')'.repeat(n)}`;
    parseFilter(nest(FILTER_LIMITS.maxDepth));
    assertFilterError(() => parseFilter(nest(FILTER_LIMITS.maxDepth + 1)), 'UnsupportedFilter', FILTER_LIMITS.maxDepth, /deeper than 32/);
    const nots = (n: number): string => `${'not '.repeat(n)}a eq 1`;
    parseFilter(nots(FILTER_LIMITS.maxDepth));
    assertFilterError(() => parseFilter(nots(FILTER_LIMITS.maxDepth + 1)), 'UnsupportedFilter', FILTER_LIMITS.maxDepth * 4, /deeper/);
    // Depth is nesting, not length: many sibling groups are fine.
    parseFilter(Array.from({ length: 40 }, () => '(a eq 1)').join(' or '));
  });

  it('enforces the comparison bound', () => {
    const chain = (n: number): string => Array.from({ length: n }, (_, i) => `a eq ${i}`).join(' or ');
    const tree = parseFilter(chain(FILTER_LIMITS.maxComparisons));
    assert.equal(tree.kind === 'or' ? tree.operands.length : 0, 50);
    const over = chain(FILTER_LIMITS.maxComparisons + 1);
    assertFilterError(() => parseFilter(over), 'UnsupportedFilter', over.lastIndexOf('a eq'), /more than 50 comparisons/);
  });
});

describe('compileFilter', () => {
  it('matches the spec examples', () => {
    assert.deepEqual(names('createdDateTime gt 2022-02-01T11:00:00Z'), ['my transcription', 'Later']);
    assert.deepEqual(names("displayName eq 'My transcription'"), ['My transcription']);
    assert.deepEqual(names("status eq 'NotStarted' or status eq 'Running'"), ["O'Brien's call", 'Later']);
    assert.deepEqual(names("locale eq 'en-US'"), ['My transcription', 'my transcription']);
    assert.deepEqual(
      names("createdDateTime gt 2022-02-01T11:00:00Z and displayName eq 'Later'"),
      ['Later'],
    );
    const files = [
      { name: 'myaudio.wav.json', kind: 'Transcription', createdDateTime: '2022-02-01T11:00:00Z' },
      { name: 'report.json', kind: 'TranscriptionReport', createdDateTime: '2022-02-01T11:00:00Z' },
    ];
    const pred = compileFilter("name eq 'myaudio.wav.json' and kind eq 'Transcription'", V32_FILTER_PROPERTIES.files);
    assert.deepEqual(files.filter(pred).map((f) => f.name), ['myaudio.wav.json']);
  });

  it('compares strings case-sensitively, with escaped quotes', () => {
    assert.deepEqual(names("displayName eq 'my transcription'"), ['my transcription']);
    assert.deepEqual(names("displayName eq 'O''Brien''s call'"), ["O'Brien's call"]);
    assert.deepEqual(names("displayName ne 'My transcription'"), ["O'Brien's call", 'my transcription', 'Later']);
  });

  it('compares enums case-insensitively and rejects values outside a closed enum', () => {
    assert.deepEqual(names("status eq 'succeeded'"), ['My transcription']);
    assert.deepEqual(names("STATUS NE 'RUNNING'"), ['My transcription', 'my transcription', 'Later']);
    assertFilterError(() => compileFilter("status eq 'Done'", TRANSCRIPTIONS), 'InvalidParameterValue', 10, /not a valid value.*NotStarted, Running/);
    // kind is an open enum: any value is accepted and simply matches nothing.
    compileFilter("kind eq 'SomethingNew'", V32_FILTER_PROPERTIES.datasets);
  });

  it('matches property names case-insensitively when there is no exact match', () => {
    assert.deepEqual(names("DisplayName eq 'Later'"), ['Later']);
  });

  it('compares date-times as instants across offsets', () => {
    // 2023-06-15T08:30:00+02:00 is 06:30Z.
    assert.deepEqual(names('createdDateTime eq 2023-06-15T06:30:00Z'), ['Later']);
    assert.deepEqual(names('createdDateTime eq 2023-06-15T01:30:00-05:00'), ['Later']);
    assert.deepEqual(names('createdDateTime ge 2023-06-15T06:30:00Z'), ['Later']);
    assert.deepEqual(names('createdDateTime gt 2023-06-15T06:30:00Z'), []);
    assert.deepEqual(names('createdDateTime lt 2022-02-01T12:00:00+01:00'), ['My transcription']);
    assert.deepEqual(names('createdDateTime le 2022-02-01T12:00:00+01:00'), ['My transcription', "O'Brien's call"]);
    assert.deepEqual(names('createdDateTime lt 2022-02-02'), ['My transcription', "O'Brien's call"]);
    // Fractions: 11:00:00.5Z is after 11:00:00Z and before 11:00:00.5000001Z.
    assert.deepEqual(names('lastActionDateTime gt 2022-02-01T11:00:00Z and lastActionDateTime lt 2022-02-01T11:00:00.5000001Z'), [
      "O'Brien's call",
    ]);
    assert.deepEqual(names('lastActionDateTime eq 2022-02-01T11:00:00.500Z'), ["O'Brien's call"]);
    // A quoted ISO date-time is accepted for date-time properties.
    assert.deepEqual(names("createdDateTime gt '2022-02-01T11:00:00Z'"), ['my transcription', 'Later']);
  });

  it('accepts Date objects and epoch milliseconds as entity date-times', () => {
    const items = [
      { displayName: 'date', createdDateTime: new Date('2022-02-01T11:00:00Z') },
      { displayName: 'ms', createdDateTime: Date.UTC(2022, 1, 1, 12) },
      { displayName: 'bad', createdDateTime: 'not a date' },
      { displayName: 'missing' },
    ];
    assert.deepEqual(names('createdDateTime ge 2022-02-01T11:00:00Z', TRANSCRIPTIONS, items), ['date', 'ms']);
    assert.deepEqual(names('createdDateTime lt 2030-01-01T00:00:00Z', TRANSCRIPTIONS, items), ['date', 'ms']);
    assert.deepEqual(names('not createdDateTime lt 2030-01-01T00:00:00Z', TRANSCRIPTIONS, items), ['bad', 'missing']);
    assert.deepEqual(names('createdDateTime ne 2022-02-01T11:00:00Z', TRANSCRIPTIONS, items), ['ms', 'bad', 'missing']);
  });

  it('applies precedence and parentheses when evaluating', () => {
    assert.deepEqual(names("locale eq 'de-DE' or locale eq 'en-US' and status eq 'Failed'"), ["O'Brien's call", 'my transcription']);
    assert.deepEqual(names("(locale eq 'de-DE' or locale eq 'en-US') and status eq 'Failed'"), ['my transcription']);
    assert.deepEqual(names("not locale eq 'en-US' and status ne 'NotStarted'"), ["O'Brien's call"]);
    assert.deepEqual(names("not (locale eq 'en-US' or status eq 'NotStarted')"), ["O'Brien's call"]);
  });

  it('handles null and missing values', () => {
    assert.deepEqual(names('description eq null'), ["O'Brien's call", 'my transcription', 'Later']);
    assert.deepEqual(names('description ne null'), ['My transcription']);
    assert.deepEqual(names("description ne 'first'"), ["O'Brien's call", 'my transcription', 'Later']);
    assert.deepEqual(names('lastActionDateTime eq null'), ['Later']);
    assertFilterError(() => compileFilter('createdDateTime gt null', TRANSCRIPTIONS), 'InvalidParameterValue', 19, /null/);
  });

  it('supports numbers, booleans and nested property paths', () => {
    const props: FilterProperties = { 'properties/size': 'number', 'properties/enabled': 'boolean', name: 'string' };
    const items = [
      { name: 'a', properties: { size: 10, enabled: true } },
      { name: 'b', properties: { size: 2.5, enabled: false } },
      { name: 'c', properties: {} },
      { name: 'd', properties: 'not an object' },
      { name: 'e' },
    ];
    const n = (f: string): string[] => items.filter(compileFilter(f, props)).map((i) => i.name);
    assert.deepEqual(n('properties/size gt 3'), ['a']);
    assert.deepEqual(n('properties/size le 10'), ['a', 'b']);
    assert.deepEqual(n('properties/size eq 2.5'), ['b']);
    assert.deepEqual(n('properties/size ne 10'), ['b', 'c', 'd', 'e']);
    assert.deepEqual(n('properties/enabled eq true'), ['a']);
    assert.deepEqual(n('properties/enabled ne true'), ['b', 'c', 'd', 'e']);
    assert.deepEqual(n('properties/size eq null'), ['c', 'd', 'e']);
    assertFilterError(() => compileFilter('properties/enabled gt true', props), 'UnsupportedFilter', 19, /"gt" is not supported/);
    assertFilterError(() => compileFilter("properties/size eq '3'", props), 'InvalidParameterValue', 19, /expected a number/);
  });

  it('does not read inherited properties', () => {
    const props: FilterProperties = Object.fromEntries([
      ['constructor', 'string'],
      ['properties/toString', 'string'],
    ]);
    const pred = compileFilter("constructor eq 'x' or properties/toString ne null", props);
    assert.equal(pred({ properties: {} }), false);
  });

  it('validates properties and operators against the list', () => {
    assertFilterError(() => compileFilter("kind eq 'Audio'", TRANSCRIPTIONS), 'UnsupportedFilter', 0, /property "kind" is not supported/);
    assertFilterError(() => compileFilter("displayName eq 'x' or webUrl eq 'x'", TRANSCRIPTIONS), 'UnsupportedFilter', 22, /webUrl/);
    assertFilterError(() => compileFilter("displayName gt 'M'", TRANSCRIPTIONS), 'UnsupportedFilter', 12, /"gt" is not supported for "displayName"/);
    assertFilterError(() => compileFilter("status le 'Running'", TRANSCRIPTIONS), 'UnsupportedFilter', 7, /"le" is not supported/);
    assertFilterError(() => compileFilter('displayName eq 5', TRANSCRIPTIONS), 'InvalidParameterValue', 15, /expected a text value/);
    assertFilterError(() => compileFilter('displayName eq 2022-02-01T00:00:00Z', TRANSCRIPTIONS), 'InvalidParameterValue', 15, /date-time/);
    assertFilterError(() => compileFilter("createdDateTime gt 'yesterday'", TRANSCRIPTIONS), 'InvalidParameterValue', 19, /ISO 8601/);
    assertFilterError(() => compileFilter('createdDateTime gt 5', TRANSCRIPTIONS), 'InvalidParameterValue', 19, /ISO 8601/);
    // Projects have no status or lastActionDateTime.
    assertFilterError(() => compileFilter("status eq 'Running'", V32_FILTER_PROPERTIES.projects), 'UnsupportedFilter', 0);
    compileFilter("webUrl eq 'https://x' and status eq 'Succeeded'", V32_FILTER_PROPERTIES.webhooks);
  });

  it('treats blank filters as no filter', () => {
    assert.equal(compileFilter(undefined, TRANSCRIPTIONS)({}), true);
    assert.equal(compileFilter('   ', TRANSCRIPTIONS)({}), true);
  });

  it('throws a ServiceError the REST layer can map (InvalidArgument, 400, inner code and position in details)', () => {
    try {
      compileFilter("foo eq 'x'", TRANSCRIPTIONS);
      assert.fail('expected an error');
    } catch (err) {
      assert.ok(err instanceof ServiceError);
      assert.equal(err.code, 'InvalidArgument');
      assert.equal(err.status, 400);
      assert.deepEqual(err.details, { parameter: 'filter', innerCode: 'UnsupportedFilter', position: 0 });
      assert.match(err.message, /at position 0/);
    }
  });
});

describe('paginate', () => {
  const items = Array.from({ length: 250 }, (_, i) => i);

  it('defaults to skip 0, top 100, with a next page', () => {
    const r = paginate(items);
    assert.equal(r.page.length, 100);
    assert.equal(r.page[0], 0);
    assert.deepEqual(r.next, { skip: 100, top: 100 });
  });

  it('omits next on the last page, exactly at the end, and past the end', () => {
    const last = paginate(items, { skip: 200 });
    assert.equal(last.page.length, 50);
    assert.equal(last.next, undefined);
    const exact = paginate(items.slice(0, 200), { skip: 100, top: 100 });
    assert.equal(exact.page.length, 100);
    assert.equal(exact.next, undefined);
    assert.deepEqual(paginate(items, { skip: 1000 }), { page: [] });
    assert.deepEqual(paginate([], {}), { page: [] });
  });

  it('follows next links through the whole list', () => {
    const seen: number[] = [];
    let opts: { skip?: number; top?: number } = { top: 30 };
    for (let guard = 0; guard < 100; guard++) {
      const r = paginate(items, opts);
      seen.push(...r.page);
      if (!r.next) break;
      opts = r.next;
    }
    assert.deepEqual(seen, items);
  });

  it('caps top at maxTop, or rejects it when asked', () => {
    const r = paginate(items, { top: 500 });
    assert.equal(r.page.length, 100);
    assert.deepEqual(r.next, { skip: 100, top: 100 });
    assert.equal(paginate(items, { top: 10, maxTop: 5 }).page.length, 5);
    assert.equal(paginate(items, { maxTop: 20 }).page.length, 20);
    assert.throws(
      () => paginate(items, { top: 101, rejectOverMax: true }),
      (e: unknown) => e instanceof PagingError && e.innerCode === 'UnsupportedPagination' && e.parameter === 'top',
    );
  });

  it('returns an empty page and no next for top=0', () => {
    assert.deepEqual(paginate(items, { top: 0 }), { page: [] });
  });

  it('rejects negative, fractional, NaN, infinite and out-of-int32 values', () => {
    for (const bad of [-1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 31]) {
      for (const parameter of ['skip', 'top'] as const) {
        assert.throws(
          () => paginate(items, { [parameter]: bad }),
          (e: unknown) =>
            e instanceof PagingError && e.innerCode === 'InvalidParameterValue' && e.parameter === parameter && e.status === 400,
          `${parameter}=${bad}`,
        );
      }
    }
    assert.throws(() => resolvePaging({ maxTop: 0 }), RangeError);
  });
});

describe('parsePagingQuery', () => {
  it('parses decimal digits and ignores absent or empty values', () => {
    assert.deepEqual(parsePagingQuery({ skip: '10', top: '5' }), { skip: 10, top: 5 });
    assert.deepEqual(parsePagingQuery({ skip: '', top: undefined }), {});
    assert.deepEqual(parsePagingQuery({ top: '007' }), { top: 7 });
  });

  it('rejects anything else', () => {
    for (const bad of ['-1', '1.5', '1e3', 'ten', ' 5', '0x10', '99999999999', '2147483648']) {
      assert.throws(
        () => parsePagingQuery({ top: bad }),
        (e: unknown) => e instanceof PagingError && e.innerCode === 'InvalidParameterValue' && e.parameter === 'top',
        bad,
      );
    }
  });
});

describe('skipToken paging', () => {
  it('round-trips tokens and pages through a list', () => {
    assert.equal(decodeSkipToken(encodeSkipToken(0)), 0);
    assert.equal(decodeSkipToken(encodeSkipToken(12345)), 12345);
    assert.equal(decodeSkipToken(undefined), 0);
    const items = Array.from({ length: 7 }, (_, i) => i);
    const first = paginateByToken(items, { top: 3 });
    assert.deepEqual(first.page, [0, 1, 2]);
    assert.ok(first.nextToken);
    const second = paginateByToken(items, { top: 3, skipToken: first.nextToken });
    assert.deepEqual(second.page, [3, 4, 5]);
    const third = paginateByToken(items, { top: 3, skipToken: second.nextToken });
    assert.deepEqual(third.page, [6]);
    assert.equal(third.nextToken, undefined);
  });

  it('rejects tokens it did not issue', () => {
    for (const bad of ['garbage!', 'AAAA', Buffer.from('o-1').toString('base64url'), 'x'.repeat(40)]) {
      assert.throws(
        () => decodeSkipToken(bad),
        (e: unknown) => e instanceof PagingError && e.parameter === 'skipToken',
        bad,
      );
    }
  });
});
