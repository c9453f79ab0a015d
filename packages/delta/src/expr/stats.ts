/**
 * `mayMatchStats`: data skipping. Answers false only when a file's statistics prove that no row
 * of the file satisfies the predicate; anything unknown (missing stats, unknown types, values of
 * an unexpected JS type) answers "may match".
 *
 * Method: the predicate is first put in negation normal form (NOT pushed to the leaves with De
 * Morgan, comparisons negated, IN <-> NOT IN, IS NULL <-> IS NOT NULL; exact in three-valued
 * logic), so NOT is never applied to a "may match" answer. Then AND needs every operand to
 * possibly match, OR any operand, and each leaf is checked against the column's bounds:
 *   c = x: min <= x <= max        c < x: min < x      c > x: max > x    (<=, >= alike)
 *   c != x: not (min = max = x)   c IN (..): some element may be equal; NOT IN: every != may hold
 *   IS NULL: nullCount > 0        IS NOT NULL: nullCount < numRecords
 *   a op b (two columns): the bound intervals of a and b allow op
 * A comparison also needs a non-null value: nullCount = numRecords skips it; numRecords = 0
 * skips any predicate.
 *
 * Accessor contract: callers pass the values as written (in the shared scalar representation,
 * decimals unscaled): the bounds of timestamp/timestamp_ntz columns are widened here by 999 us
 * each way, because Spark writes them truncated to milliseconds. A value of the wrong JS type
 * for the column counts as unknown (a number for a long or an integral timestamp is accepted).
 * String max values are taken as upper bounds (Spark appends a tie-breaker when it truncates);
 * with `stringMaxMayBeTruncated` a max that is a prefix of the literal no longer excludes it.
 * Partition columns: `partitionValue(path)` returning a value (null included) makes that the
 * column's only value in the file; `undefined` means "not a partition column".
 * Floats: NaN sorts above every number (Spark order), so a writer that puts NaN in max is
 * handled; a writer that leaves NaN out of min/max (Parquet order) is trusted, as Delta does.
 */
import {
  type BoundColumn,
  type BoundExpr,
  type BoundValue,
  type CompareOp,
  negateOp,
  type ScalarValue,
} from './ast.js';
import { compareScalars } from './values.js';

export type PathAccessor = (path: readonly string[]) => ScalarValue | undefined;

export interface StatsAccessor {
  readonly numRecords?: number | bigint | undefined;
  /** Lower bound over the column's non-null values; `undefined` = unknown. */
  min(path: readonly string[]): ScalarValue | undefined;
  /** Upper bound over the column's non-null values; `undefined` = unknown. */
  max(path: readonly string[]): ScalarValue | undefined;
  /** Number of nulls (number or bigint); `undefined` = unknown. */
  nullCount(path: readonly string[]): ScalarValue | undefined;
  /** Same as the third argument of `mayMatchStats` (used when that one is absent). */
  readonly partitionValue?: PathAccessor | undefined;
}

export interface MayMatchOptions {
  /** String max values may be truncated prefixes of the true max (default false). */
  readonly stringMaxMayBeTruncated?: boolean;
}

const TIMESTAMP_SLACK = 999n;

/** Pushes every NOT down to the leaves; the result contains no 'not' node. */
export function toNegationNormalForm(expr: BoundExpr, negate = false): BoundExpr {
  switch (expr.kind) {
    case 'const':
      return negate && expr.value !== null ? { kind: 'const', value: !expr.value } : expr;
    case 'compare':
      return negate
        ? { kind: 'compare', op: negateOp(expr.op), column: expr.column, value: expr.value }
        : expr;
    case 'compareColumns':
      return negate
        ? { kind: 'compareColumns', op: negateOp(expr.op), left: expr.left, right: expr.right }
        : expr;
    case 'in':
      return negate
        ? {
            kind: 'in',
            column: expr.column,
            values: expr.values,
            hasNull: expr.hasNull,
            negated: !expr.negated,
          }
        : expr;
    case 'isNull':
      return negate ? { kind: 'isNull', column: expr.column, negated: !expr.negated } : expr;
    case 'and':
    case 'or': {
      const kind = negate ? (expr.kind === 'and' ? 'or' : 'and') : expr.kind;
      return { kind, operands: expr.operands.map((o) => toNegationNormalForm(o, negate)) };
    }
    case 'not':
      return toNegationNormalForm(expr.operand, !negate);
  }
}

