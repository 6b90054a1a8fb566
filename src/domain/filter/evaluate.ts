/**
 * Type-checks a parsed filter against the properties a list supports and turns it into a predicate.
 *
 * Semantics (README.md explains the choices):
 * - `string` properties compare case-sensitively (ordinal, as OData `eq` does); only `eq`/`ne`.
 * - `enum` properties (status, kind) compare ASCII case-insensitively; only `eq`/`ne`. With a closed value list, a
 *   literal outside it is rejected.
 * - `datetime` properties compare as instants (offsets honoured, nanosecond precision); all six operators. A quoted
 *   ISO 8601 string is accepted as a date-time literal too.
 * - `number` properties: all six operators. `boolean`: `eq`/`ne`.
 * - `null` works with `eq`/`ne` only: `x eq null` is true when the property is absent or null.
 * - A missing/null/mistyped entity value makes `eq` and every ordering comparison false and `ne` true.
 */

import { compareInstants, FilterError, parseDateTime, type Instant } from './lexer.js';
import { parseFilter, type CompareOp, type Comparison, type FilterNode, type Literal } from './parser.js';

export type FilterPropertyType = 'string' | 'datetime' | 'enum' | 'number' | 'boolean';

/** A property's type, or for enums optionally the closed list of values (literals outside it are rejected). */
export type FilterPropertySpec = FilterPropertyType | { type: 'enum'; values: readonly string[] };

/** Filterable properties of a list, by path as written in filters (`displayName`, `properties/duration`). */
export type FilterProperties = Readonly<Record<string, FilterPropertySpec>>;

export type FilterPredicate = (entity: Readonly<Record<string, unknown>>) => boolean;

const ORDERING: ReadonlySet<CompareOp> = new Set(['gt', 'ge', 'lt', 'le']);

/** Compiled comparison: resolves the property path on the entity and tests it. */
type Test = (entity: Readonly<Record<string, unknown>>) => boolean;

/**
 * Parses `text` and checks it against `allowed`; returns a predicate over entities. Blank text (or undefined) means
 * no filter: every entity matches. Throws FilterError with the offending position.
 */
export function compileFilter(text: string | undefined, allowed: FilterProperties): FilterPredicate {
  if (text === undefined || text.trim() === '') return () => true;
  const ast = parseFilter(text);
  const lookup = propertyLookup(allowed);
  const test = compileNode(ast, lookup);
  return (entity) => test(entity);
}

/** Checks and compiles an already parsed AST (for callers that keep the AST, e.g. to translate it to SQL). */
export function compileAst(ast: FilterNode, allowed: FilterProperties): FilterPredicate {
  const test = compileNode(ast, propertyLookup(allowed));
  return (entity) => test(entity);
}

interface ResolvedProperty {
  name: string;
  path: readonly string[];
  type: FilterPropertyType;
  values: readonly string[] | undefined;
}

/**
 * Property names match exactly, or failing that ASCII case-insensitively (lists never have two properties that differ
 * only in case), so `DisplayName eq 'x'` works like `displayName eq 'x'`.
 */
function propertyLookup(allowed: FilterProperties): (name: string) => ResolvedProperty | undefined {
  const exact = new Map<string, ResolvedProperty>();
  const folded = new Map<string, ResolvedProperty>();
  for (const [name, spec] of Object.entries(allowed)) {
    const type = typeof spec === 'string' ? spec : spec.type;
    const values = typeof spec === 'string' ? undefined : spec.values;
    const resolved: ResolvedProperty = { name, path: name.split('/'), type, values };
    exact.set(name, resolved);
    if (!folded.has(name.toLowerCase())) folded.set(name.toLowerCase(), resolved);
  }
  return (name) => exact.get(name) ?? folded.get(name.toLowerCase());
}

function compileNode(node: FilterNode, lookup: (name: string) => ResolvedProperty | undefined): Test {
  switch (node.kind) {
    case 'and': {
      const tests = node.operands.map((n) => compileNode(n, lookup));
      return (e) => tests.every((t) => t(e));
    }
    case 'or': {
      const tests = node.operands.map((n) => compileNode(n, lookup));
      return (e) => tests.some((t) => t(e));
    }
    case 'not': {
      const test = compileNode(node.operand, lookup);
      return (e) => !test(e);
    }
    case 'compare':
      return compileComparison(node, lookup);
  }
}

