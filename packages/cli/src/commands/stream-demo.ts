/**
 * `weir demo` (the README's first command): the whole stream with nothing installed. It starts
 * the embedded Kafka-protocol broker, produces card transactions (user, card, amount, currency,
 * country, merchant, category, event time; one in 2,000 malformed on purpose) at a steady rate,
 * runs continuous ingest into a local table with a dead-letter table and background
 * auto-compaction, shows live progress and visibility latency, then prints SQL summaries of the
 * table (DuckDB through `@weir/sql`), its version, files written versus live after compaction,
 * and where the tables are.
 *
 * Invariants: everything runs in this process and stops before the summaries (the producer
 * first, then the ingest once it has caught up); the tables are left on disk for the user.
 */
import { mkdirSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadSnapshot, readHistory } from '@weir/delta';
import { Ingest, type IngestStatus } from '@weir/kafka';
import { startBroker } from '@weir/kafka-broker';
import { LocalStore, WeirError } from '@weir/storage';
import type { Command } from 'commander';
import { Kafka, logLevel } from 'kafkajs';
import { type CliContext, write } from '../context.js';
import { formatBytes } from '../format/bytes.js';
import { writeRows } from '../format/rows.js';
import { createStatusLine, statusFieldsOf } from '../format/status-line.js';

const TOPIC = 'card-transactions';
const PARTITIONS = 8;
const COUNTRIES = ['US', 'DE', 'GB', 'FR', 'BR', 'IN', 'JP', 'NL', 'ES', 'CA'];
const COUNTRY_WEIGHTS = [30, 12, 10, 9, 8, 8, 7, 6, 5, 5];
const CURRENCY: Record<string, string> = {
  US: 'USD',
  DE: 'EUR',
  GB: 'GBP',
  FR: 'EUR',
  BR: 'BRL',
  IN: 'INR',
  JP: 'JPY',
  NL: 'EUR',
  ES: 'EUR',
  CA: 'CAD',
};
const MERCHANTS = [
  'Acme Grocery',
  'Blue Bottle',
  'City Rail',
  'Corner Books',
  'Fuel Stop',
  'Gadget Hub',
  'Luna Cinema',
  'Metro Pharmacy',
  'Nimbus Air',
  'Pixel Games',
  'Quick Eats',
  'Riverside Hotel',
];
const CATEGORIES = [
  'grocery',
  'coffee',
  'transport',
  'books',
  'fuel',
  'electronics',
  'entertainment',
  'health',
  'travel',
  'games',
  'restaurants',
  'lodging',
];

const SCHEMA_DDL =
  'txn_id BIGINT NOT NULL, user_id STRING NOT NULL, card_id STRING, amount DECIMAL(12,2) NOT NULL, currency STRING, country STRING, merchant STRING, category STRING, card_present BOOLEAN, event_time TIMESTAMP NOT NULL';

/** A deterministic, realistic-looking transaction. */
function transaction(i: number, now: number): Record<string, unknown> {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) >>> 0;
  const next = () => {
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35) >>> 0;
    return h / 4294967296;
  };
  let pick = next() * 100;
  let c = 0;
  while (pick >= COUNTRY_WEIGHTS[c]! && c < COUNTRIES.length - 1) pick -= COUNTRY_WEIGHTS[c++]!;
  const country = COUNTRIES[c]!;
  const m = Math.floor(next() * MERCHANTS.length);
  const user = Math.floor(next() * 50_000);
  return {
    txn_id: i,
    user_id: `user-${user}`,
    card_id: `card-${user}-${Math.floor(next() * 3)}`,
    amount: (Math.round(next() ** 3 * 50_000) / 100 + 0.5).toFixed(2),
    currency: CURRENCY[country],
    country,
    merchant: MERCHANTS[m],
    category: CATEGORIES[m],
    card_present: next() < 0.6,
    event_time: new Date(now).toISOString(),
  };
}

