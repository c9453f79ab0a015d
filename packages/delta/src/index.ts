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
export { type CheckpointWritten, writeCheckpoint } from './log/checkpoint-writer.js';
export { classifyLogKey, commitKey, LOG_DIR } from './log/log-files.js';
export {
  type LogListing,
  type LogSegment,
  listLog,
  planLogSegment,
  readLastCheckpointHint,
} from './log/log-segment.js';
export {
  AutoCompactionPolicy,
  type AutoCompactionThresholds,
} from './maintenance/auto-compaction.js';
export { AutoCompactor, type AutoCompactorOptions, autoCompact } from './maintenance/auto-compactor.js';
export {
  cleanupExpiredLogs,
  expiredLogCleanupEnabled,
  type LogCleanupOptions,
  type LogCleanupPlan,
  type LogCleanupResult,
  logRetentionMs,
  planLogCleanup,
} from './maintenance/log-cleanup.js';
export {
  executeOptimize,
  type OptimizeExecuteOptions,
  type OptimizeOptions,
  optimize,
} from './maintenance/optimize.js';
export {
  type OptimizeBin,
  type OptimizePlan,
  type OptimizePlanOptions,
  planOptimize,
} from './maintenance/optimize-plan.js';
export {
  type DroppedBin,
  type DropReason,
  type OptimizeCommit,
  OptimizeFailedError,
  type OptimizeMetrics,
  type OptimizeProgress,
  type OptimizeResult,
} from './maintenance/optimize-result.js';
export {
  type VacuumOptions,
  type VacuumProgress,
  type VacuumResult,
  vacuum,
} from './maintenance/vacuum.js';
export {
  isHiddenPath,
  planVacuum,
  referencedKeys,
  resolveVacuumRetention,
  type VacuumCandidate,
  type VacuumMode,
  type VacuumPlan,
  type VacuumPlanOptions,
} from './maintenance/vacuum-plan.js';
export {
  openParquetBlob,
  type ParquetBlobReader,
  parquetRowGroupInfo,
  type RowGroupInfo,
  readParquetTable,
} from './parquet/wasm.js';
export * from './records/index.js';
export { conformBatchToSchema } from './scan/conform.js';
export { loadDeletionVector } from './scan/deletion-vector.js';
export { batchToJsonRows, type JsonValue, jsonValueAt } from './scan/json-rows.js';
export {
  type ExecuteOptions,
  executeScan,
  missingDataFileError,
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
export { type CreateTableOptions, type CreateTableResult, createTable } from './table/create-table.js';
export { conformForWrite, reconcileSchema } from './table/schema-enforcement.js';
export { checkpointInterval, KNOWN_PROPERTIES, validateProperties } from './table/table-config.js';
export {
  maybeCheckpoint,
  type WriteInput,
  type WriteMode,
  type WriteOptions,
  type WriteResult,
  writeTable,
} from './table/write-table.js';
export type { Conflict, ConflictReason } from './txn/conflict-checker.js';
export { ENGINE_INFO, WEIR_VERSION } from './txn/engine-info.js';
export {
  CommitConflictError,
  type CommitResult,
  removeFromAdd,
  Transaction,
  type TransactionOptions,
} from './txn/transaction.js';
export { DataFileWriter, type DataFileWriterOptions, writeDataFiles } from './write/data-file-writer.js';
export { defaultEncodeWorkers, EncodePool, sharedEncodePool } from './write/encode-pool.js';
