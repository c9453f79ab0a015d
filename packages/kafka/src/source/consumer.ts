/**
 * Kafka consumers behind one small interface (`SourceConsumer`), over kafkajs or librdkafka's
 * KafkaJS-compatible API (@confluentinc/kafka-javascript, loaded only when selected).
 *
 * The ingest decides where each partition starts; the consumer only reports assignments and
 * revocations and delivers batches. Invariants:
 * - auto-commit is off: group offsets are committed only through `commitOffsets`, by the ingest,
 *   after the table commit that stored them (so a group offset never runs ahead of the table);
 * - librdkafka awaits `onRevoke` before giving partitions up and starts assigned partitions at the
 *   offsets `onAssign` returns; kafkajs has no such hooks, so there `onRevoke` runs when a
 *   rebalance starts (not awaited by the client) and `onAssign` after the join, and the ingest
 *   filters offsets it already holds — correctness never depends on the client's timing.
 */
import { createRequire } from 'node:module';
import type { ConnectionOptions } from 'node:tls';
import { WeirError } from '@weir/storage';
import { Kafka, logLevel, type SASLOptions } from 'kafkajs';
import type { SourceMessage } from './message.js';

export type KafkaClientKind = 'kafkajs' | 'librdkafka';

export interface KafkaClientOptions {
  brokers: readonly string[];
  clientId?: string;
  ssl?: boolean | ConnectionOptions;
  sasl?: { mechanism: 'plain' | 'scram-sha-256' | 'scram-sha-512'; username: string; password: string };
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  rebalanceTimeoutMs?: number;
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

export interface TopicPartition {
  topic: string;
  partition: number;
}

export interface SourceBatch extends TopicPartition {
  messages: SourceMessage[];
  /** The partition's high watermark when fetched (for lag), when the client knows it. */
  highWatermark: number | undefined;
}

export interface ConsumerHandlers {
  /** Partitions were assigned; resolves to where each should start (absent: the reset policy). */
  onAssign(partitions: readonly TopicPartition[]): Promise<ReadonlyMap<string, number>>;
  /** Partitions are being taken away (or a rebalance started); commit what is held for them. */
  onRevoke(partitions: readonly TopicPartition[]): Promise<void>;
  onBatch(batch: SourceBatch): Promise<void>;
  /** The client failed for good (it will not deliver more). */
  onCrash(error: unknown): void;
}

export interface ConsumerOptions {
  kafka: KafkaClientOptions;
  client: KafkaClientKind;
  groupId: string;
  topics: readonly string[];
  resetPolicy: 'earliest' | 'latest';
}

export interface Watermarks {
  partition: number;
  low: number;
  high: number;
}

export interface SourceConsumer {
  start(handlers: ConsumerHandlers): Promise<void>;
  /** Low and high watermarks of every partition of a topic (for the reset policy and lag). */
  watermarks(topic: string): Promise<Watermarks[]>;
  /** Moves a partition's fetch position (after a failed commit, to replay from the table). */
  seek(tp: TopicPartition, offset: number): void;
  commitOffsets(offsets: readonly (TopicPartition & { offset: number })[]): Promise<void>;
  /** Stops fetching; in-flight batch handlers finish first. */
  stop(): Promise<void>;
  /** Leaves the group and closes connections. */
  disconnect(): Promise<void>;
}

export function tpKey(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

interface WatermarkAdmin {
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
}

async function fetchWatermarks(admin: WatermarkAdmin, topic: string): Promise<Watermarks[]> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.map((o) => ({ partition: o.partition, low: Number(o.low), high: Number(o.high) }));
}

export function createConsumer(options: ConsumerOptions): SourceConsumer {
  return options.client === 'librdkafka'
    ? new RdKafkaSourceConsumer(options)
    : new KafkaJsSourceConsumer(options);
}

// --- kafkajs ---------------------------------------------------------------------------------

interface KafkaJsMessage {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  timestamp: string;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** Shared by every message without headers (most): nothing is allocated for them. */
const NO_HEADERS: Readonly<Record<string, Buffer | string | undefined>> = Object.freeze({});

function toSourceMessage(topic: string, partition: number, m: KafkaJsMessage): SourceMessage {
  let headers: Record<string, Buffer | string | undefined> | undefined;
  const raw = m.headers;
  if (raw !== undefined)
    for (const k in raw) {
      if (!Object.hasOwn(raw, k)) continue;
      const v = raw[k];
      headers ??= {};
      headers[k] = Array.isArray(v) ? v[v.length - 1] : v;
    }
  return {
    topic,
    partition,
    offset: Number(m.offset),
    key: m.key ?? null,
    value: m.value ?? null,
    timestamp: Number(m.timestamp),
    headers: headers ?? NO_HEADERS,
  };
}

function kafkaJsConfig(k: KafkaClientOptions) {
  return {
    brokers: [...k.brokers],
    clientId: k.clientId ?? 'weir-ingest',
    logLevel: logLevel.NOTHING,
    ...(k.ssl !== undefined ? { ssl: k.ssl } : {}),
    ...(k.sasl ? { sasl: k.sasl as SASLOptions } : {}),
    ...(k.connectionTimeoutMs !== undefined ? { connectionTimeout: k.connectionTimeoutMs } : {}),
    ...(k.requestTimeoutMs !== undefined ? { requestTimeout: k.requestTimeoutMs } : {}),
    retry: { retries: 8, initialRetryTime: 100, maxRetryTime: 5_000 },
  };
}

class KafkaJsSourceConsumer implements SourceConsumer {
  private readonly consumer;
  private readonly admin;
  private adminConnected: Promise<void> | undefined;
  private assigned: TopicPartition[] = [];
  private stopped = false;

