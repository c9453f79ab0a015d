/**
 * `bindPredicate(expr, schema)`: resolves column references against a Delta schema and coerces
 * literals to the scalar representation of the column they meet.
 *
 * Resolution: each path segment matches a field name exactly, else case-insensitively when
 * exactly one field matches (two or more is an UNKNOWN_COLUMN "ambiguous" error). The leaf must
 * be a primitive or decimal type.
 *
 * Coercion ("the literal must fit", else TYPE_MISMATCH): numbers must be exactly representable
 * (integral and in range for byte/short/integer/long; at most `scale` fractional digits and
 * `precision` digits for decimals); float columns take the literal rounded to float32
 * (Math.fround), so `f = 0.1` finds the stored 0.1f. Strings are accepted for every type whose
 * text form is unambiguous ('2021-01-01' for a date, '12.5' for a decimal, 'true' for a boolean,
 * UTF-8 bytes for binary). DATE literals widen to timestamps (midnight UTC); TIMESTAMP literals
 * narrow to dates only at midnight. A zone-less timestamp text is read as UTC; TIMESTAMP and
 * TIMESTAMP_NTZ literals are both accepted by timestamp and timestamp_ntz columns (same micros).
 *
 * Normal form: comparisons become `column op value` or `column op column`; anything involving a
 * NULL literal or only literals folds to a constant, and constants fold through AND/OR/NOT.
 */
import type { DataType, StructField, StructType } from '../schema/types.js';
import {
  type BoundColumn,
  type BoundExpr,
  type BoundType,
  type BoundValue,
  type ColumnExpr,
  type CompareOp,
  columnsOf,
  type Expr,
  flipOp,
  formatExpr,
  type LiteralExpr,
  type OperandExpr,
} from './ast.js';
import { invalidPredicate, typeMismatch, unknownColumn } from './errors.js';
import {
  decimalBound,
  parseDateText,
  parseExactNumber,
  parseTimestampText,
  rescaleExact,
} from './literals.js';
import { compareScalars, opHolds, utf8Encode } from './values.js';

const MICROS_PER_DAY = 86_400_000_000n;

const INT_RANGES: Readonly<Record<string, readonly [bigint, bigint]>> = {
  byte: [-128n, 127n],
  short: [-32768n, 32767n],
  integer: [-2147483648n, 2147483647n],
  long: [-9223372036854775808n, 9223372036854775807n],
};

export function typeName(type: DataType): string {
  return type.type === 'decimal' ? `decimal(${type.precision},${type.scale})` : type.type;
}

function quotePart(name: string): string {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) ? name : '`' + name.replaceAll('`', '``') + '`';
}

export function pathName(path: readonly string[]): string {
  return path.map(quotePart).join('.');
}

function leafPaths(struct: StructType, prefix: string[] = [], out: string[] = []): string[] {
  for (const f of struct.fields) {
    const path = [...prefix, f.name];
    if (f.type.type === 'struct') leafPaths(f.type, path, out);
    else out.push(pathName(path));
  }
  return out;
}

function resolveColumn(ref: ColumnExpr, schema: StructType): BoundColumn {
  const fields: StructField[] = [];
  let struct: StructType = schema;
  for (let i = 0; i < ref.path.length; i++) {
    const name = ref.path[i]!;
    let field = struct.fields.find((f) => f.name === name);
    if (field === undefined) {
      const lower = name.toLowerCase();
      const matches = struct.fields.filter((f) => f.name.toLowerCase() === lower);
      if (matches.length > 1) {
        const names = matches.map((m) => pathName([...fields.map((f) => f.name), m.name]));
        throw unknownColumn(pathName(ref.path), names, ref.pos, 'ambiguous column');
      }
      field = matches[0];
    }
    if (field === undefined) throw unknownColumn(pathName(ref.path), leafPaths(schema), ref.pos);
    fields.push(field);
    if (i < ref.path.length - 1) {
      if (field.type.type !== 'struct') throw unknownColumn(pathName(ref.path), leafPaths(schema), ref.pos);
      struct = field.type;
    }
  }
  const leaf = fields[fields.length - 1]!;
  const path = fields.map((f) => f.name);
  const t = leaf.type;
  if (t.type === 'struct' || t.type === 'array' || t.type === 'map' || t.type === 'variant') {
    throw typeMismatch(
      pathName(path),
      typeName(t),
      'it',
      'cannot be used in a predicate (not a primitive type)',
      ref.pos,
    );
  }
  return { kind: 'column', path, type: t as BoundType, fields };
}

