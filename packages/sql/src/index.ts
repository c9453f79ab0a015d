/**
 * @weir/sql — SQL over Weir's Delta tables with DuckDB: each table a view over exactly the
 * files of its snapshot (partition values typed, column mapping resolved, pruning from the
 * query's WHERE), or Weir's own scan where DuckDB cannot read the files as they are.
 */

export { arrowTypeOf, chunkToBatch, resultSchema } from './duck-arrow.js';
export { duckType, quoteIdent, sqlLiteral, sqlString } from './duck-types.js';
export { type PruneRequest, pruneRequests } from './pruning.js';
export { collect, type QueryResult, queryTables } from './query-tables.js';
export { type ReplOptions, runRepl } from './repl.js';
export {
  type SessionOptions,
  SqlSession,
  type SqlStream,
  type TableInput,
  type TableRef,
} from './session.js';
export {
  assertTableName,
  parseTableSpec,
  rewriteTimeTravel,
  splitViewName,
  type TableSpec,
} from './table-names.js';
export type { TableReadInfo } from './table-views.js';
export { convertColumn, emptyViewSql, type FileGroup, type ViewSource, viewSql } from './view-sql.js';