  constructor(private readonly options: ConsumerOptions) {
    const kafka = new Kafka(kafkaJsConfig(options.kafka));
    this.admin = kafka.admin();
    const k = options.kafka;
    this.consumer = kafka.consumer({
      groupId: options.groupId,
      // Long polls return as soon as data arrives; a short max wait only bounds how long a
      // stop waits for the poll in flight.
      maxWaitTimeInMs: 1000,
      ...(k.sessionTimeoutMs !== undefined ? { sessionTimeout: k.sessionTimeoutMs } : {}),
      ...(k.heartbeatIntervalMs !== undefined ? { heartbeatInterval: k.heartbeatIntervalMs } : {}),
      ...(k.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: k.rebalanceTimeoutMs } : {}),
      retry: { retries: Number.MAX_SAFE_INTEGER, initialRetryTime: 200, maxRetryTime: 5_000 },
    });
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    const c = this.consumer;
    c.on(c.events.REBALANCING, () => {
      void handlers.onRevoke(this.assigned).catch(() => {});
    });
    c.on(c.events.GROUP_JOIN, (e) => {
      const assignment = e.payload.memberAssignment as Record<string, number[]>;
      this.assigned = Object.entries(assignment).flatMap(([topic, ps]) =>
        ps.map((partition) => ({ topic, partition })),
      );
      const assigned = this.assigned;
      void handlers
        .onAssign(assigned)
        .then((starts) => {
          // The ingest filters offsets it holds; seeking only saves re-reading them.
          for (const tp of assigned) {
            const start = starts.get(tpKey(tp.topic, tp.partition));
            if (start !== undefined && !this.stopped) this.seekQuietly(tp, start);
          }
        })
        .catch(() => {});
    });
    c.on(c.events.CRASH, (e) => {
      if (!e.payload.restart) handlers.onCrash(e.payload.error);
    });
    await c.connect();
    await c.subscribe({
      topics: [...this.options.topics],
      fromBeginning: this.options.resetPolicy === 'earliest',
    });
    await c.run({
      autoCommit: false,
      eachBatchAutoResolve: true,
      eachBatch: async ({ batch, heartbeat }) => {
        if (batch.messages.length === 0) return;
        const hw = Number(batch.highWatermark);
        await handlers.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((m) =>
            toSourceMessage(batch.topic, batch.partition, m as KafkaJsMessage),
          ),
          highWatermark: Number.isFinite(hw) && hw >= 0 ? hw : undefined,
        });
        await heartbeat().catch(() => {});
      },
    });
  }

  async watermarks(topic: string): Promise<Watermarks[]> {
    this.adminConnected ??= this.admin.connect().catch((err: unknown) => {
      this.adminConnected = undefined;
      throw err;
    });
    await this.adminConnected;
    return fetchWatermarks(this.admin, topic);
  }

  private seekQuietly(tp: TopicPartition, offset: number): void {
    try {
      this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) });
    } catch {
      // Not running or not assigned anymore: the next assignment seeks again.
    }
  }

  seek(tp: TopicPartition, offset: number): void {
    this.seekQuietly(tp, offset);
  }

  async commitOffsets(offsets: readonly (TopicPartition & { offset: number })[]): Promise<void> {
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer.stop();
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    await this.consumer.disconnect();
    if (this.adminConnected) await this.admin.disconnect().catch(() => {});
  }
}

