/**
 * `filterBatch`: row-level evaluation of a bound predicate over an Arrow record batch, with the
 * same three-valued semantics as `evaluateOnValues` (row.ts). Returns a mask, 1 for the rows
 * where the predicate is TRUE (FALSE and NULL rows are excluded).
 *
 * Each node yields a per-row tri-state array (0 = FALSE, 1 = NULL, 2 = TRUE), so AND is the
 * minimum, OR the maximum and NOT is 2 - x. Column-vs-literal comparisons use the
 * type-specialised kernels of compare-kernels.ts; IN lists of up to 8 values OR their `=`
 * kernels, longer ones probe a Set. A column resolved to a ScalarValue is a constant (e.g. a
 * partition value) and its leaves are evaluated once.
 */
import { WeirError } from '@weir/storage';
import { type RecordBatch, Type, type Vector } from 'apache-arrow';
import { type AnyData, chunkReader, type Reader, validityOf, vectorReader } from './arrow-values.js';
import type { BoundColumn, BoundExpr, BoundValue, CompareOp, ScalarValue } from './ast.js';
import { pathName } from './bind.js';
import { compareVector, F, opTable, T, U } from './compare-kernels.js';
import { evaluateOnValues } from './row.js';
import { compareScalars } from './values.js';

export { scalarAt } from './arrow-values.js';

/** The vector of a column path, or its constant value for every row. */
export type ColumnResolver = (path: readonly string[]) => Vector | ScalarValue;

const IN_SET_THRESHOLD = 8;

function isVector(v: Vector | ScalarValue): v is Vector {
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array);
}

function typeError(column: BoundColumn, err: unknown): WeirError {
  if (err instanceof WeirError && err.code !== 'TYPE_MISMATCH') return err;
  const name = pathName(column.path);
  return new WeirError(
    'TYPE_MISMATCH',
    `column '${name}' of type ${column.type.type}: ${(err as Error).message}`,
    {
      cause: err,
      details: { column: name, type: column.type.type },
    },
  );
}

class Evaluator {
  private readonly columns = new Map<string, Vector | ScalarValue>();

  constructor(
    private readonly numRows: number,
    private readonly resolve: ColumnResolver,
  ) {}

  column(column: BoundColumn): Vector | ScalarValue {
    const key = column.path.join('\u0000');
    let v = this.columns.get(key);
    if (v === undefined && !this.columns.has(key)) {
      v = this.resolve(column.path);
      if (v === undefined) {
        throw new WeirError('UNKNOWN_COLUMN', `no data for column '${pathName(column.path)}' in the batch`, {
          details: { column: pathName(column.path) },
        });
      }
      if (isVector(v) && v.length !== this.numRows) {
        throw new WeirError(
          'INVALID_ARGUMENT',
          `column '${pathName(column.path)}' has ${v.length} rows, the batch ${this.numRows}`,
          { details: { column: pathName(column.path) } },
        );
      }
      this.columns.set(key, v);
    }
    return v as Vector | ScalarValue;
  }