function literalText(lit: LiteralExpr): string {
  return formatExpr(lit);
}

function mismatch(col: BoundColumn, lit: LiteralExpr, reason = 'does not fit'): Error {
  return typeMismatch(pathName(col.path), typeName(col.type), literalText(lit), reason, lit.pos);
}

/** The exact number a numeric (or numeric-string) literal denotes, if any. */
function exactOf(lit: LiteralExpr): ReturnType<typeof parseExactNumber> {
  if (lit.literalKind === 'integer') return { unscaled: lit.value as bigint, scale: 0 };
  if (lit.literalKind === 'decimal' || lit.literalKind === 'string') return parseExactNumber(lit.text);
  return undefined;
}

function floatOf(lit: LiteralExpr, single: boolean): number | undefined {
  let v: number | undefined;
  if (lit.literalKind === 'integer') v = Number(lit.value as bigint);
  else if (lit.literalKind === 'decimal') v = lit.value as number;
  else if (lit.literalKind === 'string') {
    const t = lit.text.trim();
    if (/^(nan|[+-]?infinity)$/i.test(t))
      return t.toLowerCase() === 'nan' ? Number.NaN : t.startsWith('-') ? -Infinity : Infinity;
    v = parseExactNumber(t) === undefined ? undefined : Number(t);
  }
  if (v === undefined || !Number.isFinite(v)) return undefined;
  const r = single ? Math.fround(v) : v;
  return Number.isFinite(r) ? r : undefined;
}

/** Coerces a literal to the representation of `col`'s type; `null` for a NULL literal. */
export function coerceLiteral(lit: LiteralExpr, col: BoundColumn): BoundValue | null {
  if (lit.literalKind === 'null') return null;
  const type = col.type;
  switch (type.type) {
    case 'byte':
    case 'short':
    case 'integer':
    case 'long': {
      const exact = exactOf(lit);
      if (exact === undefined) throw mismatch(col, lit, 'is not a number');
      const v = rescaleExact(exact, 0);
      const [lo, hi] = INT_RANGES[type.type]!;
      if (v === undefined || v < lo || v > hi) throw mismatch(col, lit);
      return type.type === 'long' ? v : Number(v);
    }
    case 'float':
    case 'double': {
      const v = floatOf(lit, type.type === 'float');
      if (v === undefined)
        throw mismatch(col, lit, exactOf(lit) === undefined ? 'is not a number' : 'does not fit');
      return v;
    }
    case 'decimal': {
      const exact = exactOf(lit);
      if (exact === undefined) throw mismatch(col, lit, 'is not a number');
      const v = rescaleExact(exact, type.scale);
      const bound = decimalBound(type.precision);
      if (v === undefined || v >= bound || v <= -bound) throw mismatch(col, lit);
      return v;
    }
    case 'string':
      if (lit.literalKind === 'string') return lit.value as string;
      throw mismatch(col, lit, 'is not a string (quote it)');
    case 'boolean':
      if (lit.literalKind === 'boolean') return lit.value as boolean;
      if (lit.literalKind === 'string' && /^(true|false)$/i.test(lit.text.trim())) {
        return lit.text.trim().toLowerCase() === 'true';
      }
      throw mismatch(col, lit, 'is not a boolean');
    case 'binary':
      if (lit.literalKind === 'binary') return lit.value as Uint8Array;
      if (lit.literalKind === 'string') return utf8Encode(lit.value as string);
      throw mismatch(col, lit, 'is not binary');
    case 'date': {
      if (lit.literalKind === 'date') return lit.value as number;
      if (lit.literalKind === 'string') {
        const days = parseDateText(lit.text);
        if (days === undefined) throw mismatch(col, lit, "is not a date 'YYYY-MM-DD'");
        return days;
      }
      if (lit.literalKind === 'timestamp' || lit.literalKind === 'timestamp_ntz') {
        const micros = lit.value as bigint;
        if (micros % MICROS_PER_DAY !== 0n) throw mismatch(col, lit, 'is not a whole day');
        return Number(micros / MICROS_PER_DAY);
      }
      throw mismatch(col, lit, 'is not a date');
    }
    case 'timestamp':
    case 'timestamp_ntz': {
      if (lit.literalKind === 'timestamp' || lit.literalKind === 'timestamp_ntz') return lit.value as bigint;
      if (lit.literalKind === 'date') return BigInt(lit.value as number) * MICROS_PER_DAY;
      if (lit.literalKind === 'string') {
        const ts = parseTimestampText(lit.text);
        if (ts === undefined) throw mismatch(col, lit, "is not a timestamp 'YYYY-MM-DD HH:MM:SS[.ffffff]'");
        if (ts.hasZone && type.type === 'timestamp_ntz') throw mismatch(col, lit, 'has a time zone');
        return ts.micros;
      }
      throw mismatch(col, lit, 'is not a timestamp');
    }
    default:
      throw mismatch(col, lit, 'cannot be compared');
  }
}

