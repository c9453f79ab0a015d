/**
 * The public shapes of a running ingest: its options, its status (for status lines, /healthz
 * and logs) and the structured events it logs.
 */
import type { StructType } from '@weir/delta';
import type { ObjectStore } from '@weir/storage';
import type { AutoCompactionOptions } from '@weir/stream';
import type { SchemaRegistryOptions } from '../decode/avro.js';
import type { MetadataColumn } from '../decode/metadata-columns.js';
import type { ValueFormat } from '../decode/value-decoder.js';
import type { KafkaClientKind, KafkaClientOptions } from '../source/consumer.js';

export type IngestMode = 'continuous' | 'microbatch';

export interface IngestOptions {
  /** Kafka connection: brokers, client id, SSL, SASL, timeouts. */
  kafka: KafkaClientOptions;
  /** Which client library (default kafkajs). */
  client?: KafkaClientKind;
  topics: readonly string[];
  /** Consumer group (default `weir-ingest`). Also the prefix of the positions' appIds in the table. */
  groupId?: string;
  /** Where partitions never stored in the table start (default earliest). */
  resetPolicy?: 'earliest' | 'latest';
  /** The main table (created on start when missing, from `schema`). */
  table: ObjectStore;
  /**
   * The dead-letter table (created on start when missing). Without one, messages that cannot
   * be decoded are counted and logged, and the stream goes on.
   */
  deadLetter?: ObjectStore;
  mode?: IngestMode;
  /** Continuous mode epoch (default 250 ms). */
  epochMs?: number;
  /** Microbatch trigger (default 10 s). */
  triggerMs?: number;
  /** The payload schema when the table must be created, or 'infer' from the first messages. */
  schema?: StructType | 'infer';
  /** Partition columns when the table is created; `date(col)` / `hour(col)` [as name] derive one. */
  partitionBy?: readonly string[];
  /** Table properties when the table is created. */
  tableProperties?: Readonly<Record<string, string>>;
  /** Value format (default json). */
  format?: ValueFormat;
  /** Confluent-compatible schema registry for `format: 'avro'`. */
  schemaRegistry?: SchemaRegistryOptions;
  metadataColumns?: readonly MetadataColumn[];
  /** Prefix of metadata column names (default `kafka_`). */
  metadataPrefix?: string;
  /** Payload fields that are not table columns: dropped (default 'ignore') or dead-lettered ('reject'). */
  unknownFields?: 'ignore' | 'reject';
  /** A timestamp column holding event time, for the sink's visibility histogram. */
  eventTimeColumn?: string;
  /** Messages larger than this go to the dead-letter table (default 1 MiB). */
  maxMessageBytes?: number;
  /** Arrow bytes buffered (open and committing epochs) before writes wait (default 64 MiB continuous, 2 GiB microbatch). */
  maxBufferedBytes?: number;
  /** Background auto-compaction of the main table (default on with the default policy). */
  autoCompaction?: boolean | AutoCompactionOptions;
  /** Structured events (JSON logs); default: none. */
  logger?: (event: IngestEvent) => void;
  /** How long a graceful stop may take before it gives up waiting (default 30 s). */
  shutdownTimeoutMs?: number;
  /**
   * Aborting it while `Ingest.start` is still connecting (a broker down or restarting) ends the
   * start with `INGEST_STOPPED` instead of waiting out the connection retries; after the start,
   * use `stop()`.
   */
  signal?: AbortSignal;
}

export type IngestState = 'starting' | 'running' | 'recovering' | 'stopping' | 'stopped' | 'failed';

export interface IngestStatus {
  state: IngestState;
  table: string;
  groupId: string;
  client: KafkaClientKind;
  mode: IngestMode;
  /** Topic-partitions this process owns now, e.g. `orders-3`. */
  assigned: readonly string[];
  rowsCommitted: number;
  deadLetters: number;
  /** Rows committed per second over the last 10 seconds. */
  rowsPerSecond: number;
  /** Sum over owned partitions of (high watermark - committed position), when known. */
  lag: number | undefined;
  lastCommit: { version: number; at: number; rows: number } | undefined;
  /** Visibility latency (Kafka timestamp -> commit) over recent commits, ms. */
  latencyMs: { p50: number; p99: number } | undefined;
  /** Set when state is 'failed'. */
  error?: string;
}

export type IngestEvent =
  | {
      event: 'started';
      table: string;
      groupId: string;
      topics: readonly string[];
      client: KafkaClientKind;
      mode: IngestMode;
    }
  | { event: 'table-created'; table: string; version: number; inferred: boolean }
  | { event: 'assigned'; partitions: readonly string[]; positions: Record<string, number | null> }
  | { event: 'revoked'; partitions: readonly string[] }
  | { event: 'committed'; version: number; rows: number; files: number }
  | { event: 'dead-letter'; topic: string; partition: number; offset: number; code: string; error: string }
  | { event: 'offset-gap'; partition: string; expected: number; first: number }
  | { event: 'recovering'; reason: string; code: string }
  | {
      event: 'compacted';
      version: number;
      filesRemoved: number;
      filesAdded: number;
      /** Of the whole compaction run this commit belongs to. */
      durationMs: number;
      /** Bins of that run whose row groups were copied instead of rewritten. */
      binsStitched: number;
    }
  | { event: 'background-error'; what: string; code: string; message: string }
  | { event: 'stopping'; reason: string }
  | { event: 'stop-timeout'; waitingFor: 'fetching' | 'committing' | 'leaving' }
  | { event: 'stopped'; rowsCommitted: number; timedOut: boolean }
  | { event: 'failed'; code: string; message: string };
