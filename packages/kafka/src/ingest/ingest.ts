/**
 * Ingest: one process's share of a Kafka-to-table stream. A consumer (kafkajs or librdkafka)
 * delivers batches; they are decoded into the table's schema and written to a streaming sink
 * whose every commit stores, per topic-partition, the next offset (`txn{appId:
 * <group>-<topic>-<partition>, version: offset}`); bad messages go to the dead-letter table,
 * committed just before the main commit that covers them.
 *
 * Invariants (exactly-once):
 * - a partition is read from the position the table stores (or the reset policy when it stores
 *   none), looked up after a fresh read of the table on every assignment and recovery; the
 *   sink's compare-and-set claim for it is that same stored value, so a commit can only land
 *   on top of what this process resumed from;
 * - messages below a partition's next expected offset are dropped (replays), and nothing of a
 *   partition this process does not own is written;
 * - before partitions are given up (revocation) and before new ones are taken (assignment),
 *   everything buffered is committed; when a commit fails (another process took a partition
 *   over, a conflict, an outage) the sink is dropped with everything uncommitted, reopened, and
 *   every owned partition re-read from the table's positions — never from what was buffered;
 * - every handler (assignment, revocation, batch, recovery, inference) runs one at a time, in
 *   arrival order, so none sees another's half-done state;
 * - Kafka group offsets are committed after table commits, for lag monitoring only.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { type OptimizeResult, type StructType, WEIR_VERSION } from '@weir/delta';
import { WeirError } from '@weir/storage';
import { ContinuousSink, type EpochCommitted, SinkMetrics } from '@weir/stream';
import { AvroDecoder } from '../decode/avro.js';
import { parsePartitionSpec } from '../decode/derived-columns.js';
import { MessageDecoder, type Rejected } from '../decode/message-decoder.js';
import { DEFAULT_METADATA_PREFIX } from '../decode/metadata-columns.js';
import { DEFAULT_MAX_MESSAGE_BYTES } from '../decode/value-decoder.js';
import {
  createConsumer,
  type KafkaClientKind,
  type SourceBatch,
  type SourceConsumer,
  type TopicPartition,
  tpKey,
} from '../source/consumer.js';
import { positionAppId } from '../source/message.js';
import { DeadLetterWriter } from './dead-letters.js';
import { LatencyWindow } from './latency-window.js';
import { IngestMetrics } from './metrics.js';
import { PartitionTracker } from './partition-tracker.js';
import { SchemaInference } from './schema-inference.js';
import {
  createMainTable,
  ensureDeadLetterTable,
  resolveLayout,
  type TableLayout,
  tryLoad,
} from './tables.js';
import type { IngestEvent, IngestMode, IngestOptions, IngestState, IngestStatus } from './types.js';

/** Codes after which the sink is reopened and partitions re-read from the table. */
const RECOVERABLE = new Set(['POSITION_CONFLICT', 'POSITION_REGRESSION', 'COMMIT_CONFLICT', 'SINK_CLOSED']);

