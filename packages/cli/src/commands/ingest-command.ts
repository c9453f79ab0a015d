/**
 * `weir ingest`: streams Kafka topics into a table until SIGTERM/SIGINT, then stops gracefully
 * (stop fetching, commit what is buffered, leave the group) and exits 0. On a terminal a status
 * line shows progress; otherwise structured JSON logs (one event per line) go to stdout. With
 * `--metrics-port`, Prometheus `/metrics` and `/healthz` are served over HTTP.
 *
 * Invariants: a failed ingest ends the command with its error (exit 1) after the tables are
 * left consistent (nothing half-committed); a second signal during the graceful stop exits at
 * once (nothing committed is lost: uncommitted messages are re-read by the next run).
 */
import { Ingest, type IngestEvent, type IngestOptions, serveEndpoints } from '@weir/kafka';
import { isWeirError } from '@weir/storage';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { createStatusLine, statusFieldsOf } from '../format/status-line.js';
import { type IngestFlags, resolveIngestSettings } from './ingest-config.js';
import { collectProperty } from './write-commands.js';

const DEBUG_EVENTS = new Set<IngestEvent['event']>(['committed', 'dead-letter']);

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerIngestCommand(program: Command, ctx: CliContext): void {
  program
    .command('ingest')
    .description('stream Kafka topics into a table, exactly once (offsets are stored in the table)')
    .option('--config <file.json>', 'read settings from a JSON file (flags override it)')
    .option('--brokers <list>', 'Kafka bootstrap servers, host:port[,host:port...]')
    .option('--topic <name>', 'a topic to read (repeatable)', collect)
    .option('--table <uri>', 'the table to write (path, file://, s3://)')
    .option('--mode <mode>', 'continuous (epoch commits) or microbatch (trigger commits)')
    .option('--epoch-ms <n>', 'continuous mode: seal and commit an epoch every n ms (default 250)')
    .option('--trigger-ms <n>', 'microbatch mode: commit every n ms (default 10000)')
    .option('--schema <file|DDL>', 'the table schema when the table is created (Delta schema JSON or DDL)')
    .option('--infer-schema', 'create the table from a schema inferred from the first messages')
    .option(
      '--partition-by <list>',
      'partition columns when the table is created; date(col) and hour(col) [as name] derive one',
    )
    .option('--dead-letter <uri>', 'a table for messages that cannot be decoded (created when missing)')
    .option(
      '--metadata-columns <list>',
      'keep Kafka metadata: topic,partition,offset,key,timestamp,headers (as kafka_<name>)',
    )
    .option(
      '--group <id>',
      'consumer group, also the prefix of the positions stored in the table (default weir-ingest)',
    )
    .option('--client <name>', 'kafkajs (default) or librdkafka (@confluentinc/kafka-javascript)')
    .option('--metrics-port <port>', 'serve Prometheus /metrics and /healthz on this port')
    .option(
      '--format <format>',
      'message values: json (default), avro (Confluent schema registry), string, bytes',
    )
    .option('--schema-registry <url>', 'Confluent-compatible schema registry for --format avro')
    .option(
      '--reset <policy>',
      'where partitions the table has no position for start: earliest (default) or latest',
    )
    .option(
      '--property <key=value>',
      'a table property when the table is created (repeatable)',
      collectProperty,
    )
    .option('--no-auto-compaction', 'do not compact small files in the background')
    .option(
      '--unknown-fields <policy>',
      'payload fields that are not columns: ignore (default) or reject (dead letter)',
    )
    .option('--max-message-bytes <n>', 'larger messages go to the dead-letter table (default 1048576)')
    .option('--client-id <id>', 'Kafka client id')
    .option('--ssl', 'connect to Kafka with TLS')
    .option(
      '--sasl-mechanism <m>',
      'plain, scram-sha-256 or scram-sha-512 (password from WEIR_KAFKA_SASL_PASSWORD)',
    )
    .option('--sasl-username <name>', 'SASL user name')
    .option('--session-timeout-ms <n>', 'consumer group session timeout')
    .option('--heartbeat-interval-ms <n>', 'consumer group heartbeat interval')
    .option('--shutdown-timeout-ms <n>', 'how long a graceful stop may take (default 30000)')
    .option('--log-level <level>', 'info (default) or debug (every commit and dead letter)')
    .action(async (flags: IngestFlags) => {
      const s = resolveIngestSettings(flags);
      const table = ctx.openStore(s.table);
      const deadLetter = s.deadLetter !== undefined ? ctx.openStore(s.deadLetter) : undefined;
      const status = createStatusLine(ctx.io, 'ingest');
      // A signal while still connecting ends the start (a broker that is down is not waited out).
      const startAbort = new AbortController();
      const logLine = (record: Record<string, unknown>) => {
        if (!status)
          ctx.io.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...record })}\n`);
      };
      const logger = (e: IngestEvent) => {
        if (DEBUG_EVENTS.has(e.event) && s.logLevel !== 'debug') return;
        logLine(e as unknown as Record<string, unknown>);
      };
      const options: IngestOptions = {
        kafka: s.kafka,
        client: s.client,
        topics: s.topics,
        groupId: s.groupId,
        resetPolicy: s.resetPolicy,
        table,
        ...(deadLetter ? { deadLetter } : {}),
        mode: s.mode,
        epochMs: s.epochMs,
        triggerMs: s.triggerMs,
        ...(s.schema !== undefined ? { schema: s.schema } : {}),
        partitionBy: s.partitionBy,
        tableProperties: s.properties,
        format: s.format,
        ...(s.schemaRegistry !== undefined ? { schemaRegistry: { url: s.schemaRegistry } } : {}),
        metadataColumns: s.metadataColumns,
        unknownFields: s.unknownFields,
        ...(s.maxMessageBytes !== undefined ? { maxMessageBytes: s.maxMessageBytes } : {}),
        autoCompaction: s.autoCompaction,
        shutdownTimeoutMs: s.shutdownTimeoutMs,
        logger,
        signal: startAbort.signal,
      };
      // Signals are handled from the start: a SIGTERM while connecting still stops gracefully.
      let ingest: Ingest | undefined;
      let stopReason: string | undefined;
      let signals = 0;
      const onSignal = (sig: NodeJS.Signals) => {
        signals++;
        if (signals > 1) process.exit(130);
        stopReason = `received ${sig}`;
        startAbort.abort();
        void ingest?.stop(stopReason);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      try {
        ingest = await Ingest.start(options);
      } catch (err) {
        status?.stop();
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        // Stopped by a signal before it joined: nothing was consumed, so this is a clean stop.
        if (stopReason !== undefined && isWeirError(err, 'INGEST_STOPPED')) {
          logLine({ event: 'stopped', reason: stopReason, beforeStart: true });
          return;
        }
        throw err;
      }
      const running = ingest;
      if (stopReason !== undefined) void running.stop(stopReason);
      const endpoints = s.metricsPort !== undefined ? await serveEndpoints(ingest, s.metricsPort) : undefined;
      if (endpoints) logLine({ event: 'metrics', port: endpoints.port, paths: ['/metrics', '/healthz'] });
      const tick = setInterval(() => {
        const st = running.status();
        status?.update(statusFieldsOf(st));
      }, 250);
      const report = setInterval(() => logLine({ event: 'status', ...running.status() }), 10_000);
      report.unref();
      try {
        await running.done;
      } finally {
        clearInterval(tick);
        clearInterval(report);
        process.off('SIGINT', onSignal);
        process.off('SIGTERM', onSignal);
        status?.stop();
        await endpoints?.close();
      }
      const st = running.status();
      if (status) {
        await write(
          ctx.io.stdout,
          `weir ingest stopped: ${st.rowsCommitted} rows committed to ${st.table}, ${st.deadLetters} dead letters\n`,
        );
      }
    });
}