interface Summary {
  /** Bounds over non-null values (already widened); undefined = unbounded. */
  readonly min: BoundValue | undefined;
  readonly max: BoundValue | undefined;
  /** The max may be a truncated prefix rather than an upper bound. */
  readonly maxTruncated: boolean;
  readonly hasNull: boolean | undefined;
  readonly hasNonNull: boolean | undefined;
}

const UNKNOWN: Summary = {
  min: undefined,
  max: undefined,
  maxTruncated: false,
  hasNull: undefined,
  hasNonNull: undefined,
};

function toCount(v: ScalarValue | undefined): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : undefined;
  if (typeof v === 'bigint') return v >= 0n ? Number(v) : undefined;
  return undefined;
}

/** A stats/partition value in the column's representation, or undefined if it is not one. */
function normalize(
  v: ScalarValue | undefined,
  column: BoundColumn,
  bound: 'min' | 'max',
): BoundValue | undefined {
  if (v === undefined || v === null) return undefined;
  const t = column.type.type;
  switch (t) {
    case 'long':
      if (typeof v === 'bigint') return v;
      if (typeof v === 'number' && Number.isFinite(v))
        return BigInt(bound === 'min' ? Math.floor(v) : Math.ceil(v));
      return undefined;
    case 'timestamp':
    case 'timestamp_ntz':
      if (typeof v === 'bigint') return v;
      return typeof v === 'number' && Number.isSafeInteger(v) ? BigInt(v) : undefined;
    case 'decimal':
      return typeof v === 'bigint' ? v : undefined;
    case 'byte':
    case 'short':
    case 'integer':
    case 'date':
      if (typeof v === 'number') return v;
      return typeof v === 'bigint' && v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : undefined;
    case 'float':
    case 'double':
      return typeof v === 'number' ? v : undefined;
    case 'string':
      return typeof v === 'string' ? v : undefined;
    case 'boolean':
      return typeof v === 'boolean' ? v : undefined;
    case 'binary':
      return v instanceof Uint8Array ? v : undefined;
    default:
      return undefined;
  }
}

class StatsChecker {
  constructor(
    private readonly stats: StatsAccessor,
    private readonly numRecords: number | undefined,
    private readonly partitionValue: PathAccessor | undefined,
    private readonly stringMaxMayBeTruncated: boolean,
  ) {}

  summarize(column: BoundColumn): Summary {
    const pv = this.partitionValue?.(column.path);
    if (pv !== undefined) {
      if (pv === null)
        return { min: undefined, max: undefined, maxTruncated: false, hasNull: true, hasNonNull: false };
      const v = normalize(pv, column, 'min');
      if (v === undefined) return UNKNOWN;
      return { min: v, max: v, maxTruncated: false, hasNull: false, hasNonNull: true };
    }
    const nc = toCount(this.stats.nullCount(column.path));
    const n = this.numRecords;
    let min = normalize(this.stats.min(column.path), column, 'min');
    let max = normalize(this.stats.max(column.path), column, 'max');
    const t = column.type.type;
    if (t === 'timestamp' || t === 'timestamp_ntz') {
      if (typeof min === 'bigint') min -= TIMESTAMP_SLACK;
      if (typeof max === 'bigint') max += TIMESTAMP_SLACK;
    }
    return {
      min,
      max,
      maxTruncated: this.stringMaxMayBeTruncated && t === 'string',
      hasNull: nc === undefined ? undefined : nc > 0,
      hasNonNull: nc === undefined || n === undefined ? undefined : nc < n,
    };
  }

