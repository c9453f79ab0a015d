/**
 * `parsePredicate(text)`: a recursive-descent parser for the SQL-ish predicate language of
 * `weir scan --where`. Grammar (keywords case-insensitive; precedence NOT > AND > OR; comparison
 * and IN/BETWEEN/IS bind tighter than NOT, so `NOT a = 1` is `NOT (a = 1)`):
 *
 *   predicate := or EOF
 *   or        := and (OR and)*
 *   and       := not (AND not)*
 *   not       := NOT not | primary
 *   primary   := '(' or ')'
 *              | operand ( cmpOp operand
 *                        | [NOT] IN '(' operand (',' operand)* ')'
 *                        | [NOT] BETWEEN operand AND operand      -- desugared to >= AND <=
 *                        | IS [NOT] NULL )?                        -- bare operand: a boolean
 *   cmpOp     := '=' | '==' | '!=' | '<>' | '<' | '<=' | '>' | '>='
 *   operand   := column | literal
 *   column    := ident ('.' ident)*       -- ident is bare or `back-quoted`
 *   literal   := [+|-] number | 'string' | X'hex' | TRUE | FALSE | NULL
 *              | DATE 'YYYY-MM-DD' | TIMESTAMP '...' | TIMESTAMP_NTZ '...'
 *
 * Reserved words (need back-quotes as column names): AND OR NOT IN IS NULL TRUE FALSE BETWEEN.
 * DATE, TIMESTAMP and TIMESTAMP_NTZ are literal prefixes only when a string follows, so columns
 * may be named `date`. Errors are INVALID_PREDICATE with the 1-based column of the problem.
 * `bindPredicate` (in bind.ts) is re-exported here for convenience.
 */
import type { ColumnExpr, CompareOp, Expr, LiteralExpr, OperandExpr } from './ast.js';
import { invalidPredicate } from './errors.js';
import { parseDateText, parseTimestampText } from './literals.js';
import { type Token, tokenize } from './tokenize.js';

export type { BoundExpr, Expr } from './ast.js';
export { type BoundPredicate, bindPredicate } from './bind.js';

const RESERVED = new Set(['AND', 'OR', 'NOT', 'IN', 'IS', 'NULL', 'TRUE', 'FALSE', 'BETWEEN']);
const MAX_DEPTH = 500;

const COMPARE_OPS: Readonly<Record<string, CompareOp>> = {
  '=': '=',
  '==': '=',
  '!=': '!=',
  '<>': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
};

