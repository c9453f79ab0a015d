/**
 * @weir/stream — streaming sinks over @weir/delta: MicroBatchSink (addBatch) and ContinuousSink
 * (epoch commits), one table writer under both, exactly-once through source positions stored
 * in the table, metrics in Prometheus format.
 */

export { type AutoCompactionOptions, CompactionScheduler } from './compaction-scheduler.js';
export {
  ContinuousSink,
  type ContinuousSinkOptions,
  type EpochCommitted,
  type Positions,
} from './continuous-sink.js';
export { SinkMetrics } from './metrics.js';
export { type BatchResult, MicroBatchSink, type MicroBatchSinkOptions } from './micro-batch-sink.js';
export { openSink, type SinkMode, type SinkOptions } from './sink.js';
export { type CommitRequest, TableWriter, type TableWriterOptions } from './table-writer.js';