// -- literal vs literal (folded) ---------------------------------------------------------------

function literalFamily(lit: LiteralExpr): string {
  switch (lit.literalKind) {
    case 'integer':
    case 'decimal':
      return 'number';
    case 'timestamp':
    case 'timestamp_ntz':
      return 'timestamp';
    default:
      return lit.literalKind;
  }
}

function compareLiterals(op: CompareOp, a: LiteralExpr, b: LiteralExpr): boolean | null {
  if (a.value === null || b.value === null) return null;
  if (literalFamily(a) !== literalFamily(b)) {
    throw typeMismatch(
      '(literal)',
      lit2type(a),
      literalText(b),
      `cannot be compared with ${literalText(a)}`,
      b.pos,
    );
  }
  return opHolds(op, compareScalars(a.value, b.value));
}

function lit2type(lit: LiteralExpr): string {
  return lit.literalKind === 'decimal' || lit.literalKind === 'integer' ? 'number' : lit.literalKind;
}

// -- column vs column --------------------------------------------------------------------------

const NUMERIC = new Set(['byte', 'short', 'integer', 'long', 'float', 'double']);

function comparableColumns(a: BoundType, b: BoundType): boolean {
  if (a.type === 'decimal' || b.type === 'decimal') {
    return a.type === 'decimal' && b.type === 'decimal' && a.scale === b.scale;
  }
  return a.type === b.type || (NUMERIC.has(a.type) && NUMERIC.has(b.type));
}

// -- tree binding -------------------------------------------------------------------------------

function constant(value: boolean | null): BoundExpr {
  return { kind: 'const', value };
}

function valueKey(v: BoundValue): string {
  if (v instanceof Uint8Array) return 'b:' + Array.from(v).join(',');
  if (typeof v === 'number') return Number.isNaN(v) ? 'n:NaN' : 'n:' + (v === 0 ? '0' : String(v));
  return typeof v + ':' + String(v);
}

class Binder {
  constructor(private readonly schema: StructType) {}

  bind(e: Expr): BoundExpr {
    switch (e.kind) {
      case 'column': {
        const col = resolveColumn(e, this.schema);
        if (col.type.type !== 'boolean') {
          throw typeMismatch(
            pathName(col.path),
            typeName(col.type),
            'it',
            'is not a boolean predicate',
            e.pos,
          );
        }
        return { kind: 'compare', op: '=', column: col, value: true };
      }
      case 'literal':
        if (e.literalKind === 'boolean') return constant(e.value as boolean);
        if (e.literalKind === 'null') return constant(null);
        throw invalidPredicate(undefined, e.pos, `expected a predicate, found literal ${literalText(e)}`);
      case 'compare':
        return this.bindCompare(e.op, e.left, e.right);
      case 'in':
        return this.bindIn(e.value, e.list, e.negated);
      case 'isNull': {
        if (e.value.kind === 'literal') return constant((e.value.value === null) !== e.negated);
        return { kind: 'isNull', column: resolveColumn(e.value, this.schema), negated: e.negated };
      }
      case 'and':
      case 'or':
        return this.bindJunction(e.kind, e.operands);
      case 'not': {
        const inner = this.bind(e.operand);
        if (inner.kind === 'const') return constant(inner.value === null ? null : !inner.value);
        if (inner.kind === 'not') return inner.operand;
        return { kind: 'not', operand: inner };
      }
    }
  }

