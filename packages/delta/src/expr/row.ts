/**
 * `evaluateOnValues`: a bound predicate on one row given as a value getter, in SQL three-valued
 * logic. The reference row semantics the other evaluators must agree with.
 *
 * Unknown values: a leaf whose column value is `undefined` evaluates to NULL whatever its
 * operator. Kleene logic is monotone, so a result of `false` then holds for every possible value
 * of the unknown columns: `evaluateOnValues(e, partitionValuesOnly) === false` proves that no row
 * of the partition matches (NULL proves nothing).
 */
import { WeirError } from '@weir/storage';
import type { BoundColumn, BoundExpr, ScalarValue } from './ast.js';
import { pathName } from './bind.js';
import { compareScalars, opHolds } from './values.js';

/** Values of a row by column path; `undefined` = unknown (not NULL). */
export type ValueGetter = (path: readonly string[]) => ScalarValue | undefined;

function compareAt(
  column: BoundColumn,
  a: Exclude<ScalarValue, null>,
  b: Exclude<ScalarValue, null>,
): number {
  try {
    return compareScalars(a, b);
  } catch (err) {
    throw new WeirError(
      'TYPE_MISMATCH',
      `column '${pathName(column.path)}' of type ${column.type.type}: ${(err as Error).message}`,
      {
        cause: err,
        details: { column: pathName(column.path), type: column.type.type },
      },
    );
  }
}

/** Evaluates `expr` on one row: true, false, or null (unknown). */
export function evaluateOnValues(expr: BoundExpr, get: ValueGetter): boolean | null {
  switch (expr.kind) {
    case 'const':
      return expr.value;
    case 'compare': {
      const v = get(expr.column.path);
      if (v === null || v === undefined) return null;
      return opHolds(expr.op, compareAt(expr.column, v, expr.value));
    }
    case 'compareColumns': {
      const a = get(expr.left.path);
      if (a === null || a === undefined) return null;
      const b = get(expr.right.path);
      if (b === null || b === undefined) return null;
      return opHolds(expr.op, compareAt(expr.left, a, b));
    }
    case 'in': {
      const v = get(expr.column.path);
      if (v === null || v === undefined) return null;
      for (const item of expr.values) {
        if (compareAt(expr.column, v, item) === 0) return !expr.negated;
      }
      return expr.hasNull ? null : expr.negated;
    }
    case 'isNull': {
      const v = get(expr.column.path);
      if (v === undefined) return null;
      return (v === null) !== expr.negated;
    }
    case 'and': {
      let result: boolean | null = true;
      for (const operand of expr.operands) {
        const r = evaluateOnValues(operand, get);
        if (r === false) return false;
        if (r === null) result = null;
      }
      return result;
    }
    case 'or': {
      let result: boolean | null = false;
      for (const operand of expr.operands) {
        const r = evaluateOnValues(operand, get);
        if (r === true) return true;
        if (r === null) result = null;
      }
      return result;
    }
    case 'not': {
      const r = evaluateOnValues(expr.operand, get);
      return r === null ? null : !r;
    }
  }
}
