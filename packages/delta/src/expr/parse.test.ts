import { isWeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { columnsOf, type Expr, formatExpr } from './ast.js';
import { parsePredicate } from './parse.js';

/** Drops `pos` so trees can be compared structurally. */
function strip(e: unknown): unknown {
  if (Array.isArray(e)) return e.map(strip);
  if (e instanceof Uint8Array || typeof e !== 'object' || e === null) return e;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e)) if (k !== 'pos') out[k] = strip(v);
  return out;
}

const p = (text: string): unknown => strip(parsePredicate(text));
const col = (...path: string[]) => ({ kind: 'column', path });
const int = (v: bigint, text = String(v)) => ({ kind: 'literal', value: v, literalKind: 'integer', text });
const str = (v: string) => ({ kind: 'literal', value: v, literalKind: 'string', text: v });
const cmp = (op: string, left: unknown, right: unknown) => ({ kind: 'compare', op, left, right });

function parseError(text: string): { code: string; message: string; column: unknown } {
  try {
    parsePredicate(text);
  } catch (err) {
    if (isWeirError(err)) return { code: err.code, message: err.message, column: err.details.column };
    throw err;
  }
  throw new Error(`expected ${JSON.stringify(text)} to fail`);
}

describe('parsePredicate: comparisons and operands', () => {
  it('parses every comparison operator, normalising == and <>', () => {
    const ops: [string, string][] = [
      ['=', '='],
      ['==', '='],
      ['!=', '!='],
      ['<>', '!='],
      ['<', '<'],
      ['<=', '<='],
      ['>', '>'],
      ['>=', '>='],
    ];
    for (const [written, op] of ops) expect(p(`a ${written} 1`)).toEqual(cmp(op, col('a'), int(1n)));
  });

  it('keeps literal-on-the-left comparisons as written', () => {
    expect(p('5 < a')).toEqual(cmp('<', int(5n), col('a')));
  });

  it('parses column-vs-column comparisons', () => {
    expect(p('a.b <= c')).toEqual(cmp('<=', col('a', 'b'), col('c')));
  });

  it('reads integers of any size as bigint and signed numbers', () => {
    expect(p('a = 123456789012345678901234567890')).toEqual(
      cmp('=', col('a'), int(123456789012345678901234567890n)),
    );
    expect(p('a = -5')).toEqual(cmp('=', col('a'), int(-5n, '-5')));
    expect(p('a = +5')).toEqual(cmp('=', col('a'), int(5n, '5')));
  });

  it('reads decimals and exponents as numbers keeping their text', () => {
    expect(p('a = 1.5')).toEqual(
      cmp('=', col('a'), { kind: 'literal', value: 1.5, literalKind: 'decimal', text: '1.5' }),
    );
    expect(p('a = -2e3')).toEqual(
      cmp('=', col('a'), { kind: 'literal', value: -2000, literalKind: 'decimal', text: '-2e3' }),
    );
    expect(p('a > 1.25E-2')).toEqual(
      cmp('>', col('a'), { kind: 'literal', value: 0.0125, literalKind: 'decimal', text: '1.25E-2' }),
    );
  });

  it("reads strings with '' escapes, including empty and non-ASCII", () => {
    expect(p("a = 'it''s'")).toEqual(cmp('=', col('a'), str("it's")));
    expect(p("a = ''")).toEqual(cmp('=', col('a'), str('')));
    expect(p("a = 'héllo 😀'")).toEqual(cmp('=', col('a'), str('héllo 😀')));
  });

  it('reads TRUE, FALSE, NULL in any case', () => {
    expect(p('a = true')).toEqual(
      cmp('=', col('a'), { kind: 'literal', value: true, literalKind: 'boolean', text: 'TRUE' }),
    );
    expect(p('a = False')).toEqual(
      cmp('=', col('a'), { kind: 'literal', value: false, literalKind: 'boolean', text: 'FALSE' }),
    );
    expect(p('a = null')).toEqual(
      cmp('=', col('a'), { kind: 'literal', value: null, literalKind: 'null', text: 'NULL' }),
    );
  });

  it('reads DATE, TIMESTAMP and TIMESTAMP_NTZ literals', () => {
    expect(p("d = DATE '2021-01-01'")).toEqual(
      cmp('=', col('d'), { kind: 'literal', value: 18628, literalKind: 'date', text: '2021-01-01' }),
    );
    expect(p("d = date '1969-12-31'")).toEqual(
      cmp('=', col('d'), { kind: 'literal', value: -1, literalKind: 'date', text: '1969-12-31' }),
    );
    const ts = (text: string) =>
      (parsePredicate(`t = TIMESTAMP '${text}'`) as { right: { value: unknown } }).right.value;
    expect(ts('2021-01-01 00:00:00')).toBe(1609459200000000n);
    expect(ts('2021-01-01 00:00:00.123456')).toBe(1609459200123456n);
    expect(ts('2021-01-01T00:00:00.5Z')).toBe(1609459200500000n);
    expect(ts('2021-01-01 01:30:00+01:30')).toBe(1609459200000000n);
    expect(ts('2020-12-31 19:00:00-0500')).toBe(1609459200000000n);
    expect(ts('2021-01-01')).toBe(1609459200000000n);
    expect(ts('1969-12-31 23:59:59.999999')).toBe(-1n);
    expect(p("t = TIMESTAMP_NTZ '2021-01-01 00:00:00'")).toEqual(
      cmp('=', col('t'), {
        kind: 'literal',
        value: 1609459200000000n,
        literalKind: 'timestamp_ntz',
        text: '2021-01-01 00:00:00',
      }),
    );
  });

  it("reads binary literals X'..'", () => {
    expect(p("b = X'00fF10'")).toEqual(
      cmp('=', col('b'), {
        kind: 'literal',
        value: new Uint8Array([0, 255, 16]),
        literalKind: 'binary',
        text: "X'00fF10'",
      }),
    );
  });

  it('accepts back-quoted identifiers with dots, spaces and escaped back-quotes', () => {
    expect(p('`a.b` = 1')).toEqual(cmp('=', col('a.b'), int(1n)));
    expect(p('s.`my col`.`x``y` = 1')).toEqual(cmp('=', col('s', 'my col', 'x`y'), int(1n)));
    expect(p('`and` = 1')).toEqual(cmp('=', col('and'), int(1n)));
  });

  it('lets date/timestamp be column names when no string follows', () => {
    expect(p("date = '2021-01-01'")).toEqual(cmp('=', col('date'), str('2021-01-01')));
    expect(p('timestamp > 5')).toEqual(cmp('>', col('timestamp'), int(5n)));
    expect(p('s.date = 1')).toEqual(cmp('=', col('s', 'date'), int(1n)));
  });
});

