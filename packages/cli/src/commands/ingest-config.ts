/**
 * `weir ingest` settings: command-line flags merged over an optional JSON config file (flags
 * win), checked, and turned into the library's `IngestOptions` parts. Pure apart from reading
 * the config and schema files.
 *
 * The config file holds the same settings as the flags, in camelCase (`brokers`, `topics`,
 * `table`, `mode`, `epochMs`, `triggerMs`, `schema`, `inferSchema`, `partitionBy`,
 * `deadLetter`, `metadataColumns`, `group`, `client`, `metricsPort`, `format`,
 * `schemaRegistry`, `reset`, `properties`, `autoCompaction`, `unknownFields`,
 * `maxMessageBytes`, `clientId`, `ssl`, `sasl`, `sessionTimeoutMs`, `heartbeatIntervalMs`,
 * `shutdownTimeoutMs`); lists may be arrays or comma-separated text.
 */
import { readFileSync } from 'node:fs';
import type { StructType } from '@weir/delta';
import {
  type IngestMode,
  type KafkaClientKind,
  type KafkaClientOptions,
  type MetadataColumn,
  parseMetadataColumns,
  parsePartitionSpec,
  type ValueFormat,
} from '@weir/kafka';
import { WeirError } from '@weir/storage';
import { loadSchemaArg } from '../input/schema-arg.js';

export interface IngestFlags {
  config?: string;
  brokers?: string;
  topic?: string[];
  table?: string;
  mode?: string;
  epochMs?: string;
  triggerMs?: string;
  schema?: string;
  inferSchema?: boolean;
  partitionBy?: string;
  deadLetter?: string;
  metadataColumns?: string;
  group?: string;
  client?: string;
  metricsPort?: string;
  format?: string;
  schemaRegistry?: string;
  reset?: string;
  property?: Record<string, string>;
  autoCompaction?: boolean;
  unknownFields?: string;
  maxMessageBytes?: string;
  clientId?: string;
  ssl?: boolean;
  saslMechanism?: string;
  saslUsername?: string;
  sessionTimeoutMs?: string;
  heartbeatIntervalMs?: string;
  shutdownTimeoutMs?: string;
  logLevel?: string;
}

export interface IngestSettings {
  kafka: KafkaClientOptions;
  client: KafkaClientKind;
  topics: string[];
  table: string;
  deadLetter: string | undefined;
  mode: IngestMode;
  epochMs: number;
  triggerMs: number;
  schema: StructType | 'infer' | undefined;
  partitionBy: string[];
  metadataColumns: MetadataColumn[];
  groupId: string;
  metricsPort: number | undefined;
  format: ValueFormat;
  schemaRegistry: string | undefined;
  resetPolicy: 'earliest' | 'latest';
  properties: Record<string, string>;
  autoCompaction: boolean;
  unknownFields: 'ignore' | 'reject';
  maxMessageBytes: number | undefined;
  shutdownTimeoutMs: number;
  logLevel: 'info' | 'debug';
}

function invalid(message: string, option: string): WeirError {
  return new WeirError('INVALID_ARGUMENT', message, { details: { option } });
}

function list(v: unknown): string[] {
  if (v === undefined || v === null) return [];
  const items = Array.isArray(v) ? v.map(String) : String(v).split(',');
  return items.map((s) => s.trim()).filter((s) => s.length > 0);
}

function int(v: unknown, option: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (v === undefined || v === null) return undefined;
  const text = String(v);
  if (!/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
    throw invalid(`--${option} must be an integer from ${min} to ${max}, got ${text}`, option);
  }
  return Number(text);
}

function oneOf<T extends string>(v: unknown, option: string, choices: readonly T[], fallback: T): T {
  if (v === undefined || v === null) return fallback;
  if (!(choices as readonly string[]).includes(String(v))) {
    throw invalid(`--${option} must be one of ${choices.join(', ')}, got ${String(v)}`, option);
  }
  return String(v) as T;
}

function readConfig(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `cannot read the config file ${file}: ${(err as Error).message}`,
      {
        details: { file },
      },
    );
  }
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
      throw new Error('not a JSON object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new WeirError(
      'INVALID_ARGUMENT',
      `the config file ${file} is not a JSON object: ${(err as Error).message}`,
      {
        details: { file },
      },
    );
  }
}

