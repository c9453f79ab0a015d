/**
 * @weir/kafka — Kafka topics into Weir tables: a consumer (kafkajs, or librdkafka through its
 * KafkaJS-compatible API) feeding a streaming sink, offsets stored in the table, dead letters
 * in a second table committed in step, scale-out through consumer groups.
 */
export { AvroDecoder, type SchemaRegistryOptions } from './decode/avro.js';
export { DEAD_LETTER_SCHEMA, type DeadLetterRow } from './decode/dead-letter.js';
export { type DerivedColumn, type PartitionSpec, parsePartitionSpec } from './decode/derived-columns.js';
export {
  DEFAULT_METADATA_PREFIX,
  METADATA_COLUMNS,
  type MetadataColumn,
  parseMetadataColumns,
} from './decode/metadata-columns.js';
export { DEFAULT_MAX_MESSAGE_BYTES, type ValueFormat } from './decode/value-decoder.js';
export { type HttpEndpoints, serveEndpoints } from './ingest/http-endpoints.js';
export { Ingest } from './ingest/ingest.js';
export { IngestMetrics } from './ingest/metrics.js';
export type { IngestEvent, IngestMode, IngestOptions, IngestState, IngestStatus } from './ingest/types.js';
export { type KafkaClientKind, type KafkaClientOptions, loadLibrdkafka } from './source/consumer.js';
export { positionAppId, type SourceMessage } from './source/message.js';