describe('parsePredicate: IN, BETWEEN, IS NULL', () => {
  it('parses IN and NOT IN lists', () => {
    expect(p("a IN (1, 'x', NULL)")).toEqual({
      kind: 'in',
      value: col('a'),
      list: [int(1n), str('x'), { kind: 'literal', value: null, literalKind: 'null', text: 'NULL' }],
      negated: false,
    });
    expect(p('a not in (1)')).toEqual({ kind: 'in', value: col('a'), list: [int(1n)], negated: true });
  });

  it('desugars BETWEEN to >= AND <=, and NOT BETWEEN to its negation', () => {
    const range = { kind: 'and', operands: [cmp('>=', col('a'), int(1n)), cmp('<=', col('a'), int(5n))] };
    expect(p('a BETWEEN 1 AND 5')).toEqual(range);
    expect(p('a NOT BETWEEN 1 AND 5')).toEqual({ kind: 'not', operand: range });
    // BETWEEN's AND binds to it; the next AND joins the conjunction
    expect(p('a BETWEEN 1 AND 5 AND b = 2')).toEqual({
      kind: 'and',
      operands: [range, cmp('=', col('b'), int(2n))],
    });
  });

  it('parses IS NULL and IS NOT NULL', () => {
    expect(p('a IS NULL')).toEqual({ kind: 'isNull', value: col('a'), negated: false });
    expect(p('a is not null')).toEqual({ kind: 'isNull', value: col('a'), negated: true });
  });

  it('parses a bare operand as a boolean predicate', () => {
    expect(p('flag')).toEqual(col('flag'));
    expect(p('NOT flag AND TRUE')).toEqual({
      kind: 'and',
      operands: [
        { kind: 'not', operand: col('flag') },
        { kind: 'literal', value: true, literalKind: 'boolean', text: 'TRUE' },
      ],
    });
  });
});

