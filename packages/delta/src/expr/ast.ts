/**
 * The predicate AST, before and after binding to a schema.
 *
 * `Expr` is what the parser produces: names as written, literals as typed by their syntax.
 * `BoundExpr` is what the evaluators take: every column resolved to a schema field (its path
 * spelled as the schema spells it, and its type), every literal coerced to its column's scalar
 * representation, comparisons normalised to `column op value` or `column op column`, NULL
 * literals and constant sub-expressions folded away. Both trees are immutable plain objects;
 * AND/OR are n-ary so long chains do not deepen the tree.
 *
 * Scalar representation (shared across Weir): long -> bigint; integer/short/byte/float/double
 * -> number; string -> string; boolean -> boolean; binary -> Uint8Array; date -> number (days
 * since 1970-01-01); timestamp, timestamp_ntz -> bigint microseconds since the epoch;
 * decimal(p,s) -> bigint unscaled (value * 10^s).
 */
import type { DecimalType, PrimitiveType, StructField } from '../schema/types.js';

export type ScalarValue = null | boolean | number | bigint | string | Uint8Array;

/** The syntactic kind of a literal; binding uses it to decide which coercions apply. */
export type LiteralKind =
  | 'integer' // bigint value, any size
  | 'decimal' // number value; `text` keeps the exact digits for decimal columns
  | 'string'
  | 'binary' // X'0A1B'
  | 'boolean'
  | 'null'
  | 'date' // DATE '...' -> days
  | 'timestamp' // TIMESTAMP '...' -> UTC micros (no zone in the text means UTC)
  | 'timestamp_ntz'; // TIMESTAMP_NTZ '...' -> wall-clock micros

export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

// ---------------------------------------------------------------------------------------------
// Unbound (parsed) expressions. `pos` is the 0-based offset in the source text, when known.

export interface ColumnExpr {
  readonly kind: 'column';
  readonly path: readonly string[];
  readonly pos?: number;
}

export interface LiteralExpr {
  readonly kind: 'literal';
  readonly value: ScalarValue;
  readonly literalKind: LiteralKind;
  /** Source text of the literal (digits of a number, content of a string); used in messages. */
  readonly text: string;
  readonly pos?: number;
}

export type OperandExpr = ColumnExpr | LiteralExpr;

export type Expr =
  | ColumnExpr
  | LiteralExpr
  | {
      readonly kind: 'compare';
      readonly op: CompareOp;
      readonly left: OperandExpr;
      readonly right: OperandExpr;
      readonly pos?: number;
    }
  | {
      readonly kind: 'in';
      readonly value: OperandExpr;
      readonly list: readonly OperandExpr[];
      readonly negated: boolean;
      readonly pos?: number;
    }
  | { readonly kind: 'isNull'; readonly value: OperandExpr; readonly negated: boolean; readonly pos?: number }
  | { readonly kind: 'and'; readonly operands: readonly Expr[] }
  | { readonly kind: 'or'; readonly operands: readonly Expr[] }
  | { readonly kind: 'not'; readonly operand: Expr };

// ---------------------------------------------------------------------------------------------
// Bound expressions.

/** A leaf column type a predicate can use (no struct/array/map/variant). */
export type BoundType = PrimitiveType | DecimalType;

export interface BoundColumn {
  readonly kind: 'column';
  /** Logical path as the schema spells it (case resolved). */
  readonly path: readonly string[];
  readonly type: BoundType;
  /** The schema fields from the root to the leaf (for column-mapping physical names). */
  readonly fields: readonly StructField[];
}

/** A non-null scalar in the representation of the column it is compared with. */
export type BoundValue = boolean | number | bigint | string | Uint8Array;

export type BoundExpr =
  | { readonly kind: 'const'; readonly value: boolean | null }
  | {
      readonly kind: 'compare';
      readonly op: CompareOp;
      readonly column: BoundColumn;
      readonly value: BoundValue;
    }
  | {
      readonly kind: 'compareColumns';
      readonly op: CompareOp;
      readonly left: BoundColumn;
      readonly right: BoundColumn;
    }
  | {
      readonly kind: 'in';
      readonly column: BoundColumn;
      /** Non-null elements, deduplicated. */
      readonly values: readonly BoundValue[];
      /** The list held a NULL: IN is then never false, NOT IN never true. */
      readonly hasNull: boolean;
      readonly negated: boolean;
    }
  | { readonly kind: 'isNull'; readonly column: BoundColumn; readonly negated: boolean }
  | { readonly kind: 'and'; readonly operands: readonly BoundExpr[] }
  | { readonly kind: 'or'; readonly operands: readonly BoundExpr[] }
  | { readonly kind: 'not'; readonly operand: BoundExpr };

