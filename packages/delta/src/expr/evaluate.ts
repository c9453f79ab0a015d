/**
 * Evaluation of bound predicates, all in SQL three-valued logic (NULL = unknown):
 * - `evaluateOnValues` (row.ts): one row given as a value getter; the reference semantics, and
 *   partition pruning (a getter may answer `undefined` = "value not known here": the result is
 *   `false` only if no value of the unknown columns could make it true);
 * - `mayMatchStats` (stats.ts): data skipping on per-file min/max/null counts;
 * - `filterBatch` (filter-batch.ts): row filtering over Arrow record batches.
 */
export { type ColumnResolver, filterBatch, scalarAt } from './filter-batch.js';
export { evaluateOnValues, type ValueGetter } from './row.js';
export { type MayMatchOptions, mayMatchStats, type StatsAccessor, toNegationNormalForm } from './stats.js';
