/**
 * @weir/delta — the Delta Lake table format over an ObjectStore: actions, schema, log replay,
 * snapshots, time travel, scans to Arrow, history.
 */

export {
  parseAction,
  parseCommitFile,
  parseStats,
  serializeAction,
  serializeCommit,
} from './actions/codec.js';
export type * from './actions/types.js';
export type { Expr } from './expr/ast.js';
export { parsePredicate } from './expr/parse.js';
export { type HistoryEntry, readHistory } from './history.js';
export { readCheckpoint } from './log/checkpoint-reader.js';
export { classifyLogKey, commitKey, LOG_DIR } from './log/log-files.js';
export {
  type LogListing,
  type LogSegment,
  listLog,
  planLogSegment,
  readLastCheckpointHint,
} from './log/log-segment.js';
export { parquetRowGroupInfo, readParquetTable, type RowGroupInfo } from './parquet/wasm.js';
export { conformBatchToSchema } from './scan/conform.js';
export { loadDeletionVector } from './scan/deletion-vector.js';
export { batchToJsonRows, type JsonValue, jsonValueAt } from './scan/json-rows.js';
export {
  type ExecuteOptions,
  executeScan,
  scanOutputSchema,
  scanSnapshot,
  scanToTable,
} from './scan/scan.js';
export { planScan, type ScanFile, type ScanOptions, type ScanPlan } from './scan/scan-plan.js';
export { arrowSchemaToDelta, deltaSchemaToArrow, deltaTypeToArrow } from './schema/arrow.js';
export { columnMappingMode, physicalSchema } from './schema/column-mapping.js';
export { parseSchema, serializeSchema, typeToString } from './schema/parse.js';
export { parsePartitionValue, type ScalarValue, serializePartitionValue } from './schema/partition-values.js';
export type * from './schema/types.js';
export { SUPPORTED_READER_FEATURES } from './snapshot/protocol-support.js';
export { loadSnapshot, Snapshot, type SnapshotOptions } from './snapshot/snapshot.js';
export * from './records/index.js';
export { createTable, type CreateTableOptions, type CreateTableResult } from './table/create-table.js';
export {
  maybeCheckpoint,
  type WriteInput,
  type WriteMode,
  type WriteOptions,
  type WriteResult,
  writeTable,
} from './table/write-table.js';
export { conformForWrite, reconcileSchema } from './table/schema-enforcement.js';
export { KNOWN_PROPERTIES, validateProperties } from './table/table-config.js';
export { type CommitResult, CommitConflictError, removeFromAdd, Transaction, type TransactionOptions } from './txn/transaction.js';
export type { Conflict, ConflictReason } from './txn/conflict-checker.js';
export { ENGINE_INFO, WEIR_VERSION } from './txn/engine-info.js';
export { type CheckpointWritten, writeCheckpoint } from './log/checkpoint-writer.js';
export { DataFileWriter, type DataFileWriterOptions, writeDataFiles } from './write/data-file-writer.js';