function errorCode(err: unknown): string {
  return err instanceof WeirError ? err.code : 'INTERNAL';
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** How long joining the group is retried when the client loses its connection meanwhile. */
const STARTUP_RETRY_MS = 60_000;

export class Ingest {
  /** Resolves when stopped gracefully; rejects with the error that failed the ingest. */
  readonly done: Promise<void>;
  readonly metrics: IngestMetrics;
  private resolveDone!: () => void;
  private rejectDone!: (err: unknown) => void;
  private state: IngestState = 'starting';
  private readonly options: IngestOptions;
  private readonly groupId: string;
  private readonly client: KafkaClientKind;
  private readonly mode: IngestMode;
  private readonly layout: TableLayout;
  private readonly log: (e: IngestEvent) => void;
  private consumer: SourceConsumer | undefined;
  private sink: ContinuousSink | undefined;
  private dlq: DeadLetterWriter | undefined;
  private decoder: MessageDecoder | undefined;
  private avro: AvroDecoder | undefined;
  private readonly sinkMetrics = new SinkMetrics();
  private readonly tracker = new PartitionTracker();
  private readonly latency = new LatencyWindow();
  private readonly committedPositions = new Map<string, number>();
  private chain: Promise<unknown> = Promise.resolve();
  /** Group offset commits (monitoring only), chained in table-commit order. */
  private offsetCommits: Promise<void> = Promise.resolve();
  private inference: SchemaInference | undefined;
  private rowsCommitted = 0;
  private deadLetterCount = 0;
  private lastCommit: IngestStatus['lastCommit'];
  private readonly recentCommits: { at: number; rows: number }[] = [];
  private failures = 0;
  private error: string | undefined;
  private stopping: Promise<void> | undefined;

  private constructor(options: IngestOptions) {
    this.options = options;
    this.groupId = options.groupId ?? 'weir-ingest';
    this.client = options.client ?? 'kafkajs';
    this.mode = options.mode ?? 'continuous';
    this.log = options.logger ?? (() => {});
    this.layout = {
      metadataColumns: options.metadataColumns ?? [],
      metadataPrefix: options.metadataPrefix ?? DEFAULT_METADATA_PREFIX,
      partition: parsePartitionSpec(options.partitionBy ?? []),
      properties: options.tableProperties ?? {},
    };
    this.metrics = new IngestMetrics(this.sinkMetrics);
    this.done = new Promise<void>((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    this.done.catch(() => {}); // callers who never await it must not see an unhandled rejection
    if ((options.format ?? 'json') === 'avro') {
      if (!options.schemaRegistry) {
        throw new WeirError(
          'INVALID_ARGUMENT',
          'the avro format needs a schema registry (schemaRegistry.url)',
        );
      }
      this.avro = new AvroDecoder(options.schemaRegistry);
    }
    if (options.topics.length === 0)
      throw new WeirError('INVALID_ARGUMENT', 'ingest needs at least one topic');
  }

  /** Creates the tables when missing, connects, joins the group and starts consuming. */
  static async start(options: IngestOptions): Promise<Ingest> {
    const ingest = new Ingest(options);
    try {
      await ingest.begin();
    } catch (err) {
      await ingest.consumer?.disconnect().catch(() => {});
      await ingest.sink?.close().catch(() => {});
      throw err;
    }
    return ingest;
  }

  private async begin(): Promise<void> {
    const o = this.options;
    if (o.deadLetter) {
      await ensureDeadLetterTable(o.deadLetter);
      this.dlq = await DeadLetterWriter.open(o.deadLetter, this.groupId);
    }
    const existing = await tryLoad(o.table);
    if (!existing) {
      if (o.schema === 'infer') {
        this.inference = new SchemaInference(
          {
            table: o.table.root,
            format: o.format ?? 'json',
            maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
            avro: this.avro,
          },
          () => void this.serial(() => this.finishInference()),
        );
      } else if (o.schema) await this.createTable(o.schema, false);
      else {
        throw new WeirError(
          'TABLE_NOT_FOUND',
          `${o.table.root}: there is no table here; give a schema to create it, or infer one from the first messages`,
          { details: { table: o.table.root } },
        );
      }
    }
    if (!this.inference) await this.openSink();
    await this.startConsumer();
    this.state = 'running';
    this.log({
      event: 'started',
      table: o.table.root,
      groupId: this.groupId,
      topics: o.topics,
      client: this.client,
      mode: this.mode,
    });
  }

  /**
   * Connects and joins the group. A connection the client gives up on while joining (a broker
   * restarting under it: "Closed connection") is retried with a fresh client until
   * STARTUP_RETRY_MS have passed; then, or for a failure the client calls final, it is a typed
   * error naming the brokers, never an internal one.
   */
  private async startConsumer(): Promise<void> {
    const o = this.options;
    const deadline = Date.now() + STARTUP_RETRY_MS;
    const signal = o.signal;
    const stopped = () =>
      new WeirError(
        'INGEST_STOPPED',
        `${o.table.root}: stopped before joining consumer group ${this.groupId}`,
        {
          details: { table: o.table.root, groupId: this.groupId },
        },
      );
    for (let attempt = 0; ; attempt++) {
      if (signal?.aborted) throw stopped();
      const consumer = createConsumer({
        kafka: o.kafka,
        client: this.client,
        groupId: this.groupId,
        topics: o.topics,
        resetPolicy: o.resetPolicy ?? 'earliest',
      });
      this.consumer = consumer;
      // An abort while the client is connecting closes it, so its start gives up now.
      const onAbort = () => void consumer.disconnect().catch(() => {});
      signal?.addEventListener('abort', onAbort, { once: true });
      try {
        await consumer.start({
          onAssign: (tps) => this.serial(() => this.assign(tps)),
          onRevoke: (tps) => this.serial(() => this.revoke(tps)),
          onBatch: (batch) => this.serial(() => this.onBatch(batch)),
          onCrash: (err) => void this.fail(err),
        });
        if (signal?.aborted) throw stopped(); // joined, but told to stop meanwhile
        return;
      } catch (err) {
        await consumer.disconnect().catch(() => {});
        if (signal?.aborted) throw stopped();
        if (err instanceof WeirError) throw err;
        // kafkajs gives up on its own retries with KafkaJSNumberOfRetriesExceeded (not retriable
        // to it); a broker that is restarting can still come back within this deadline.
        const e = err as { retriable?: unknown; name?: unknown } | null;
        const retriable = e?.retriable === true || e?.name === 'KafkaJSNumberOfRetriesExceeded';
        if (!retriable || Date.now() >= deadline) {
          const brokers = o.kafka.brokers.join(',');
          throw new WeirError(
            'KAFKA_UNAVAILABLE',
            `${brokers}: could not join consumer group ${this.groupId} (${attempt + 1} attempt${attempt === 0 ? '' : 's'}): ${errorText(err)}`,
            {
              cause: err,
              retryable: retriable,
              details: { brokers: o.kafka.brokers, groupId: this.groupId },
            },
          );
        }
        // Rejects only when aborted; the loop's first check then ends the start.
        await delay(Math.min(5_000, 200 * 2 ** attempt), undefined, signal ? { signal } : {}).catch(() => {});
      } finally {
        signal?.removeEventListener('abort', onAbort);
      }
    }
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.chain.then(fn);
    this.chain = run.catch(() => {});
    return run;
  }

  private get active(): boolean {
    return this.state === 'running' || this.state === 'recovering' || this.state === 'starting';
  }

  private appId(tp: TopicPartition): string {
    return positionAppId(this.groupId, tp.topic, tp.partition);
  }

  // --- tables and sink ------------------------------------------------------------------------

  private async createTable(payload: StructType, inferred: boolean): Promise<void> {
    const snapshot = await createMainTable(this.options.table, payload, this.layout);
    this.log({ event: 'table-created', table: snapshot.table, version: snapshot.version, inferred });
  }

  private async openSink(): Promise<ContinuousSink> {
    const o = this.options;
    const continuous = this.mode === 'continuous';
    const dlq = this.dlq;
    const sink = await ContinuousSink.open(o.table, {
      epochMs: continuous ? (o.epochMs ?? 250) : (o.triggerMs ?? 10_000),
      pipelined: continuous,
      // Continuous epochs are small: a tight bound keeps memory low. A microbatch holds a whole
      // trigger's rows by design; its data files stream to the encoder as they grow, so only
      // the accounting (Arrow bytes in), not memory, reaches these caps.
      maxBufferedBytes: o.maxBufferedBytes ?? (continuous ? 64 : 2048) * 1024 * 1024,
      ...(continuous ? {} : { maxEpochRows: 100_000_000, maxEpochBytes: 2048 * 1024 * 1024 }),
      metrics: this.sinkMetrics,
      autoCompaction:
        o.autoCompaction === false ? false : o.autoCompaction === true ? {} : (o.autoCompaction ?? {}),
      ...(dlq ? { beforeCommit: () => dlq.flush() } : {}),
      onBackgroundError: (err, what) =>
        this.log({ event: 'background-error', what, code: errorCode(err), message: errorText(err) }),
      onCompaction: (r: OptimizeResult) => {
        for (const c of r.commits)
          this.log({
            event: 'compacted',
            version: c.version,
            filesRemoved: c.removedFiles,
            filesAdded: c.addedFiles,
            durationMs: Math.round(r.metrics.durationMs),
            binsStitched: r.metrics.binsStitched,
          });
      },
    });
    const snapshot = sink.snapshot();
    const resolved = resolveLayout(snapshot, this.layout);
    const eventTime =
      o.eventTimeColumn ??
      (resolved.metadataColumns.includes('timestamp') ? `${this.layout.metadataPrefix}timestamp` : undefined);
    if (
      eventTime &&
      !snapshot.schema.fields.some((f) => f.name === eventTime && f.type.type === 'timestamp')
    ) {
      await sink.close().catch(() => {});
      throw new WeirError(
        'INVALID_ARGUMENT',
        `${snapshot.table}: event time column '${eventTime}' is not a timestamp column`,
        {
          details: { table: snapshot.table, column: eventTime },
        },
      );
    }
    this.decoder = new MessageDecoder(snapshot.schema, {
      table: snapshot.table,
      format: o.format ?? 'json',
      maxMessageBytes: o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      metadataColumns: resolved.metadataColumns,
      metadataPrefix: this.layout.metadataPrefix,
      derived: resolved.derived,
      unknownFields: o.unknownFields ?? 'ignore',
      ...(this.avro ? { avro: this.avro } : {}),
    });
    sink.onEpochCommitted((e) => this.committed(e));
    sink.onFailed((err) => void this.serial(() => this.recover(sink, err)));
    this.sink = sink;
    return sink;
  }

  /** Where each partition starts: the table's position, else the reset policy's watermark. */
  private async startPositions(
    tps: readonly TopicPartition[],
  ): Promise<Map<string, { start: number; stored: number | undefined }>> {
    const snapshot = this.sink ? await this.sink.tableWriter.refresh() : await tryLoad(this.options.table);
    const out = new Map<string, { start: number; stored: number | undefined }>();
    const missing = new Map<string, TopicPartition[]>();
    for (const tp of tps) {
      const stored = snapshot?.appTransactionVersion(this.appId(tp));
      if (stored !== undefined) out.set(tpKey(tp.topic, tp.partition), { start: stored, stored });
      else missing.set(tp.topic, [...(missing.get(tp.topic) ?? []), tp]);
    }
    const latest = (this.options.resetPolicy ?? 'earliest') === 'latest';
    for (const [topic, list] of missing) {
      const marks = new Map((await this.consumer!.watermarks(topic)).map((w) => [w.partition, w]));
      for (const tp of list) {
        const w = marks.get(tp.partition);
        out.set(tpKey(tp.topic, tp.partition), {
          start: w ? (latest ? w.high : w.low) : 0,
          stored: undefined,
        });
      }
    }
    return out;
  }

  // --- group membership -----------------------------------------------------------------------

  private async assign(tps: readonly TopicPartition[]): Promise<ReadonlyMap<string, number>> {
    this.metrics.rebalances.inc();
    if (this.active && this.sink) await this.commitHeld();
    const keep = new Set(tps.map((tp) => tpKey(tp.topic, tp.partition)));
    const released = this.tracker.owned().filter((s) => !keep.has(tpKey(s.topic, s.partition)));
    this.forget(released);
    const starts = await this.startPositions(tps);
    const claims = new Map<string, number | undefined>();
    const positions: Record<string, number | null> = {};
    const result = new Map<string, number>();
    for (const tp of tps) {
      const key = tpKey(tp.topic, tp.partition);
      const { start, stored } = starts.get(key)!;
      this.tracker.assign(tp, start, stored);
      claims.set(this.appId(tp), stored);
      positions[key] = stored ?? null;
      result.set(key, start);
      if (stored !== undefined) this.committedPositions.set(this.appId(tp), stored);
    }
    this.sink?.claim(claims);
    this.metrics.assigned.set(this.tracker.owned().length);
    this.log({ event: 'assigned', partitions: [...keep], positions });
    return result;
  }

  private async revoke(tps: readonly TopicPartition[]): Promise<void> {
    if (tps.length === 0) return;
    if (this.active && this.sink) await this.commitHeld();
    const owned = tps.map((tp) => this.tracker.get(tp)).filter((s) => s !== undefined);
    this.forget(owned);
    this.metrics.assigned.set(this.tracker.owned().length);
    this.log({ event: 'revoked', partitions: tps.map((tp) => tpKey(tp.topic, tp.partition)) });
  }

  private forget(tps: readonly TopicPartition[]): void {
    for (const tp of tps) {
      this.tracker.revoke(tp);
      const appId = this.appId(tp);
      this.sink?.release([appId]);
      this.latency.forget(appId);
      this.committedPositions.delete(appId);
      this.metrics.lag.remove({ topic: tp.topic, partition: String(tp.partition) });
    }
  }

  /** Commits everything buffered; on failure, recovers (partitions re-read from the table). */
  private async commitHeld(): Promise<void> {
    const sink = this.sink;
    if (!sink) return;
    try {
      await sink.flush();
    } catch (err) {
      await this.recover(sink, err);
    }
  }

  // --- data -----------------------------------------------------------------------------------

  private async onBatch(batch: SourceBatch): Promise<void> {
    if (!this.active) return;
    if (this.inference) {
      await this.collectForInference(batch);
      return;
    }
    await this.process(batch);
  }

  private async process(batch: SourceBatch): Promise<void> {
    const sink = this.sink;
    const decoder = this.decoder;
    if (!sink || !decoder) return;
    this.tracker.setHighWatermark(batch, batch.highWatermark);
    const admission = this.tracker.admit(batch, batch.messages);
    if (admission.kind === 'drop') {
      this.metrics.messages.inc(
        { outcome: admission.reason === 'duplicate' ? 'duplicate' : 'dropped' },
        batch.messages.length,
      );
      return;
    }
    if (admission.kind === 'seek') {
      this.consumer?.seek(batch, admission.offset);
      return;
    }
    if (admission.gap) {
      this.log({ event: 'offset-gap', partition: tpKey(batch.topic, batch.partition), ...admission.gap });
    }
    const messages = admission.messages;
    const skipped = batch.messages.length - messages.length;
    if (skipped > 0) this.metrics.messages.inc({ outcome: 'duplicate' }, skipped);
    let decoded: Awaited<ReturnType<MessageDecoder['decode']>>;
    try {
      decoded = await decoder.decode(messages);
    } catch (err) {
      await this.recover(sink, err); // e.g. the schema registry is down: re-read after a pause
      return;
    }
    for (const r of decoded.rejected) this.deadLetter(r);
    const last = messages[messages.length - 1]!;
    const appId = this.appId(batch);
    try {
      await sink.write(decoded.batch ?? [], new Map([[appId, last.offset + 1]]));
    } catch (err) {
      await this.recover(sink, err);
      return;
    }
    this.latency.noteWrite(appId, last.offset + 1, [messages[0]!.timestamp, last.timestamp]);
    this.metrics.messages.inc({ outcome: 'written' }, messages.length - decoded.rejected.length);
  }

  private deadLetter(r: Rejected): void {
    this.deadLetterCount++;
    this.metrics.deadLetters.inc();
    this.metrics.messages.inc({ outcome: 'dead_letter' });
    this.dlq?.add(r.message, r.error);
    this.log({
      event: 'dead-letter',
      topic: r.message.topic,
      partition: r.message.partition,
      offset: r.message.offset,
      code: r.error.code,
      error: r.error.message,
    });
  }

  private committed(e: EpochCommitted): void {
    this.failures = 0;
    this.rowsCommitted += e.rows;
    this.lastCommit = { version: e.version, at: e.timestamp, rows: e.rows };
    const now = Date.now();
    this.recentCommits.push({ at: now, rows: e.rows });
    while (this.recentCommits.length > 0 && this.recentCommits[0]!.at < now - 10_000)
      this.recentCommits.shift();
    for (const ms of this.latency.committed(e.positions, e.timestamp))
      this.metrics.visibility.observe(ms / 1000);
    this.log({ event: 'committed', version: e.version, rows: e.rows, files: e.files });
    const offsets: (TopicPartition & { offset: number })[] = [];
    for (const s of this.tracker.owned()) {
      const appId = this.appId(s);
      const position = e.positions.get(appId);
      if (position !== undefined) {
        this.committedPositions.set(appId, position);
        offsets.push({ topic: s.topic, partition: s.partition, offset: position });
      }
      const committed = this.committedPositions.get(appId);
      if (s.highWatermark !== undefined && committed !== undefined) {
        this.metrics.lag.set(
          { topic: s.topic, partition: String(s.partition) },
          Math.max(0, s.highWatermark - committed),
        );
      }
    }
    if (offsets.length > 0 && this.consumer) {
      const consumer = this.consumer;
      // One at a time, in commit order, so a slow older commit never lands over a newer one;
      // a graceful stop waits for the last before it leaves the group.
      this.offsetCommits = this.offsetCommits.then(() => consumer.commitOffsets(offsets)).catch(() => {});
    }
  }

  // --- recovery -------------------------------------------------------------------------------

  /**
   * Drops a failed sink with everything it buffered, reopens one, and re-reads every owned
   * partition from the table's positions. Errors that no reopening can fix fail the ingest.
   */
  private async recover(failed: ContinuousSink, err: unknown): Promise<void> {
    if (this.sink !== failed || !this.active) return;
    const code = errorCode(err);
    const recoverable = RECOVERABLE.has(code) || (err instanceof WeirError && err.retryable);
    if (!recoverable) {
      await this.fail(err);
      return;
    }
    this.state = 'recovering';
    this.metrics.recoveries.inc({ code });
    this.log({ event: 'recovering', reason: errorText(err), code });
    this.sink = undefined;
    await failed.close().catch(() => {});
    this.dlq?.discard();
    this.latency.clear();
    for (let attempt = 0; ; attempt++) {
      const delay = Math.min(5000, 100 * 2 ** Math.min(this.failures++, 6));
      await new Promise((r) => setTimeout(r, delay * (0.5 + Math.random() / 2)));
      if (!this.active) return;
      try {
        const sink = await this.openSink();
        const owned = this.tracker.owned();
        const starts = await this.startPositions(owned);
        const claims = new Map<string, number | undefined>();
        for (const tp of owned) {
          const { start, stored } = starts.get(tpKey(tp.topic, tp.partition))!;
          this.tracker.assign(tp, start, stored);
          claims.set(this.appId(tp), stored);
          this.consumer?.seek(tp, start);
        }
        sink.claim(claims);
        this.state = 'running';
        return;
      } catch (reopenErr) {
        const again =
          reopenErr instanceof WeirError && (reopenErr.retryable || RECOVERABLE.has(reopenErr.code));
        if (!again || attempt >= 20) {
          await this.fail(reopenErr);
          return;
        }
        this.log({ event: 'recovering', reason: errorText(reopenErr), code: errorCode(reopenErr) });
      }
    }
  }

  private async fail(err: unknown): Promise<void> {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'failed';
    this.error = errorText(err);
    this.log({ event: 'failed', code: errorCode(err), message: this.error });
    this.inference?.cancel();
    await this.sink?.close().catch(() => {});
    await this.consumer?.disconnect().catch(() => {});
    this.rejectDone(err);
  }

  // --- schema inference -----------------------------------------------------------------------

  private async collectForInference(batch: SourceBatch): Promise<void> {
    if (this.inference!.hold(batch)) await this.finishInference();
  }

  private async finishInference(): Promise<void> {
    const inference = this.inference;
    if (!inference || !this.active) return;
    const outcome = await inference.infer();
    if (outcome.kind === 'wait') return;
    if (outcome.kind === 'failed') {
      await this.fail(outcome.error);
      return;
    }
    await this.createTable(outcome.schema, true);
    this.inference = undefined;
    const sink = await this.openSink();
    sink.claim(new Map(this.tracker.owned().map((s) => [this.appId(s), s.resumedFrom])));
    for (const b of outcome.batches) await this.process(b);
  }

  // --- status and shutdown --------------------------------------------------------------------

  status(): IngestStatus {
    let lag: number | undefined;
    for (const s of this.tracker.owned()) {
      const committed = this.committedPositions.get(this.appId(s));
      if (s.highWatermark === undefined) continue;
      lag = (lag ?? 0) + Math.max(0, s.highWatermark - (committed ?? s.next));
    }
    const windowRows = this.recentCommits.reduce((n, c) => n + c.rows, 0);
    const span =
      this.recentCommits.length > 0 ? Math.max(1, (Date.now() - this.recentCommits[0]!.at) / 1000) : 1;
    return {
      state: this.state,
      table: this.options.table.root,
      groupId: this.groupId,
      client: this.client,
      mode: this.mode,
      assigned: this.tracker.owned().map((s) => tpKey(s.topic, s.partition)),
      rowsCommitted: this.rowsCommitted,
      deadLetters: this.deadLetterCount,
      rowsPerSecond: Math.round(windowRows / Math.min(10, span)),
      lag,
      lastCommit: this.lastCommit,
      latencyMs: this.latency.summary(),
      ...(this.error !== undefined ? { error: this.error } : {}),
    };
  }

  /** Prometheus text exposition of the ingest's and its sink's metrics. */
  prometheus(): Promise<string> {
    return this.metrics.prometheus();
  }

  /**
   * Graceful stop: stop fetching, commit what is buffered (dead letters first), leave the
   * group. Gives up waiting after `shutdownTimeoutMs` (default 30 s): nothing uncommitted is
   * lost then either, the next owner re-reads it from the table's positions.
   */
  stop(reason = 'stop requested'): Promise<void> {
    this.stopping ??= this.stopNow(reason);
    return this.stopping;
  }

  private async stopNow(reason: string): Promise<void> {
    if (this.state === 'failed' || this.state === 'stopped') return;
    this.state = 'stopping';
    this.log({ event: 'stopping', reason });
    this.inference?.cancel();
    let step: 'fetching' | 'committing' | 'leaving' = 'fetching';
    const work = (async () => {
      await this.consumer?.stop().catch(() => {});
      step = 'committing';
      await this.serial(async () => {
        try {
          await this.sink?.close();
          await this.dlq?.close();
        } catch (err) {
          this.log({
            event: 'background-error',
            what: 'final commit',
            code: errorCode(err),
            message: errorText(err),
          });
        }
      });
      step = 'leaving';
      await this.offsetCommits;
      await this.consumer?.disconnect().catch(() => {});
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      work.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), this.options.shutdownTimeoutMs ?? 30_000);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      // Nothing uncommitted is lost (the next owner re-reads it); still try to leave the group.
      this.log({ event: 'stop-timeout', waitingFor: step });
      void this.consumer?.disconnect().catch(() => {});
    }
    this.state = 'stopped';
    this.log({ event: 'stopped', rowsCommitted: this.rowsCommitted, timedOut });
    this.resolveDone();
  }

  static readonly version = WEIR_VERSION;
}
