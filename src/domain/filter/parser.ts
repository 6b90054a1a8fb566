/**
 * Recursive-descent parser for the `filter=` language (README.md has the grammar):
 *
 *   expr       := andExpr ( OR andExpr )*
 *   andExpr    := unary ( AND unary )*
 *   unary      := NOT unary | '(' expr ')' | comparison
 *   comparison := property OP literal
 *   OP         := EQ | NE | GT | GE | LT | LE
 *   literal    := 'string' | number | date-time | TRUE | FALSE | NULL
 *
 * Keywords are case-insensitive. `not` binds tighter than `and`, which binds tighter than `or`; `not` applies to the
 * whole following comparison or parenthesised group (`not status eq 'Failed'` is `not (status eq 'Failed')`).
 *
 * The parser is bounded: the text is at most FILTER_LIMITS.maxLength characters, parentheses and `not` nest at
 * most FILTER_LIMITS.maxDepth deep, and there are at most FILTER_LIMITS.maxComparisons comparisons, so neither
 * parsing nor evaluation can be made to recurse or loop without limit.
 */

import { FilterError, tokenize, type Instant, type Token } from './lexer.js';

export const FILTER_LIMITS = {
  maxLength: 1000,
  maxDepth: 32,
  maxComparisons: 50,
} as const;

export type CompareOp = 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le';

export type Literal =
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'datetime'; instant: Instant; text: string }
  | { type: 'boolean'; value: boolean }
  | { type: 'null' };

export interface Comparison {
  kind: 'compare';
  /** The property as written (`properties/duration`). */
  property: string;
  op: CompareOp;
  value: Literal;
  /** Offsets of the property, the operator and the literal in the filter text (for error messages). */
  pos: number;
  opPos: number;
  valuePos: number;
}

export type FilterNode =
  | Comparison
  | { kind: 'and' | 'or'; operands: FilterNode[]; pos: number }
  | { kind: 'not'; operand: FilterNode; pos: number };

const OPS: ReadonlySet<string> = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
/** OData operators and functions we recognise only to name them in a clearer error. */
const UNSUPPORTED_OPS: ReadonlySet<string> = new Set(['has', 'in', 'add', 'sub', 'mul', 'div', 'divby', 'mod']);
const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'true', 'false', 'null', ...OPS]);

/**
 * Parses filter text to an AST. Throws FilterError (syntax → InvalidParameterValue; size limits → UnsupportedFilter).
 * Empty or blank text is an error here; compileFilter treats it as "no filter".
 */
export function parseFilter(text: string): FilterNode {
  if (text.length > FILTER_LIMITS.maxLength) {
    throw FilterError.unsupported(`The filter is longer than ${FILTER_LIMITS.maxLength} characters`, FILTER_LIMITS.maxLength);
  }
  return new Parser(tokenize(text)).parse();
}

class Parser {
  private i = 0;
  private depth = 0;
  private comparisons = 0;

  constructor(private readonly tokens: Token[]) {}