  eval(e: BoundExpr): Uint8Array {
    const n = this.numRows;
    switch (e.kind) {
      case 'const':
        return new Uint8Array(n).fill(e.value === null ? U : e.value ? T : F);
      case 'compare': {
        const col = this.column(e.column);
        if (!isVector(col)) return this.constant(e, col);
        try {
          return compareVector(col, e.op, e.value, n);
        } catch (err) {
          throw typeError(e.column, err);
        }
      }
      case 'compareColumns':
        return this.compareColumns(e.op, e.left, e.right);
      case 'in':
        return this.in(e);
      case 'isNull': {
        const col = this.column(e.column);
        if (!isVector(col)) return this.constant(e, col);
        const out = new Uint8Array(n);
        const [yes, no] = e.negated ? [F, T] : [T, F];
        let base = 0;
        for (const data of col.data as AnyData[]) {
          const read = data.typeId === Type.Dictionary ? chunkReader(data) : undefined;
          const valid = validityOf(data);
          for (let i = 0; i < data.length; i++) {
            const isNull = read !== undefined ? read(i) === null : valid !== undefined && !valid(i);
            out[base + i] = isNull ? yes : no;
          }
          base += data.length;
        }
        return out;
      }
      case 'and':
      case 'or': {
        const acc = this.eval(e.operands[0]!);
        for (let k = 1; k < e.operands.length; k++) {
          const r = this.eval(e.operands[k]!);
          if (e.kind === 'and') for (let i = 0; i < n; i++) acc[i] = Math.min(acc[i]!, r[i]!);
          else for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i]!, r[i]!);
        }
        return acc;
      }
      case 'not': {
        const r = this.eval(e.operand);
        for (let i = 0; i < n; i++) r[i] = 2 - r[i]!;
        return r;
      }
    }
  }

  /** A leaf over a constant column: evaluated once, like a row. */
  private constant(e: BoundExpr, value: ScalarValue): Uint8Array {
    const r = evaluateOnValues(e, () => value);
    return new Uint8Array(this.numRows).fill(r === null ? U : r ? T : F);
  }

  private reader(column: BoundColumn): Reader {
    const col = this.column(column);
    return isVector(col) ? vectorReader(col) : () => col;
  }

  private compareColumns(op: CompareOp, left: BoundColumn, right: BoundColumn): Uint8Array {
    const a = this.reader(left);
    const b = this.reader(right);
    const table = opTable(op);
    const out = new Uint8Array(this.numRows);
    try {
      for (let i = 0; i < this.numRows; i++) {
        const x = a(i);
        const y = x === null ? null : b(i);
        out[i] = x === null || y === null ? U : table[compareScalars(x, y) + 1]!;
      }
    } catch (err) {
      throw typeError(left, err);
    }
    return out;
  }

  private in(e: Extract<BoundExpr, { kind: 'in' }>): Uint8Array {
    const n = this.numRows;
    const col = this.column(e.column);
    if (!isVector(col)) return this.constant(e, col);
    let acc: Uint8Array;
    try {
      if (e.values.length <= IN_SET_THRESHOLD) {
        acc = compareVector(col, '=', e.values[0]!, n);
        for (let k = 1; k < e.values.length; k++) {
          const r = compareVector(col, '=', e.values[k]!, n);
          for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i]!, r[i]!);
        }
      } else {
        acc = inBySet(col, e.values, n);
      }
    } catch (err) {
      throw typeError(e.column, err);
    }
    if (e.hasNull) for (let i = 0; i < n; i++) acc[i] = Math.max(acc[i]!, U);
    if (e.negated) for (let i = 0; i < n; i++) acc[i] = 2 - acc[i]!;
    return acc;
  }
}

/** Set-membership key: same-valued scalars of one family map to the same key. */
function setKey(v: Exclude<ScalarValue, null>, wantBigint: boolean): unknown {
  if (v instanceof Uint8Array) return 'b' + Array.prototype.join.call(v, ',');
  if (wantBigint && typeof v === 'number') return Number.isInteger(v) ? BigInt(v) : v;
  if (!wantBigint && typeof v === 'bigint') return Number(v);
  return v;
}

function family(v: Exclude<ScalarValue, null>): string {
  return typeof v === 'bigint' ? 'number' : v instanceof Uint8Array ? 'binary' : typeof v;
}

function inBySet(vector: Vector, values: readonly BoundValue[], n: number): Uint8Array {
  const wantBigint = typeof values[0] === 'bigint';
  const set = new Set(values.map((v) => setKey(v, wantBigint)));
  const read = vectorReader(vector);
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const v = read(i);
    if (v === null) out[i] = U;
    else {
      if (family(v) !== family(values[0]!)) compareScalars(v, values[0]!); // throws TYPE_MISMATCH
      out[i] = set.has(setKey(v, wantBigint)) ? T : F;
    }
  }
  return out;
}

/**
 * Evaluates `expr` on every row of `batch`: 1 where it is TRUE, 0 where FALSE or NULL.
 * `resolveColumn(path)` gives the column's vector (batch.numRows long) or a constant value.
 */
export function filterBatch(expr: BoundExpr, batch: RecordBatch, resolveColumn: ColumnResolver): Uint8Array {
  const tri = new Evaluator(batch.numRows, resolveColumn).eval(expr);
  for (let i = 0; i < tri.length; i++) tri[i] = tri[i] === T ? 1 : 0;
  return tri;
}
