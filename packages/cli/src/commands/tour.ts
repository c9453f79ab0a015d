/**
 * `weir tour`: a guided tour of reading a real Delta table with Weir — the embedded
 * Spark-written example (partitions, deletion vectors, a checkpoint, 16 versions) unless
 * `--table` names another. It shows describe, history, a pruned and filtered scan, and time
 * travel, using only the public library API. (`weir demo` is the streaming tour.)
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  batchToJsonRows,
  executeScan,
  loadSnapshot,
  planScan,
  readHistory,
  type Snapshot,
  scanOutputSchema,
} from '@weir/delta';
import type { ObjectStore } from '@weir/storage';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { formatBytes } from '../format/bytes.js';
import { writeRows } from '../format/rows.js';
import { describeSnapshot } from './read-commands.js';

function embeddedTable(): string {
  const candidates = [
    new URL('../../../../examples/tables/spark-dv-partitioned', import.meta.url),
    new URL('../../../examples/tables/spark-dv-partitioned', import.meta.url),
  ];
  for (const c of candidates) if (existsSync(c)) return fileURLToPath(c);
  return fileURLToPath(candidates[0]!);
}

async function countRows(store: ObjectStore, snapshot: Snapshot, where?: string) {
  const plan = planScan(snapshot, where === undefined ? {} : { where });
  let rows = 0;
  for await (const b of executeScan(store, plan)) rows += b.numRows;
  return { rows, filesRead: plan.files.length, filesTotal: plan.metrics.totalFiles };
}

export function registerTourCommand(program: Command, ctx: CliContext): void {
  program
    .command('tour')
    .description('a guided tour: read a real Delta table (embedded example) with Weir')
    .option('--table <location>', 'tour this table instead of the embedded example')
    .action(async (opts: { table?: string }) => {
      const location = opts.table ?? embeddedTable();
      const out = (s: string) => write(ctx.io.stdout, `${s}\n`);
      const store = ctx.openStore(location);
      const started = performance.now();
      const snapshot = await loadSnapshot(store);
      const loadMs = performance.now() - started;
      const d = describeSnapshot(snapshot);

      await out(`Weir tour — reading ${location}\n`);
      await out(
        `1. The table (snapshot loaded in ${loadMs.toFixed(1)} ms from its checkpoint + later commits)`,
      );
      await out(
        `   version ${d.version}, protocol reader ${d.protocol.minReaderVersion} / writer ${d.protocol.minWriterVersion}` +
          `${d.protocol.readerFeatures?.length ? ` with ${d.protocol.readerFeatures.join(', ')}` : ''}`,
      );
      await out(`   ${d.numFiles} live files, ${formatBytes(d.sizeInBytes)}, ${d.numRecords ?? '?'} records`);
      await out(
        `   columns: ${snapshot.schema.fields.map((f) => f.name).join(', ')}; partitioned by ${d.partitionColumns.join(', ') || '(nothing)'}\n`,
      );

      await out('2. Its recent history (weir history)');
      for (const h of await readHistory(store, { limit: 5 })) {
        await out(
          `   v${String(h.version).padEnd(3)} ${new Date(h.timestamp).toISOString()}  ${h.operation ?? ''} ${h.operationParameters ? JSON.stringify(h.operationParameters) : ''}`,
        );
      }

      const partition = snapshot.partitionColumns[0];
      const firstValue = partition ? snapshot.files()[0]?.partitionValues[partition] : undefined;
      if (partition && firstValue !== undefined && firstValue !== null) {
        const where = `${partition} = ${/^-?\d+$/.test(firstValue) ? firstValue : `'${firstValue.replaceAll("'", "''")}'`}`;
        const c = await countRows(store, snapshot, where);
        await out(`\n3. A filtered scan (weir scan --where "${where}" --limit 5 --format table)`);
        await out(
          `   partition pruning read ${c.filesRead} of ${c.filesTotal} files; ${c.rows} matching rows (deleted rows already removed)`,
        );
        const plan = planScan(snapshot, { where, limit: 5 });
        await writeRows(ctx.io, 'table', scanOutputSchema(plan), executeScan(store, plan));
      }

      const first = await loadSnapshot(store, { version: 0 }).catch(() => undefined);
      if (first) {
        const then = await countRows(store, first);
        const now = await countRows(store, snapshot);
        await out(
          `\n4. Time travel (weir scan --version 0): version 0 had ${then.rows} rows in ${first.files().length} files; version ${snapshot.version} has ${now.rows} rows in ${snapshot.files().length} files`,
        );
      }
      const sample = planScan(snapshot, { limit: 1 });
      for await (const b of executeScan(store, sample)) {
        await out(`\n5. One row as NDJSON (weir scan --limit 1): ${JSON.stringify(batchToJsonRows(b)[0])}`);
      }
      await out(
        '\nTry: npx weir describe <table> | npx weir scan <table> --where "..." | npx weir history <table>',
      );
    });
}