function compileComparison(c: Comparison, lookup: (name: string) => ResolvedProperty | undefined): Test {
  const prop = lookup(c.property);
  if (!prop) throw FilterError.unsupported(`The property "${c.property}" is not supported in filters here`, c.pos);
  const get = (e: Readonly<Record<string, unknown>>): unknown => resolvePath(e, prop.path);

  if (ORDERING.has(c.op) && (prop.type === 'string' || prop.type === 'enum' || prop.type === 'boolean')) {
    throw FilterError.unsupported(
      `The operator "${c.op}" is not supported for "${prop.name}"; only eq and ne are (gt, ge, lt, le work on date-times)`,
      c.opPos,
    );
  }
  if (c.value.type === 'null') {
    if (ORDERING.has(c.op)) throw FilterError.syntax(`null can only be compared with eq or ne`, c.valuePos);
    const isNull = (e: Readonly<Record<string, unknown>>): boolean => {
      const v = get(e);
      return v === undefined || v === null;
    };
    return c.op === 'eq' ? isNull : (e) => !isNull(e);
  }

  switch (prop.type) {
    case 'string': {
      const want = expectString(c, prop);
      return equality(c.op, (e) => {
        const v = get(e);
        return typeof v === 'string' && v === want;
      });
    }
    case 'enum': {
      const want = expectString(c, prop);
      const folded = want.toLowerCase();
      if (prop.values && !prop.values.some((v) => v.toLowerCase() === folded)) {
        throw FilterError.syntax(`'${want}' is not a valid value for "${prop.name}" (expected one of ${prop.values.join(', ')})`, c.valuePos);
      }
      return equality(c.op, (e) => {
        const v = get(e);
        return typeof v === 'string' && v.toLowerCase() === folded;
      });
    }
    case 'boolean': {
      if (c.value.type !== 'boolean') throw mismatch(c, prop, 'true or false');
      const want = c.value.value;
      return equality(c.op, (e) => get(e) === want);
    }
    case 'number': {
      if (c.value.type !== 'number') throw mismatch(c, prop, 'a number');
      const want = c.value.value;
      return ordered(c.op, (e) => {
        const v = get(e);
        return typeof v === 'number' && !Number.isNaN(v) ? (v < want ? -1 : v > want ? 1 : 0) : undefined;
      });
    }
    case 'datetime': {
      const want = expectInstant(c, prop);
      return ordered(c.op, (e) => {
        const v = toInstant(get(e));
        return v === undefined ? undefined : compareInstants(v, want);
      });
    }
  }
}

/** `eq`/`ne` from an equality test; a missing value is simply "not equal". */
function equality(op: CompareOp, equal: Test): Test {
  return op === 'eq' ? equal : (e) => !equal(e);
}

/** All six operators from a three-way comparison; undefined (missing or mistyped value) fails all but `ne`. */
function ordered(op: CompareOp, cmp: (e: Readonly<Record<string, unknown>>) => number | undefined): Test {
  switch (op) {
    case 'eq':
      return (e) => cmp(e) === 0;
    case 'ne':
      return (e) => cmp(e) !== 0;
    case 'gt':
      return (e) => (cmp(e) ?? 0) > 0;
    case 'ge': {
      return (e) => {
        const r = cmp(e);
        return r !== undefined && r >= 0;
      };
    }
    case 'lt':
      return (e) => (cmp(e) ?? 0) < 0;
    case 'le': {
      return (e) => {
        const r = cmp(e);
        return r !== undefined && r <= 0;
      };
    }
  }
}

function expectString(c: Comparison, prop: ResolvedProperty): string {
  if (c.value.type !== 'string') throw mismatch(c, prop, "a text value in single quotes ('…')");
  return c.value.value;
}

function expectInstant(c: Comparison, prop: ResolvedProperty): Instant {
  if (c.value.type === 'datetime') return c.value.instant;
  if (c.value.type === 'string') {
    const instant = parseDateTime(c.value.value);
    if (instant) return instant;
  }
  throw mismatch(c, prop, 'an ISO 8601 date-time such as 2022-02-01T11:00:00Z');
}

function mismatch(c: Comparison, prop: ResolvedProperty, expected: string): FilterError {
  return FilterError.syntax(`"${prop.name}" is compared with ${describeLiteral(c.value)}; expected ${expected}`, c.valuePos);
}

function describeLiteral(l: Literal): string {
  switch (l.type) {
    case 'string':
      return 'a text value';
    case 'number':
      return 'a number';
    case 'datetime':
      return 'a date-time';
    case 'boolean':
      return l.value ? 'true' : 'false';
    case 'null':
      return 'null';
  }
}

/** Walks `a/b/c` through own properties of plain objects only (no prototype lookups such as `constructor`). */
function resolvePath(entity: unknown, path: readonly string[]): unknown {
  let cur: unknown = entity;
  for (const seg of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, seg)) return undefined;
    cur = (cur as Record<string, unknown>)[seg];
  }
  return cur;
}

/** An entity's date-time value: an ISO 8601 string, a Date, or epoch milliseconds. */
function toInstant(v: unknown): Instant | undefined {
  if (typeof v === 'string') {
    const parsed = parseDateTime(v);
    if (parsed) return parsed;
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? undefined : { ms, nanos: 0 };
  }
  if (v instanceof Date) {
    const ms = v.getTime();
    return Number.isNaN(ms) ? undefined : { ms, nanos: 0 };
  }
  if (typeof v === 'number' && Number.isFinite(v)) return { ms: v, nanos: 0 };
  return undefined;
}