// --- librdkafka (KafkaJS-compatible API) -----------------------------------------------------

interface RdTopicPartition {
  topic: string;
  partition: number;
  offset?: number;
}

interface RdConsumer {
  connect(): Promise<void>;
  subscribe(s: { topics: string[] }): Promise<void>;
  run(r: {
    eachBatch: (p: {
      batch: { topic: string; partition: number; highWatermark: string; messages: KafkaJsMessage[] };
    }) => Promise<void>;
  }): Promise<void>;
  seek(tpo: { topic: string; partition: number; offset: string }): void;
  commitOffsets(o: { topic: string; partition: number; offset: string }[]): Promise<void>;
  stop(): Promise<void>;
  disconnect(): Promise<void>;
}

interface RdAdmin {
  connect(): Promise<void>;
  fetchTopicOffsets(topic: string): Promise<{ partition: number; low: string; high: string }[]>;
  disconnect(): Promise<void>;
}

interface RdModule {
  KafkaJS: { Kafka: new (config: unknown) => { consumer(config: unknown): RdConsumer; admin(): RdAdmin } };
  CODES: { ERRORS: Record<string, number> };
}

/** Loads @confluentinc/kafka-javascript, or fails with a clear error saying how to get it. */
export function loadLibrdkafka(): RdModule {
  try {
    return createRequire(import.meta.url)('@confluentinc/kafka-javascript') as RdModule;
  } catch (err) {
    throw new WeirError(
      'CLIENT_UNAVAILABLE',
      `the librdkafka client (@confluentinc/kafka-javascript) is not installed or did not build: ${err instanceof Error ? err.message.split('\n')[0] : String(err)}; install it with npm or use --client kafkajs`,
      { cause: err },
    );
  }
}

class RdKafkaSourceConsumer implements SourceConsumer {
  private readonly consumer: RdConsumer;
  private readonly admin: RdAdmin;
  private adminConnected: Promise<void> | undefined;
  private handlers: ConsumerHandlers | undefined;

