/**
 * The predicate engine: parse (`parsePredicate`), bind to a schema (`bindPredicate`), and
 * evaluate on one row (`evaluateOnValues`), on file statistics (`mayMatchStats`) or on Arrow
 * batches (`filterBatch`). Pure and synchronous.
 */
export * from './ast.js';
export { type BoundPredicate, bindPredicate, coerceLiteral } from './bind.js';
export {
  type ColumnResolver,
  evaluateOnValues,
  filterBatch,
  type MayMatchOptions,
  mayMatchStats,
  type StatsAccessor,
  scalarAt,
  toNegationNormalForm,
  type ValueGetter,
} from './evaluate.js';
export { parsePredicate } from './parse.js';
export { compareScalars, compareUtf8 } from './values.js';