  parse(): FilterNode {
    if (this.peek().kind === 'eof') throw FilterError.syntax('The filter is empty', 0);
    const node = this.orExpr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      if (t.kind === 'rparen') throw FilterError.syntax('Unbalanced ")"', t.pos);
      throw FilterError.syntax(`Expected "and", "or" or the end of the filter, found ${describe(t)}`, t.pos);
    }
    return node;
  }

  private peek(): Token {
    // The token list always ends with eof, and the parser never advances past it.
    return this.tokens[this.i] ?? (this.tokens[this.tokens.length - 1] as Token);
  }

  private next(): Token {
    const t = this.peek();
    if (t.kind !== 'eof') this.i++;
    return t;
  }

  private isKeyword(word: string): boolean {
    const t = this.peek();
    return t.kind === 'word' && t.text.toLowerCase() === word;
  }

  private orExpr(): FilterNode {
    const first = this.andExpr();
    if (!this.isKeyword('or')) return first;
    const operands = [first];
    while (this.isKeyword('or')) {
      this.next();
      operands.push(this.andExpr());
    }
    return { kind: 'or', operands, pos: nodePos(first) };
  }

  private andExpr(): FilterNode {
    const first = this.unary();
    if (!this.isKeyword('and')) return first;
    const operands = [first];
    while (this.isKeyword('and')) {
      this.next();
      operands.push(this.unary());
    }
    return { kind: 'and', operands, pos: nodePos(first) };
  }

  private enter(at: number): void {
    this.depth++;
    if (this.depth > FILTER_LIMITS.maxDepth) {
      throw FilterError.unsupported(`The filter nests parentheses and "not" deeper than ${FILTER_LIMITS.maxDepth} levels`, at);
    }
  }

  private unary(): FilterNode {
    const t = this.peek();
    if (t.kind === 'word' && t.text.toLowerCase() === 'not') {
      this.next();
      this.enter(t.pos);
      const operand = this.unary();
      this.depth--;
      return { kind: 'not', operand, pos: t.pos };
    }
    if (t.kind === 'lparen') {
      this.next();
      this.enter(t.pos);
      if (this.peek().kind === 'rparen') throw FilterError.syntax('Empty parentheses', this.peek().pos);
      const inner = this.orExpr();
      const close = this.peek();
      if (close.kind !== 'rparen') {
        throw FilterError.syntax(`Expected ")" to close the "(" at position ${t.pos}, found ${describe(close)}`, close.pos);
      }
      this.next();
      this.depth--;
      return inner;
    }
    return this.comparison();
  }

  private comparison(): Comparison {
    const prop = this.next();
    if (prop.kind !== 'word') {
      throw FilterError.syntax(`Expected a property name, found ${describe(prop)}`, prop.pos);
    }
    const lower = prop.text.toLowerCase();
    if (this.peek().kind === 'lparen') {
      throw FilterError.unsupported(`Functions such as "${prop.text}(…)" are not supported; use eq, ne, gt, ge, lt, le, and, or, not`, prop.pos);
    }
    if (KEYWORDS.has(lower)) {
      throw FilterError.syntax(`Expected a property name, found the keyword "${prop.text}"`, prop.pos);
    }
    const opTok = this.next();
    if (opTok.kind !== 'word') {
      throw FilterError.syntax(`Expected an operator (eq, ne, gt, ge, lt, le) after "${prop.text}", found ${describe(opTok)}`, opTok.pos);
    }
    const op = opTok.text.toLowerCase();
    if (!OPS.has(op)) {
      if (UNSUPPORTED_OPS.has(op)) throw FilterError.unsupported(`The operator "${opTok.text}" is not supported`, opTok.pos);
      throw FilterError.syntax(`Expected an operator (eq, ne, gt, ge, lt, le) after "${prop.text}", found "${opTok.text}"`, opTok.pos);
    }
    const valTok = this.next();
    const value = literal(valTok);
    this.comparisons++;
    if (this.comparisons > FILTER_LIMITS.maxComparisons) {
      throw FilterError.unsupported(`The filter has more than ${FILTER_LIMITS.maxComparisons} comparisons`, prop.pos);
    }
    return { kind: 'compare', property: prop.text, op: op as CompareOp, value, pos: prop.pos, opPos: opTok.pos, valuePos: valTok.pos };
  }
}

function literal(t: Token): Literal {
  switch (t.kind) {
    case 'string':
      return { type: 'string', value: t.value };
    case 'number':
      return { type: 'number', value: t.value };
    case 'datetime':
      return { type: 'datetime', instant: t.instant, text: t.text };
    case 'word': {
      const w = t.text.toLowerCase();
      if (w === 'true' || w === 'false') return { type: 'boolean', value: w === 'true' };
      if (w === 'null') return { type: 'null' };
      throw FilterError.syntax(
        `Expected a value ('text', a number, a date-time, true, false or null), found "${t.text}"; comparing two properties is not supported, and text values need single quotes`,
        t.pos,
      );
    }
    default:
      throw FilterError.syntax(`Expected a value ('text', a number, a date-time, true, false or null), found ${describe(t)}`, t.pos);
  }
}

function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'the end of the filter';
    case 'lparen':
      return '"("';
    case 'rparen':
      return '")"';
    case 'comma':
      return '","';
    case 'word':
      return `"${t.text}"`;
    case 'string':
      return 'a text value';
    case 'number':
      return `the number ${t.text}`;
    case 'datetime':
      return `the date-time ${t.text}`;
  }
}

export function nodePos(node: FilterNode): number {
  return node.pos;
}