describe('parsePredicate: precedence NOT > AND > OR', () => {
  const a = cmp('=', col('a'), int(1n));
  const b = cmp('=', col('b'), int(2n));
  const c = cmp('=', col('c'), int(3n));

  it('AND binds tighter than OR', () => {
    expect(p('a = 1 OR b = 2 AND c = 3')).toEqual({
      kind: 'or',
      operands: [a, { kind: 'and', operands: [b, c] }],
    });
    expect(p('a = 1 AND b = 2 OR c = 3')).toEqual({
      kind: 'or',
      operands: [{ kind: 'and', operands: [a, b] }, c],
    });
  });

  it('NOT binds tighter than AND, looser than comparison', () => {
    expect(p('NOT a = 1 AND b = 2')).toEqual({ kind: 'and', operands: [{ kind: 'not', operand: a }, b] });
    expect(p('a = 1 OR NOT b = 2')).toEqual({ kind: 'or', operands: [a, { kind: 'not', operand: b }] });
    expect(p('NOT NOT a = 1')).toEqual({ kind: 'not', operand: { kind: 'not', operand: a } });
  });

  it('parentheses override precedence and chains stay flat', () => {
    expect(p('(a = 1 OR b = 2) AND c = 3')).toEqual({
      kind: 'and',
      operands: [{ kind: 'or', operands: [a, b] }, c],
    });
    expect(p('NOT (a = 1 OR b = 2)')).toEqual({ kind: 'not', operand: { kind: 'or', operands: [a, b] } });
    expect(p('a = 1 AND b = 2 AND c = 3')).toEqual({ kind: 'and', operands: [a, b, c] });
    expect(p('((a = 1))')).toEqual(a);
  });

  it('keywords are case-insensitive', () => {
    expect(p('a = 1 or b = 2 AnD c = 3')).toEqual(p('a = 1 OR b = 2 AND c = 3'));
  });
});

describe('parsePredicate: errors', () => {
  const cases: [string, number, RegExp][] = [
    ['(a = 1', 7, /expected '\)', found end of input/],
    ['a = 1)', 6, /unbalanced '\)'/],
    ['a = 1 AND', 10, /found end of input/],
    ['a = 1 b = 2', 7, /expected AND, OR or end of input, found 'b'/],
    ['a =', 4, /expected a column or literal after '='/],
    ["a = 'abc", 5, /unterminated string literal/],
    ['a = `abc', 5, /unterminated quoted identifier/],
    ['a ! 1', 3, /unexpected character '!'/],
    ['a IN (1, )', 10, /expected a literal in the IN list, found '\)'/],
    ['a IN 1', 6, /expected '\('/],
    ['a NOT LIKE 1', 7, /expected IN or BETWEEN after NOT/],
    ['a BETWEEN 1 OR 2', 13, /expected AND in BETWEEN/],
    ['a IS 1', 6, /expected NULL or NOT NULL/],
    ["d = DATE '2021-13-01'", 10, /invalid date '2021-13-01'/],
    ["d = DATE '2021-02-29'", 10, /invalid date/],
    ["t = TIMESTAMP '2021-01-01 25:00:00'", 15, /invalid timestamp/],
    ["t = TIMESTAMP '2021-01-01 00:00:00.1234567'", 15, /invalid timestamp/],
    ["t = TIMESTAMP_NTZ '2021-01-01 00:00:00Z'", 19, /must not have a time zone/],
    ["b = X'abc'", 5, /even number of hex digits/],
    ['a = 12abc', 5, /invalid number/],
    ['a. = 1', 4, /expected a field name after '\.'/],
    ['AND a = 1', 1, /expected a column, a literal, NOT or \(, found 'AND'/],
    ['a = - b', 7, /expected a number after '-'/],
    ['', 1, /empty predicate/],
    ['   ', 1, /empty predicate/],
  ];
  for (const [text, column, message] of cases) {
    it(`${JSON.stringify(text)} -> column ${column}`, () => {
      const err = parseError(text);
      expect(err.code).toBe('INVALID_PREDICATE');
      expect(err.column).toBe(column);
      expect(err.message).toContain(`at column ${column}:`);
      expect(err.message).toMatch(message);
    });
  }

  it('refuses absurdly deep nesting with a typed error, not a stack overflow', () => {
    expect(parseError('('.repeat(5000) + 'a = 1' + ')'.repeat(5000)).code).toBe('INVALID_PREDICATE');
    expect(parseError('NOT '.repeat(5000) + 'a = 1').code).toBe('INVALID_PREDICATE');
  });
});

describe('columnsOf and formatExpr', () => {
  it('lists distinct columns in order of appearance', () => {
    const e = parsePredicate('b = 1 AND (a.x IN (1, 2) OR b IS NULL OR c < a.x) AND NOT d');
    expect(columnsOf(e)).toEqual([['b'], ['a', 'x'], ['c'], ['d']]);
  });

  it('formats a parsed tree as text that parses back to the same tree', () => {
    const texts = [
      "a = 1 AND (b <> 'x''y' OR NOT c IS NOT NULL) AND d NOT IN (1.5, -2, NULL)",
      "`my col`.x >= DATE '2021-01-02' OR t < TIMESTAMP '2021-01-01 00:00:00' OR b = X'0A'",
      'NOT (a = 1 AND b = 2) OR flag',
    ];
    for (const text of texts) {
      const e: Expr = parsePredicate(text);
      expect(strip(parsePredicate(formatExpr(e)))).toEqual(strip(e));
    }
  });
});