function positiveInt(name: string) {
  return (text: string): number => {
    if (!/^\d+$/.test(text) || Number(text) < 1)
      throw new WeirError('INVALID_ARGUMENT', `${name} must be a positive integer, got ${text}`);
    return Number(text);
  };
}

export function registerStreamDemoCommand(program: Command, ctx: CliContext): void {
  program
    .command('demo')
    .description('stream card transactions through an embedded Kafka broker into a Delta table, live')
    .option('--duration <seconds>', 'how long to stream', positiveInt('--duration'), 30)
    .option('--rate <messages/s>', 'producer rate', positiveInt('--rate'), 10_000)
    .option('--dir <dir>', 'where to put the tables (default: a new temporary directory)')
    .action(async (opts: { duration: number; rate: number; dir?: string }) => {
      const out = (s = '') => write(ctx.io.stdout, `${s}\n`);
      const dir = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'weir-demo-'));
      mkdirSync(dir, { recursive: true });
      const tableDir = path.join(dir, 'transactions');
      const dlqDir = path.join(dir, 'transactions_dead_letters');
      await out('Weir demo: Kafka -> Delta Lake, continuous commits every 250 ms, exactly once\n');
      const broker = await startBroker({ defaultPartitions: PARTITIONS });
      const kafka = new Kafka({
        brokers: [broker.bootstrap],
        clientId: 'weir-demo',
        logLevel: logLevel.NOTHING,
      });
      let ingest: Ingest | undefined;
      try {
        const admin = kafka.admin();
        await admin.connect();
        await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: PARTITIONS }] });
        await admin.disconnect();
        await out(
          `1. Broker  embedded Kafka-protocol broker on ${broker.bootstrap}, topic ${TOPIC} (${PARTITIONS} partitions)`,
        );
        await out(`2. Table   ${tableDir} (dead letters: ${dlqDir})`);
        const { loadSchemaArg } = await import('../input/schema-arg.js');
        ingest = await Ingest.start({
          kafka: { brokers: [broker.bootstrap], clientId: 'weir-demo-ingest' },
          topics: [TOPIC],
          groupId: 'weir-demo',
          table: new LocalStore(tableDir),
          deadLetter: new LocalStore(dlqDir),
          schema: loadSchemaArg(SCHEMA_DDL),
          partitionBy: ['date(event_time) as day'],
          metadataColumns: ['partition', 'offset'],
          eventTimeColumn: 'event_time',
          epochMs: 250,
          // Small thresholds so compaction is visible within a short demo.
          autoCompaction: { minSmallFiles: 20 },
        });
        await out(
          `3. Stream  ${opts.rate.toLocaleString('en-US')} transactions/s for ${opts.duration} s (1 in 2,000 malformed, for the dead-letter table)\n`,
        );

        const producer = kafka.producer();
        await producer.connect();
        const status = createStatusLine(ctx.io, 'demo');
        const started = Date.now();
        let sent = 0;
        let lastPrint = started;
        const show = (st: IngestStatus) => {
          status?.update(statusFieldsOf(st));
        };
        while (Date.now() - started < opts.duration * 1000) {
          // A slow loop (a busy machine) sends at most 100 ms worth at once: the rate falls
          // behind instead of bursting.
          const due = Math.min(
            Math.floor(((Date.now() - started) / 1000) * opts.rate),
            sent + Math.ceil(opts.rate / 10),
          );
          const messages = [];
          const now = Date.now();
          for (; sent < due; sent++) {
            const value =
              sent % 2000 === 1999
                ? `{"txn_id": ${sent}, "amount": `
                : JSON.stringify(transaction(sent, now));
            messages.push({ key: `user-${sent % 50_000}`, value });
          }
          if (messages.length > 0) await producer.send({ topic: TOPIC, acks: 1, messages });
          const st = ingest.status();
          show(st);
          if (!status && Date.now() - lastPrint >= 5000) {
            lastPrint = Date.now();
            await out(
              `   ${Math.round((Date.now() - started) / 1000)} s: ${st.rowsCommitted.toLocaleString('en-US')} rows committed, ${st.rowsPerSecond.toLocaleString('en-US')} rows/s, lag ${st.lag ?? '-'}, latency p50 ${st.latencyMs?.p50 ?? '-'} ms p99 ${st.latencyMs?.p99 ?? '-'} ms, version ${st.lastCommit?.version ?? '-'}`,
            );
          }
          await new Promise((r) => setTimeout(r, 50));
        }
        await producer.disconnect();
        // Let the ingest catch up with what was sent, then stop it (commits what it holds).
        const running = ingest;
        const deadline = Date.now() + 60_000;
        while (
          running.status().rowsCommitted + running.status().deadLetters < sent &&
          Date.now() < deadline
        ) {
          show(running.status());
          await new Promise((r) => setTimeout(r, 100));
        }
        const final = running.status();
        await running.stop('demo finished');
        status?.stop();
        await out(
          `   streamed ${sent.toLocaleString('en-US')} messages in ${opts.duration} s (${Math.round(sent / opts.duration).toLocaleString('en-US')}/s); visibility latency (Kafka timestamp -> commit) p50 ${final.latencyMs?.p50 ?? '-'} ms, p99 ${final.latencyMs?.p99 ?? '-'} ms\n`,
        );

        const table = new LocalStore(tableDir);
        const snapshot = await loadSnapshot(table);
        const history = await readHistory(table);
        const streaming = history.filter((h) => h.operation === 'STREAMING UPDATE');
        const optimizes = history.filter((h) => h.operation === 'OPTIMIZE');
        const written = streaming.reduce(
          (n, h) => n + Number(h.operationMetrics?.numFiles ?? h.operationMetrics?.numAddedFiles ?? 0),
          0,
        );
        const bytes = snapshot.files().reduce((n, f) => n + f.size, 0);
        await out(
          `4. The table at version ${snapshot.version}: ${streaming.length} streaming commits, ${optimizes.length} auto-compactions`,
        );
        await out(
          `   files written by the stream: ${written}; live files after compaction: ${snapshot.files().length} (${formatBytes(bytes)})\n`,
        );

        const { queryTables } = await import('@weir/sql'); // DuckDB: loaded only when it is used
        const q = async (title: string, sql: string) => {
          await out(`   ${title}\n   > ${sql}`);
          const result = await queryTables(sql, {
            transactions: table,
            dead_letters: new LocalStore(dlqDir),
          });
          await writeRows(
            { ...ctx.io, isTTY: true },
            'table',
            result.table.schema,
            (async function* () {
              yield* result.table.batches;
            })(),
          );
          await out();
        };
        await out('5. SQL on the table (DuckDB over the exact files of the latest version: weir sql)\n');
        await q(
          'Transactions per country',
          'SELECT country, count(*) AS transactions, sum(amount) AS total FROM transactions GROUP BY country ORDER BY transactions DESC LIMIT 5',
        );
        await q(
          'The biggest spenders',
          'SELECT user_id, count(*) AS n, sum(amount) AS spent FROM transactions GROUP BY user_id ORDER BY spent DESC LIMIT 3',
        );
        await q(
          'Dead letters (malformed messages kept with their error)',
          'SELECT partition, "offset", error_code FROM dead_letters ORDER BY "offset" LIMIT 3',
        );
        await out(`Tables are in ${dir}. Try:`);
        await out(`  npx weir describe ${tableDir}`);
        await out(`  npx weir history ${tableDir} --limit 5`);
        await out(
          `  npx weir sql "SELECT category, avg(amount) FROM t GROUP BY category" --table t=${tableDir}`,
        );
        await out('  npx weir ingest --help   (the same ingest against your own Kafka)');
      } finally {
        if (ingest) await ingest.stop('demo finished').catch(() => {});
        await broker.stop();
      }
    });
}