  mayMatch(e: BoundExpr): boolean {
    switch (e.kind) {
      case 'const':
        return e.value === true;
      case 'compare': {
        const s = this.summarize(e.column);
        return s.hasNonNull !== false && mayCompare(e.op, s, e.value);
      }
      case 'in': {
        const s = this.summarize(e.column);
        if (s.hasNonNull === false) return false;
        if (e.negated) return !e.hasNull && e.values.every((x) => mayCompare('!=', s, x));
        return e.values.some((x) => mayCompare('=', s, x));
      }
      case 'isNull': {
        const s = this.summarize(e.column);
        return e.negated ? s.hasNonNull !== false : s.hasNull !== false;
      }
      case 'compareColumns': {
        const a = this.summarize(e.left);
        const b = this.summarize(e.right);
        if (a.hasNonNull === false || b.hasNonNull === false) return false;
        return mayCompareColumns(e.op, a, b);
      }
      case 'and':
        return e.operands.every((o) => this.mayMatch(o));
      case 'or':
        return e.operands.some((o) => this.mayMatch(o));
      case 'not':
        return true; // not reached after normalisation; "may match" is the safe answer
    }
  }
}

function maxReaches(s: Summary, x: BoundValue, strict: boolean): boolean {
  if (s.max === undefined) return true;
  const c = compareScalars(s.max, x);
  if (strict ? c > 0 : c >= 0) return true;
  // A truncated max m stands for "some string starting with m": x above m may still be reached
  // only if x itself starts with m.
  return s.maxTruncated && typeof x === 'string' && typeof s.max === 'string' && x.startsWith(s.max);
}

function mayCompare(op: CompareOp, s: Summary, x: BoundValue): boolean {
  const { min, max } = s;
  switch (op) {
    case '=':
      return (min === undefined || compareScalars(min, x) <= 0) && maxReaches(s, x, false);
    case '!=':
      return !(
        min !== undefined &&
        max !== undefined &&
        !s.maxTruncated &&
        compareScalars(min, x) === 0 &&
        compareScalars(max, x) === 0
      );
    case '<':
      return min === undefined || compareScalars(min, x) < 0;
    case '<=':
      return min === undefined || compareScalars(min, x) <= 0;
    case '>':
      return maxReaches(s, x, true);
    case '>=':
      return maxReaches(s, x, false);
  }
}

/** `lo op hi` may hold for some values below/above these bounds (undefined = unbounded). */
function boundsAllow(lo: BoundValue | undefined, hi: BoundValue | undefined, strict: boolean): boolean {
  if (lo === undefined || hi === undefined) return true;
  const c = compareScalars(lo, hi);
  return strict ? c < 0 : c <= 0;
}

function mayCompareColumns(op: CompareOp, a: Summary, b: Summary): boolean {
  const aMax = a.maxTruncated ? undefined : a.max;
  const bMax = b.maxTruncated ? undefined : b.max;
  switch (op) {
    case '<':
      return boundsAllow(a.min, bMax, true);
    case '<=':
      return boundsAllow(a.min, bMax, false);
    case '>':
      return boundsAllow(b.min, aMax, true);
    case '>=':
      return boundsAllow(b.min, aMax, false);
    case '=':
      return boundsAllow(a.min, bMax, false) && boundsAllow(b.min, aMax, false);
    case '!=': {
      const bounds = [a.min, aMax, b.min, bMax];
      if (bounds.some((v) => v === undefined)) return true;
      const first = bounds[0]!;
      return !bounds.every((v) => compareScalars(v!, first) === 0);
    }
  }
}

/**
 * Whether a file may hold a row satisfying `expr`, judging by its statistics (and partition
 * values). `false` is a proof that no row matches; see the module comment for the contract.
 */
export function mayMatchStats(
  expr: BoundExpr,
  stats: StatsAccessor,
  partitionValue?: PathAccessor,
  options: MayMatchOptions = {},
): boolean {
  const numRecords = toCount(stats.numRecords);
  if (numRecords === 0) return false;
  const checker = new StatsChecker(
    stats,
    numRecords,
    partitionValue ?? stats.partitionValue,
    options.stringMaxMayBeTruncated === true,
  );
  return checker.mayMatch(toNegationNormalForm(expr));
}
