/**
 * Records -> Arrow: `RecordBatchBuilder` (plain JS records coerced to a Delta schema, built into
 * Arrow record batches) and `inferSchema` (a Delta schema from sample records).
 */
export { type InferSchemaOptions, inferSchema } from './infer-schema.js';
export { NdjsonLines, type NdjsonLineVisitor } from './ndjson-lines.js';
export {
  type NumericTimestampUnit,
  RecordBatchBuilder,
  type RecordBatchBuilderOptions,
  type RecordOrigin,
} from './record-batch-builder.js';
export { MAX_VALUE_CHARS } from './record-errors.js';