  constructor(private readonly options: ConsumerOptions) {
    const mod = loadLibrdkafka();
    const k = options.kafka;
    const assign = mod.CODES.ERRORS.ERR__ASSIGN_PARTITIONS;
    const kafka = new mod.KafkaJS.Kafka({
      kafkaJS: {
        brokers: [...k.brokers],
        clientId: k.clientId ?? 'weir-ingest',
        logLevel: 0,
        ...(k.ssl !== undefined ? { ssl: k.ssl } : {}),
        ...(k.sasl ? { sasl: k.sasl } : {}),
        ...(k.connectionTimeoutMs !== undefined ? { connectionTimeout: k.connectionTimeoutMs } : {}),
        ...(k.requestTimeoutMs !== undefined ? { requestTimeout: k.requestTimeoutMs } : {}),
      },
    });
    this.admin = kafka.admin();
    this.consumer = kafka.consumer({
      kafkaJS: {
        groupId: options.groupId,
        fromBeginning: options.resetPolicy === 'earliest',
        autoCommit: false,
        ...(k.sessionTimeoutMs !== undefined ? { sessionTimeout: k.sessionTimeoutMs } : {}),
        ...(k.heartbeatIntervalMs !== undefined ? { heartbeatInterval: k.heartbeatIntervalMs } : {}),
        ...(k.rebalanceTimeoutMs !== undefined ? { rebalanceTimeout: k.rebalanceTimeoutMs } : {}),
      },
      // librdkafka prefetches up to 64 MiB per partition by default: far more than an ingest
      // that commits every few hundred milliseconds needs, and it is most of the process's RSS.
      'queued.max.messages.kbytes': 8192,
      // The KafkaJS layer hands eachBatch 32 messages by default: at tens of thousands of
      // messages a second the per-batch work (decode, write, positions) would dominate. Its
      // message cache (1.5 s of messages by default) and librdkafka's 500 ms fetch wait both
      // add to visibility latency in a sink that commits every 250 ms (measured at 50K msgs/s:
      // p50 612 -> 243 ms, p99 937 -> 496 ms).
      'js.consumer.max.batch.size': 4096,
      'fetch.wait.max.ms': 100,
      'js.consumer.max.cache.size.per.worker.ms': 300,
      // Awaited by the client: revoked partitions are committed before they are given up, and
      // assigned ones start where the table says.
      rebalance_cb: async (err: { code: number }, assignment: RdTopicPartition[]) => {
        const handlers = this.handlers;
        if (!handlers) return undefined;
        const tps = assignment.map(({ topic, partition }) => ({ topic, partition }));
        if (err.code !== assign) {
          await handlers.onRevoke(tps).catch(() => {});
          return undefined;
        }
        const starts = await handlers.onAssign(tps).catch(() => new Map<string, number>());
        return assignment.map((tp) => {
          const start = starts.get(tpKey(tp.topic, tp.partition));
          return start === undefined
            ? { topic: tp.topic, partition: tp.partition }
            : { ...tp, offset: start };
        });
      },
    });
  }

  async start(handlers: ConsumerHandlers): Promise<void> {
    this.handlers = handlers;
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: [...this.options.topics] });
    await this.consumer.run({
      eachBatch: async ({ batch }) => {
        if (batch.messages.length === 0) return;
        const hw = Number(batch.highWatermark);
        await handlers.onBatch({
          topic: batch.topic,
          partition: batch.partition,
          messages: batch.messages.map((m) => toSourceMessage(batch.topic, batch.partition, m)),
          highWatermark: Number.isFinite(hw) && hw >= 0 ? hw : undefined,
        });
      },
    });
  }

  async watermarks(topic: string): Promise<Watermarks[]> {
    this.adminConnected ??= this.admin.connect().catch((err: unknown) => {
      this.adminConnected = undefined;
      throw err;
    });
    await this.adminConnected;
    return fetchWatermarks(this.admin, topic);
  }

  seek(tp: TopicPartition, offset: number): void {
    try {
      this.consumer.seek({ topic: tp.topic, partition: tp.partition, offset: String(offset) });
    } catch {
      // Not assigned anymore: the next assignment starts where the table says.
    }
  }

  async commitOffsets(offsets: readonly (TopicPartition & { offset: number })[]): Promise<void> {
    await this.consumer.commitOffsets(
      offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: String(o.offset) })),
    );
  }

  async stop(): Promise<void> {
    await this.consumer.stop();
  }

  async disconnect(): Promise<void> {
    await this.consumer.disconnect();
    if (this.adminConnected) await this.admin.disconnect().catch(() => {});
  }
}