  private bindCompare(op: CompareOp, left: OperandExpr, right: OperandExpr): BoundExpr {
    if (left.kind === 'literal' && right.kind === 'literal')
      return constant(compareLiterals(op, left, right));
    if (left.kind === 'literal') return this.bindCompare(flipOp(op), right, left);
    const column = resolveColumn(left, this.schema);
    if (right.kind === 'column') {
      const other = resolveColumn(right, this.schema);
      if (!comparableColumns(column.type, other.type)) {
        throw typeMismatch(
          pathName(column.path),
          typeName(column.type),
          `column '${pathName(other.path)}' of type ${typeName(other.type)}`,
          'cannot be compared with it',
          right.pos,
        );
      }
      return { kind: 'compareColumns', op, left: column, right: other };
    }
    const value = coerceLiteral(right, column);
    if (value === null) return constant(null);
    return { kind: 'compare', op, column, value };
  }

  private bindIn(target: OperandExpr, list: readonly OperandExpr[], negated: boolean): BoundExpr {
    for (const item of list) {
      if (item.kind !== 'literal') {
        throw invalidPredicate(undefined, item.pos, 'an IN list may only hold literals');
      }
    }
    const literals = list as readonly LiteralExpr[];
    if (target.kind === 'literal') {
      // Constant membership: fold with three-valued semantics.
      let result: boolean | null = false;
      for (const item of literals) {
        const eq = compareLiterals('=', target, item);
        if (eq === true) {
          result = true;
          break;
        }
        if (eq === null) result = null;
      }
      return constant(result === null ? null : result !== negated);
    }
    const column = resolveColumn(target, this.schema);
    const seen = new Set<string>();
    const values: BoundValue[] = [];
    let hasNull = false;
    for (const item of literals) {
      const v = coerceLiteral(item, column);
      if (v === null) {
        hasNull = true;
        continue;
      }
      const key = valueKey(v);
      if (!seen.has(key)) {
        seen.add(key);
        values.push(v);
      }
    }
    if (values.length === 0) {
      // `c IN (NULL)` is never true; `c NOT IN (NULL)` is never true either.
      return constant(null);
    }
    return { kind: 'in', column, values, hasNull, negated };
  }

  private bindJunction(kind: 'and' | 'or', operands: readonly Expr[]): BoundExpr {
    const absorbing = kind === 'or'; // OR: TRUE absorbs; AND: FALSE absorbs
    const out: BoundExpr[] = [];
    let sawNull = false;
    for (const operand of operands) {
      const b = this.bind(operand);
      if (b.kind === 'const') {
        if (b.value === absorbing) return constant(absorbing);
        if (b.value === null) sawNull = true;
        continue; // the identity element drops out
      }
      if (b.kind === kind) out.push(...b.operands);
      else out.push(b);
    }
    if (sawNull) out.push(constant(null));
    if (out.length === 0) return constant(!absorbing);
    if (out.length === 1) return out[0]!;
    return { kind, operands: out };
  }
}

/** A bound root expression, carrying the distinct column paths it references. */
export type BoundPredicate = BoundExpr & { readonly columns: readonly (readonly string[])[] };

/**
 * Binds a parsed predicate to a schema. Throws WeirError UNKNOWN_COLUMN (unknown or ambiguous
 * column, listing the available ones), TYPE_MISMATCH (literal does not fit the column, or
 * incomparable columns) or INVALID_PREDICATE (a non-boolean where a predicate is expected).
 * The result is a `BoundExpr` whose root also lists the referenced columns (`columns`, logical
 * paths as the schema spells them, e.g. to decide which columns a scan must read).
 */
export function bindPredicate(expr: Expr, schema: StructType): BoundPredicate {
  const root = new Binder(schema).bind(expr);
  return { ...root, columns: columnsOf(root) };
}