function hexToBytes(hex: string): Uint8Array {
  const out = new Uint8Array(hex.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return out;
}

class Parser {
  private readonly tokens: Token[];
  private index = 0;
  private depth = 0;

  constructor(private readonly text: string) {
    this.tokens = tokenize(text);
  }

  parse(): Expr {
    if (this.peek().type === 'eof') throw invalidPredicate(this.text, 0, 'empty predicate');
    const expr = this.parseOr();
    const t = this.peek();
    if (t.type !== 'eof') {
      throw this.error(
        t,
        t.type === 'punct' && t.value === ')' ? "unbalanced ')'" : 'expected AND, OR or end of input',
      );
    }
    return expr;
  }

  // -- token helpers ---------------------------------------------------------------------------

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.index + offset, this.tokens.length - 1)]!;
  }

  private next(): Token {
    const t = this.peek();
    if (t.type !== 'eof') this.index++;
    return t;
  }

  private isKeyword(t: Token, word: string): boolean {
    return t.type === 'ident' && t.value.toUpperCase() === word;
  }

  private acceptKeyword(word: string): boolean {
    if (this.isKeyword(this.peek(), word)) {
      this.index++;
      return true;
    }
    return false;
  }

  private isPunct(t: Token, p: string): boolean {
    return t.type === 'punct' && t.value === p;
  }

  private describe(t: Token): string {
    switch (t.type) {
      case 'eof':
        return 'end of input';
      case 'string':
        return `string '${t.value}'`;
      case 'quotedIdent':
        return `\`${t.value}\``;
      case 'binary':
        return `X'${t.value}'`;
      default:
        return `'${t.value}'`;
    }
  }

  private error(t: Token, expected: string): Error {
    return invalidPredicate(this.text, t.pos, `${expected}, found ${this.describe(t)}`);
  }

  private expectPunct(p: string): Token {
    const t = this.peek();
    if (!this.isPunct(t, p)) throw this.error(t, `expected '${p}'`);
    return this.next();
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_DEPTH) throw invalidPredicate(this.text, t.pos, 'predicate is nested too deeply');
  }

  // -- grammar ---------------------------------------------------------------------------------

  private parseOr(): Expr {
    const first = this.parseAnd();
    const operands: Expr[] = [first];
    while (this.acceptKeyword('OR')) operands.push(this.parseAnd());
    return operands.length === 1 ? first : { kind: 'or', operands };
  }

  private parseAnd(): Expr {
    const first = this.parseNot();
    const operands: Expr[] = [first];
    while (this.acceptKeyword('AND')) operands.push(this.parseNot());
    return operands.length === 1 ? first : { kind: 'and', operands };
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (this.isKeyword(t, 'NOT')) {
      this.next();
      this.enter(t);
      const operand = this.parseNot();
      this.depth--;
      return { kind: 'not', operand };
    }
    return this.parsePrimary();
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    if (this.isPunct(t, '(')) {
      this.next();
      this.enter(t);
      const inner = this.parseOr();
      this.depth--;
      this.expectPunct(')');
      return inner;
    }
    const left = this.parseOperand('expected a column, a literal, NOT or (');
    const pos = left.pos ?? t.pos;
    const op = this.peek();
    if (op.type === 'op') {
      this.next();
      const right = this.parseOperand(`expected a column or literal after '${op.value}'`);
      return { kind: 'compare', op: COMPARE_OPS[op.value]!, left, right, pos: op.pos };
    }
    let negated = false;
    if (this.isKeyword(op, 'NOT')) {
      const after = this.peek(1);
      if (!this.isKeyword(after, 'IN') && !this.isKeyword(after, 'BETWEEN')) {
        throw this.error(after, 'expected IN or BETWEEN after NOT');
      }
      this.next();
      negated = true;
    }
    if (this.acceptKeyword('IN')) {
      this.expectPunct('(');
      const list: OperandExpr[] = [this.parseOperand('expected a literal in the IN list')];
      while (this.isPunct(this.peek(), ',')) {
        this.next();
        list.push(this.parseOperand('expected a literal in the IN list'));
      }
      this.expectPunct(')');
      return { kind: 'in', value: left, list, negated, pos };
    }
    if (this.acceptKeyword('BETWEEN')) {
      const low = this.parseOperand('expected the lower bound of BETWEEN');
      if (!this.acceptKeyword('AND')) throw this.error(this.peek(), 'expected AND in BETWEEN');
      const high = this.parseOperand('expected the upper bound of BETWEEN');
      const range: Expr = {
        kind: 'and',
        operands: [
          { kind: 'compare', op: '>=', left, right: low, pos },
          { kind: 'compare', op: '<=', left, right: high, pos },
        ],
      };
      return negated ? { kind: 'not', operand: range } : range;
    }
    if (this.acceptKeyword('IS')) {
      const not = this.acceptKeyword('NOT');
      if (!this.acceptKeyword('NULL'))
        throw this.error(this.peek(), not ? 'expected NULL' : 'expected NULL or NOT NULL');
      return { kind: 'isNull', value: left, negated: not, pos };
    }
    return left;
  }

  private parseOperand(expected: string): OperandExpr {
    const t = this.peek();
    switch (t.type) {
      case 'punct': {
        if (t.value !== '-' && t.value !== '+') break;
        const num = this.peek(1);
        if (num.type !== 'number') throw this.error(num, `expected a number after '${t.value}'`);
        this.index += 2;
        return this.numberLiteral(
          t.value === '-' ? `-${num.value}` : num.value,
          num.isDecimal === true,
          t.pos,
        );
      }
      case 'number':
        this.next();
        return this.numberLiteral(t.value, t.isDecimal === true, t.pos);
      case 'string':
        this.next();
        return { kind: 'literal', value: t.value, literalKind: 'string', text: t.value, pos: t.pos };
      case 'binary':
        this.next();
        return {
          kind: 'literal',
          value: hexToBytes(t.value),
          literalKind: 'binary',
          text: `X'${t.value}'`,
          pos: t.pos,
        };
      case 'quotedIdent':
        return this.parseColumn();
      case 'ident': {
        const word = t.value.toUpperCase();
        if (word === 'TRUE' || word === 'FALSE') {
          this.next();
          return { kind: 'literal', value: word === 'TRUE', literalKind: 'boolean', text: word, pos: t.pos };
        }
        if (word === 'NULL') {
          this.next();
          return { kind: 'literal', value: null, literalKind: 'null', text: 'NULL', pos: t.pos };
        }
        if (
          (word === 'DATE' || word === 'TIMESTAMP' || word === 'TIMESTAMP_NTZ') &&
          this.peek(1).type === 'string'
        ) {
          this.next();
          return this.typedLiteral(word, this.next());
        }
        if (RESERVED.has(word)) break;
        return this.parseColumn();
      }
      default:
        break;
    }
    throw this.error(t, expected);
  }

  private numberLiteral(text: string, isDecimal: boolean, pos: number): LiteralExpr {
    if (isDecimal) return { kind: 'literal', value: Number(text), literalKind: 'decimal', text, pos };
    return { kind: 'literal', value: BigInt(text), literalKind: 'integer', text, pos };
  }

  private typedLiteral(word: string, str: Token): LiteralExpr {
    if (word === 'DATE') {
      const days = parseDateText(str.value);
      if (days === undefined)
        throw invalidPredicate(this.text, str.pos, `invalid date '${str.value}', expected 'YYYY-MM-DD'`);
      return { kind: 'literal', value: days, literalKind: 'date', text: str.value, pos: str.pos };
    }
    const ts = parseTimestampText(str.value);
    if (ts === undefined) {
      throw invalidPredicate(
        this.text,
        str.pos,
        `invalid timestamp '${str.value}', expected 'YYYY-MM-DD HH:MM:SS[.ffffff][Z|+hh:mm]'`,
      );
    }
    if (word === 'TIMESTAMP_NTZ' && ts.hasZone) {
      throw invalidPredicate(this.text, str.pos, `TIMESTAMP_NTZ '${str.value}' must not have a time zone`);
    }
    const literalKind = word === 'TIMESTAMP' ? 'timestamp' : 'timestamp_ntz';
    return { kind: 'literal', value: ts.micros, literalKind, text: str.value, pos: str.pos };
  }

  private parseColumn(): ColumnExpr {
    const first = this.next();
    const path = [first.value];
    while (this.isPunct(this.peek(), '.')) {
      this.next();
      const part = this.peek();
      if (part.type !== 'ident' && part.type !== 'quotedIdent')
        throw this.error(part, "expected a field name after '.'");
      this.next();
      path.push(part.value);
    }
    return { kind: 'column', path, pos: first.pos };
  }
}

/** Parses a predicate; throws a WeirError 'INVALID_PREDICATE' naming the column of the error. */
export function parsePredicate(text: string): Expr {
  return new Parser(text).parse();
}
