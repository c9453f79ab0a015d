/**
 * The fallback path: tables DuckDB cannot read from their own files (deletion vectors, reader
 * features beyond what a view can express, stores that are not local directories) are read with
 * Weir's scan and handed to DuckDB as temporary Parquet files of the logical schema.
 *
 * Why Parquet files: @duckdb/node-api 1.5 offers no Arrow registration, and its appender takes
 * values one by one (a JS call per value, nested values as JS objects). Writing Weir's Arrow
 * batches with Weir's own DataFileWriter (columnar, in WebAssembly) and letting DuckDB read them
 * with `read_parquet` keeps every type exact (the same writer Weir's tables are written with)
 * and reuses the view builder unchanged: the files carry logical names, no partition columns
 * and no deletion vectors.
 *
 * Invariants: the scan reads exactly the plan's files, without a row predicate (DuckDB applies
 * the query's own filters); a missing data file fails as the scan fails (MISSING_DATA_FILE);
 * files are written under the session's temporary directory, which the session removes.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { DataFileWriter, executeScan, type ScanPlan } from '@weir/delta';
import { LocalStore, type ObjectStore } from '@weir/storage';

/** A plan that yields every row of its files (the SQL query filters). */
function unfiltered(plan: ScanPlan): ScanPlan {
  const { predicate: _predicate, limit: _limit, ...rest } = plan;
  return { ...rest, readColumns: rest.outputColumns };
}

/** Scans `plan` with Weir and writes its rows to Parquet files under `tempRoot`; their paths. */
export async function materializeScan(
  store: ObjectStore,
  plan: ScanPlan,
  tempRoot: string,
): Promise<string[]> {
  const directory = path.join(tempRoot, randomUUID());
  const target = new LocalStore(directory);
  const writer = new DataFileWriter(target, {
    table: `${plan.table} (version ${plan.version}, for SQL)`,
    schema: plan.tableSchema,
    partitionColumns: [],
    configuration: {},
    columnMapping: 'none',
    compression: 'snappy',
    dataChange: false,
  });
  try {
    for await (const batch of executeScan(store, unfiltered(plan))) await writer.write(batch);
  } catch (err) {
    await writer.abort();
    throw err;
  }
  const adds = await writer.close();
  return adds.map((a) => path.join(directory, decodeURIComponent(a.path)));
}