/** Flags over config, checked; the schema file (if any) is read and parsed here. */
export function resolveIngestSettings(
  flags: IngestFlags,
  env: NodeJS.ProcessEnv = process.env,
): IngestSettings {
  const c = flags.config !== undefined ? readConfig(flags.config) : {};
  const pick = <K extends keyof IngestFlags>(flag: K, key: string = flag): unknown => flags[flag] ?? c[key];
  const brokers = list(pick('brokers'));
  if (brokers.length === 0) throw invalid('--brokers is required (host:port[,host:port...])', 'brokers');
  const topics =
    flags.topic && flags.topic.length > 0 ? flags.topic.flatMap(list) : list(c.topics ?? c.topic);
  if (topics.length === 0) throw invalid('--topic is required (repeat it for several topics)', 'topic');
  const table = pick('table');
  if (typeof table !== 'string' || table.length === 0) throw invalid('--table is required', 'table');
  const schemaArg = pick('schema');
  const infer = Boolean(pick('inferSchema'));
  if (schemaArg !== undefined && infer) throw invalid('give --schema or --infer-schema, not both', 'schema');
  const schema =
    schemaArg !== undefined
      ? typeof schemaArg === 'string'
        ? loadSchemaArg(schemaArg)
        : loadSchemaArg(JSON.stringify(schemaArg))
      : infer
        ? ('infer' as const)
        : undefined;
  const partitionBy = list(pick('partitionBy'));
  parsePartitionSpec(partitionBy); // checked now, used when the table is created
  const format = oneOf(pick('format'), 'format', ['json', 'avro', 'string', 'bytes'] as const, 'json');
  const schemaRegistry = pick('schemaRegistry') as string | undefined;
  if (format === 'avro' && !schemaRegistry)
    throw invalid('--format avro needs --schema-registry <url>', 'schema-registry');
  const saslMechanism = pick('saslMechanism') ?? (c.sasl as { mechanism?: string } | undefined)?.mechanism;
  const saslUsername = pick('saslUsername') ?? (c.sasl as { username?: string } | undefined)?.username;
  const saslPassword =
    env.WEIR_KAFKA_SASL_PASSWORD ?? (c.sasl as { password?: string } | undefined)?.password;
  let sasl: KafkaClientOptions['sasl'];
  if (saslMechanism !== undefined) {
    const mechanism = oneOf(
      saslMechanism,
      'sasl-mechanism',
      ['plain', 'scram-sha-256', 'scram-sha-512'] as const,
      'plain',
    );
    if (typeof saslUsername !== 'string' || saslPassword === undefined) {
      throw invalid(
        'SASL needs --sasl-username and the password in WEIR_KAFKA_SASL_PASSWORD (or the config file)',
        'sasl',
      );
    }
    sasl = { mechanism, username: saslUsername, password: saslPassword };
  }
  const sessionTimeoutMs = int(pick('sessionTimeoutMs'), 'session-timeout-ms', 1000);
  const heartbeatIntervalMs = int(pick('heartbeatIntervalMs'), 'heartbeat-interval-ms', 100);
  const clientId = pick('clientId');
  const kafka: KafkaClientOptions = {
    brokers,
    ...(typeof clientId === 'string' ? { clientId } : {}),
    ...(pick('ssl') ? { ssl: true } : {}),
    ...(sasl ? { sasl } : {}),
    ...(sessionTimeoutMs !== undefined ? { sessionTimeoutMs } : {}),
    ...(heartbeatIntervalMs !== undefined ? { heartbeatIntervalMs } : {}),
  };
  const properties = {
    ...((c.properties as Record<string, string> | undefined) ?? {}),
    ...(flags.property ?? {}),
  };
  const autoCompaction =
    flags.autoCompaction ?? (c.autoCompaction === undefined ? true : Boolean(c.autoCompaction));
  const deadLetter = pick('deadLetter');
  return {
    kafka,
    client: oneOf(pick('client'), 'client', ['kafkajs', 'librdkafka'] as const, 'kafkajs'),
    topics,
    table,
    deadLetter: typeof deadLetter === 'string' ? deadLetter : undefined,
    mode: oneOf(pick('mode'), 'mode', ['continuous', 'microbatch'] as const, 'continuous'),
    epochMs: int(pick('epochMs'), 'epoch-ms', 10) ?? 250,
    triggerMs: int(pick('triggerMs'), 'trigger-ms', 10) ?? 10_000,
    schema,
    partitionBy,
    metadataColumns: parseMetadataColumns(list(pick('metadataColumns'))),
    groupId: (pick('group') as string | undefined) ?? 'weir-ingest',
    metricsPort: int(pick('metricsPort'), 'metrics-port', 0, 65535),
    format,
    schemaRegistry,
    resetPolicy: oneOf(pick('reset'), 'reset', ['earliest', 'latest'] as const, 'earliest'),
    properties,
    autoCompaction,
    unknownFields: oneOf(pick('unknownFields'), 'unknown-fields', ['ignore', 'reject'] as const, 'ignore'),
    maxMessageBytes: int(pick('maxMessageBytes'), 'max-message-bytes', 1),
    shutdownTimeoutMs: int(pick('shutdownTimeoutMs'), 'shutdown-timeout-ms', 0) ?? 30_000,
    logLevel: oneOf(pick('logLevel'), 'log-level', ['info', 'debug'] as const, 'info'),
  };
}
