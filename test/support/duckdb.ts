/**
 * DuckDB as an independent reader in tests: it reads a snapshot's live data files with
 * `read_parquet` and writes what it decoded to a fresh Parquet file, which is then converted
 * to canonical JSON rows with the table's logical types. So a decoding difference between
 * Weir and DuckDB (INT96, decimals, nested types, nulls) shows up as a row difference.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import {
  batchToJsonRows,
  conformBatchToSchema,
  type JsonValue,
  readParquetTable,
  type Snapshot,
} from '@weir/delta';

function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

export async function duckdbRows(
  tableDirectory: string,
  snapshot: Snapshot,
  columns: string[],
): Promise<Record<string, JsonValue>[]> {
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-duck-'));
  const out = path.join(tmp, 'out.parquet');
  const instance = await DuckDBInstance.create(':memory:');
  const conn = await instance.connect();
  try {
    const files = snapshot.files().map((f) => path.join(tableDirectory, decodeURIComponent(f.path)));
    const list = `[${files.map(sqlString).join(', ')}]`;
    const cols = columns.map((c) => `"${c.replaceAll('"', '""')}"`).join(', ');
    await conn.run(
      `COPY (SELECT ${cols} FROM read_parquet(${list}, union_by_name = true)) TO ${sqlString(out)} (FORMAT parquet)`,
    );
    const table = readParquetTable(new Uint8Array(readFileSync(out)));
    const rows: Record<string, JsonValue>[] = [];
    for (const batch of table.batches) {
      rows.push(
        ...batchToJsonRows(conformBatchToSchema(batch, snapshot.schema, { table: 'duckdb', file: out })),
      );
    }
    return rows;
  } finally {
    conn.closeSync();
    instance.closeSync();
    rmSync(tmp, { recursive: true, force: true });
  }
}