/** `a op b` <=> `b flip(op) a`. */
export function flipOp(op: CompareOp): CompareOp {
  switch (op) {
    case '<':
      return '>';
    case '<=':
      return '>=';
    case '>':
      return '<';
    case '>=':
      return '<=';
    default:
      return op;
  }
}

/** `NOT (a op b)` <=> `a negate(op) b` (exact in three-valued logic over a total order). */
export function negateOp(op: CompareOp): CompareOp {
  switch (op) {
    case '=':
      return '!=';
    case '!=':
      return '=';
    case '<':
      return '>=';
    case '<=':
      return '>';
    case '>':
      return '<=';
    case '>=':
      return '<';
  }
}

/**
 * The distinct column paths an expression references, in order of first appearance. Works on
 * parsed (`Expr`) and bound (`BoundExpr`) trees.
 */
export function columnsOf(expr: Expr | BoundExpr): string[][] {
  const seen = new Set<string>();
  const out: string[][] = [];
  const add = (path: readonly string[]): void => {
    const key = path.join('\u0000');
    if (!seen.has(key)) {
      seen.add(key);
      out.push([...path]);
    }
  };
  const visit = (e: Expr | BoundExpr): void => {
    switch (e.kind) {
      case 'column':
        add(e.path);
        return;
      case 'literal':
      case 'const':
        return;
      case 'compare':
        if ('column' in e) {
          add(e.column.path);
        } else {
          visit(e.left);
          visit(e.right);
        }
        return;
      case 'compareColumns':
        add(e.left.path);
        add(e.right.path);
        return;
      case 'in':
        if ('column' in e) add(e.column.path);
        else {
          visit(e.value);
          for (const item of e.list) visit(item);
        }
        return;
      case 'isNull':
        if ('column' in e) add(e.column.path);
        else visit(e.value);
        return;
      case 'and':
      case 'or':
        for (const operand of e.operands) visit(operand);
        return;
      case 'not':
        visit(e.operand);
        return;
    }
  };
  visit(expr);
  return out;
}

function quoteIdent(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : '`' + name.replaceAll('`', '``') + '`';
}

function formatPath(path: readonly string[]): string {
  return path.map(quoteIdent).join('.');
}

function formatValue(value: ScalarValue): string {
  if (value === null) return 'NULL';
  if (typeof value === 'string') return `'${value.replaceAll("'", "''")}'`;
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  if (value instanceof Uint8Array) {
    let hex = '';
    for (const b of value) hex += b.toString(16).padStart(2, '0');
    return `X'${hex.toUpperCase()}'`;
  }
  return String(value);
}

/**
 * A readable rendering (for logs, `explain` output and error details). Bound values are printed
 * in their scalar representation (dates as day numbers, decimals unscaled), so the output of a
 * bound tree is not meant to be parsed again.
 */
export function formatExpr(expr: Expr | BoundExpr): string {
  const paren = (e: Expr | BoundExpr): string =>
    e.kind === 'and' || e.kind === 'or' ? `(${formatExpr(e)})` : formatExpr(e);
  switch (expr.kind) {
    case 'column':
      return formatPath(expr.path);
    case 'literal':
      switch (expr.literalKind) {
        case 'date':
          return `DATE '${expr.text}'`;
        case 'timestamp':
          return `TIMESTAMP '${expr.text}'`;
        case 'timestamp_ntz':
          return `TIMESTAMP_NTZ '${expr.text}'`;
        case 'decimal':
          return expr.text;
        default:
          return formatValue(expr.value);
      }
    case 'const':
      return expr.value === null ? 'NULL' : expr.value ? 'TRUE' : 'FALSE';
    case 'compare':
      if ('column' in expr) return `${formatPath(expr.column.path)} ${expr.op} ${formatValue(expr.value)}`;
      return `${formatExpr(expr.left)} ${expr.op} ${formatExpr(expr.right)}`;
    case 'compareColumns':
      return `${formatPath(expr.left.path)} ${expr.op} ${formatPath(expr.right.path)}`;
    case 'in': {
      const not = expr.negated ? 'NOT IN' : 'IN';
      if ('column' in expr) {
        const items = expr.values.map(formatValue);
        if (expr.hasNull) items.push('NULL');
        return `${formatPath(expr.column.path)} ${not} (${items.join(', ')})`;
      }
      return `${formatExpr(expr.value)} ${not} (${expr.list.map(formatExpr).join(', ')})`;
    }
    case 'isNull': {
      const target = 'column' in expr ? formatPath(expr.column.path) : formatExpr(expr.value);
      return `${target} IS ${expr.negated ? 'NOT ' : ''}NULL`;
    }
    case 'and':
      return expr.operands.map(paren).join(' AND ');
    case 'or':
      return expr.operands.map(paren).join(' OR ');
    case 'not':
      return `NOT ${paren(expr.operand)}`;
  }
}
