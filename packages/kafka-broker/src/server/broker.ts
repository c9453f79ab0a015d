/**
 * The broker: a TCP server on 127.0.0.1 (by default) that owns the topics, the group
 * coordinator, optional persistence and the fault hooks, and is the `BrokerContext` every
 * request handler works through.
 *
 * Invariants: one Node event loop serves everything, so broker state changes are atomic per
 * request; a misbehaving connection is closed without touching others; `stop()` answers every
 * parked request, closes every socket, timer and file, and resolves once the port is free;
 * `restart()` keeps topics, messages and committed offsets (it forgets group members, as a
 * real broker restart does) and listens again on the same port.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { BrokerError, KafkaErrorCode } from '../errors.js';
import { GroupCoordinator } from '../groups/coordinator.js';
import type { OffsetEntry } from '../groups/offset-store.js';
import type { PartitionLog } from '../log/partition-log.js';
import { LogPersistence } from '../log/persistence.js';
import type { RetentionPolicy } from '../log/retention.js';
import { retentionFromConfigs, type Topic, TopicRegistry } from '../log/topic-registry.js';
import { type BrokerLogger, silentLogger } from '../logger.js';
import { appendRecords } from './append.js';
import { Connection, type DispatchResult } from './connection.js';
import type { BrokerContext, BrokerStats, ProduceOutcome } from './context.js';
import { dispatchRequest } from './dispatch.js';
import { FetchWaiters } from './fetch-waiters.js';
import type { BrokerOptions } from './options.js';
import { restoreFromDisk } from './restore.js';

const MIB = 1024 * 1024;

export type { BrokerOptions };

export class Broker implements BrokerContext {
  readonly nodeId: number;
  readonly clusterId: string;
  readonly advertisedHost: string;
  readonly logger: BrokerLogger;
  readonly topics = new TopicRegistry();
  readonly groups: GroupCoordinator;
  readonly waiters = new FetchWaiters();
  readonly stats: BrokerStats = {
    connectionsOpened: 0,
    produceRequests: 0,
    producedBatches: 0,
    producedRecords: 0,
    producedBytes: 0,
    fetchRequests: 0,
    fetchedBytes: 0,
    retainedDeletedBatches: 0,
    retainedDeletedRecords: 0,
  };
  readonly autoCreateTopics: boolean;
  readonly defaultPartitions: number;
  stopping = false;
  private boundPort = 0;
  private server: Server | undefined;
  private readonly connections = new Set<Connection>();
  private nextConnId = 1;
  private producerIdSeq = Date.now() * 1000;
  private readonly paused = new Set<PartitionLog>();
  private latencyMs = 0;
  /** Fault hook: API key -> how many more of its responses to drop (see dropResponses). */
  private readonly dropRules = new Map<number, number>();
  private readonly persistence: LogPersistence | undefined;
  private readonly retention: RetentionPolicy;
  private retentionTimer: NodeJS.Timeout | undefined;
  private readonly verifyCrc: boolean;
  private readonly maxRequestBytes: number;

  private constructor(private readonly options: BrokerOptions) {
    this.nodeId = options.nodeId ?? 1;
    this.clusterId = options.clusterId ?? 'weir-dev-cluster';
    this.advertisedHost = options.host ?? '127.0.0.1';
    this.logger = options.logger ?? silentLogger;
    this.autoCreateTopics = options.autoCreateTopics ?? true;
    this.defaultPartitions = options.defaultPartitions ?? 1;
    this.verifyCrc = options.verifyCrc ?? true;
    this.maxRequestBytes = options.maxRequestBytes ?? 100 * MIB;
    const { checkIntervalMs: _, ...retention } = options.retention ?? {};
    this.retention = retention;
    this.groups = new GroupCoordinator({
      initialRebalanceDelayMs: options.groupInitialRebalanceDelayMs ?? 0,
    });
    if (!Number.isInteger(this.defaultPartitions) || this.defaultPartitions < 1) {
      throw new BrokerError(
        'INVALID_OPTION',
        `defaultPartitions must be a positive integer, got ${this.defaultPartitions}`,
      );
    }
    if (options.dataDir !== undefined) this.persistence = new LogPersistence(options.dataDir);
  }

  static async start(options: BrokerOptions = {}): Promise<Broker> {
    const broker = new Broker(options);
    broker.load();
    await broker.listen(options.port ?? 0);
    broker.startRetentionTimer();
    broker.logger.log('info', 'broker.started', {
      bootstrap: broker.bootstrap,
      dataDir: options.dataDir ?? null,
      topics: broker.topics.names().length,
    });
    return broker;
  }

  get port(): number {
    return this.boundPort;
  }

  get bootstrap(): string {
    return `${this.advertisedHost}:${this.boundPort}`;
  }

  private load(): void {
    if (this.persistence !== undefined) {
      restoreFromDisk(this.persistence, this.topics, this.groups, this.retention, this.logger);
    }
  }

  private listen(port: number): Promise<void> {
    const server = createServer((socket) => this.accept(socket));
    this.server = server;
    return new Promise((resolve, reject) => {
      const onError = (err: NodeJS.ErrnoException) =>
        reject(
          new BrokerError(
            'LISTEN_FAILED',
            `cannot listen on ${this.advertisedHost}:${port}: ${err.message}`,
            {
              cause: err,
              retryable: err.code === 'EADDRINUSE',
              details: { port, host: this.advertisedHost },
            },
          ),
        );
      server.once('error', onError);
      server.listen({ port, host: this.advertisedHost }, () => {
        server.off('error', onError);
        server.on('error', (err) => this.logger.log('error', 'broker.server_error', { error: err.message }));
        const addr = server.address();
        this.boundPort = typeof addr === 'object' && addr !== null ? addr.port : port;
        resolve();
      });
    });
  }

  private accept(socket: Socket): void {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    this.stats.connectionsOpened++;
    const conn = new Connection(
      this.nextConnId++,
      socket,
      (c, frame) => this.dispatch(c, frame),
      this.logger,
      this.maxRequestBytes,
      (c) => this.connections.delete(c),
    );
    this.connections.add(conn);
    this.logger.log('debug', 'connection.open', { conn: conn.id, remote: conn.remote });
  }

  private dispatch(conn: Connection, frame: Buffer): DispatchResult {
    const result = dispatchRequest(this, conn, frame, this.latencyMs);
    if (this.dropRules.size === 0) return result;
    const apiKey = frame.readInt16BE(0);
    const left = this.dropRules.get(apiKey);
    if (left === undefined) return result;
    if (left <= 1) this.dropRules.delete(apiKey);
    else this.dropRules.set(apiKey, left - 1);
    // The request was handled (state changed, e.g. records appended); only its answer is lost.
    const drop = (): null => {
      this.logger.log('debug', 'fault.response_dropped', { conn: conn.id, apiKey });
      conn.close('fault hook: response dropped');
      return null;
    };
    return result instanceof Promise ? result.then(drop) : drop();
  }

  private startRetentionTimer(): void {
    if (
      this.retention.maxAgeMs === undefined &&
      !this.topics.all().some((t) => t.retention.maxAgeMs !== undefined)
    ) {
      if (this.options.retention?.checkIntervalMs === undefined) return;
    }
    const every =
      this.options.retention?.checkIntervalMs ??
      Math.min(1000, Math.max(10, this.retention.maxAgeMs ?? 1000));
    this.retentionTimer = setInterval(() => {
      for (const t of this.topics.all()) for (const p of t.partitions) this.applyRetention(t, p);
    }, every);
    this.retentionTimer.unref();
  }

  private applyRetention(topic: Topic, log: PartitionLog): void {
    const r = log.applyRetention(Date.now(), topic.retention);
    if (r.batches === 0) return;
    this.stats.retainedDeletedBatches += r.batches;
    this.stats.retainedDeletedRecords += r.records;
    this.persistence?.setLogStartOffset(topic.name, log.index, log.logStartOffset);
    this.logger.log('warn', 'retention.deleted', {
      topic: topic.name,
      partition: log.index,
      batches: r.batches,
      records: r.records,
      bytes: r.bytes,
      logStartOffset: log.logStartOffset,
      policy: topic.retention,
    });
  }

  // ---- BrokerContext ----

  isPaused(partition: PartitionLog): boolean {
    return this.paused.size > 0 && this.paused.has(partition);
  }

  createTopic(name: string, partitions: number, configs: Record<string, string>): Topic | string {
    const retention = retentionFromConfigs(configs, this.retention);
    if (typeof retention === 'string') return retention;
    this.persistence?.createTopic(name, partitions, configs);
    const topic = this.topics.create(name, partitions, configs, retention);
    if (retention.maxAgeMs !== undefined && this.retentionTimer === undefined) this.startRetentionTimer();
    this.logger.log('info', 'topic.created', { topic: name, partitions, configs });
    return topic;
  }

  deleteTopic(name: string): boolean {
    const topic = this.topics.delete(name);
    if (topic === undefined) return false;
    this.groups.offsets.deleteTopic(name);
    this.persistence?.deleteTopic(name);
    for (const p of topic.partitions) {
      this.paused.delete(p);
      this.waiters.notify(p);
    }
    this.logger.log('info', 'topic.deleted', { topic: name });
    return true;
  }

  produce(topicName: string, partition: number, records: Buffer | null): ProduceOutcome {
    const topic = this.topics.get(topicName);
    const log = topic?.partitions[partition];
    if (topic === undefined || log === undefined) {
      return { errorCode: KafkaErrorCode.UNKNOWN_TOPIC_OR_PARTITION, baseOffset: -1, logStartOffset: -1 };
    }
    const r = appendRecords(log, records, { verifyCrc: this.verifyCrc, now: Date.now() });
    for (const batch of r.appended) {
      this.stats.producedBatches++;
      this.stats.producedRecords += batch.readInt32BE(57);
      this.stats.producedBytes += batch.length;
    }
    if (r.duplicates > 0) {
      this.logger.log('debug', 'produce.duplicate', { topic: topicName, partition, batches: r.duplicates });
    }
    if (r.appended.length > 0) this.afterAppend(topic, log, r.appended);
    if (r.rejected !== undefined) {
      this.logger.log('warn', 'produce.rejected', { topic: topicName, partition, ...r.rejected });
      return { errorCode: r.rejected.errorCode, baseOffset: -1, logStartOffset: log.logStartOffset };
    }
    return { errorCode: 0, baseOffset: r.baseOffset, logStartOffset: log.logStartOffset };
  }

  private afterAppend(topic: Topic, log: PartitionLog, appended: Buffer[]): void {
    this.persistence?.append(topic.name, log.index, appended);
    if (topic.retention.maxBytes !== undefined) this.applyRetention(topic, log);
    this.waiters.notify(log);
  }

  commitOffsets(entries: readonly OffsetEntry[]): void {
    this.persistence?.appendOffsets(entries);
  }

  nextProducerId(): number {
    return this.producerIdSeq++;
  }

  // ---- public controls and fault hooks ----

  /** Creates a topic directly (tests, the CLI); throws if the name is invalid or taken. */
  ensureTopic(name: string, partitions = this.defaultPartitions, configs: Record<string, string> = {}): void {
    if (this.topics.has(name)) return;
    const result = this.createTopic(name, partitions, configs);
    if (typeof result === 'string')
      throw new BrokerError('INVALID_TOPIC_CONFIG', result, { details: { topic: name } });
  }

  /** Closes every client connection (clients see a dropped connection and reconnect). */
  closeAllConnections(): void {
    for (const c of [...this.connections]) c.close('closeAllConnections');
    this.connections.clear();
  }

  get connectionCount(): number {
    return this.connections.size;
  }

  private partitionOrThrow(topic: string, partition: number): PartitionLog {
    const log = this.topics.partition(topic, partition);
    if (log === undefined) {
      throw new BrokerError('UNKNOWN_PARTITION', `no partition ${topic}/${partition}`, {
        details: { topic, partition },
      });
    }
    return log;
  }

  /** Fetches of this partition return no records until `resumePartition`. Produce still works. */
  pausePartition(topic: string, partition: number): void {
    this.paused.add(this.partitionOrThrow(topic, partition));
  }

  resumePartition(topic: string, partition: number): void {
    const log = this.partitionOrThrow(topic, partition);
    this.paused.delete(log);
    this.waiters.notify(log);
  }

  /**
   * Handles the next `count` requests of API `apiKey` (e.g. ApiKey.Produce) normally, then closes
   * their connection instead of answering: a response lost after the broker applied the request,
   * which is what makes clients retry (idempotent producers must not duplicate).
   */
  dropResponses(apiKey: number, count = 1): void {
    if (count <= 0) this.dropRules.delete(apiKey);
    else this.dropRules.set(apiKey, count);
  }

  /** Delays every request by `ms` before it is handled (0 turns it off). */
  setLatency(ms: number): void {
    this.latencyMs = Math.max(0, ms);
  }

  highWatermark(topic: string, partition: number): number {
    return this.partitionOrThrow(topic, partition).highWatermark;
  }

  statsSnapshot(): BrokerStats {
    return { ...this.stats };
  }

  private async closeServer(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    this.closeAllConnections();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Stops listening, drops connections and group members, then listens again on the same port. */
  async restart(options: { downtimeMs?: number } = {}): Promise<void> {
    this.stopping = true;
    this.waiters.wakeAll();
    this.groups.reset();
    await this.closeServer();
    if ((options.downtimeMs ?? 0) > 0) await new Promise((r) => setTimeout(r, options.downtimeMs));
    this.stopping = false;
    await this.listen(this.boundPort);
    this.logger.log('info', 'broker.restarted', { bootstrap: this.bootstrap });
  }

  async stop(): Promise<void> {
    if (this.stopping && this.server === undefined) return;
    this.stopping = true;
    this.waiters.wakeAll();
    this.groups.close();
    if (this.retentionTimer !== undefined) clearInterval(this.retentionTimer);
    this.retentionTimer = undefined;
    await this.closeServer();
    this.persistence?.close();
    this.logger.log('info', 'broker.stopped', { bootstrap: this.bootstrap });
  }
}
