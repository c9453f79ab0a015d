/**
 * queryTables: the one-call form of a SQL session. Registers the given Weir tables, runs one
 * query on DuckDB, collects the result as Arrow (and, on demand, as JSON rows in the form
 * `weir scan` prints), and closes the session.
 */
import { batchToJsonRows, type JsonValue } from '@weir/delta';
import { type RecordBatch, type Schema, Table } from 'apache-arrow';
import { type SessionOptions, SqlSession, type SqlStream, type TableInput } from './session.js';
import type { TableReadInfo } from './table-views.js';

export interface QueryResult {
  schema: Schema;
  /** The result as one Arrow table. */
  table: Table;
  numRows: number;
  /** Rows as JSON values (`batchToJsonRows`: the row form `weir scan` and `weir sql` print). */
  rows(): Record<string, JsonValue>[];
  /** What each Weir table the query named contributed (files read, path taken). */
  tables: TableReadInfo[];
}

/** Collects a streaming result. */
export async function collect(stream: SqlStream): Promise<QueryResult> {
  const batches: RecordBatch[] = [];
  for await (const b of stream.batches) batches.push(b);
  const table = batches.length > 0 ? new Table(batches) : new Table(stream.schema);
  return {
    schema: stream.schema,
    table,
    numRows: table.numRows,
    rows: () => batches.flatMap((b) => batchToJsonRows(b)),
    tables: stream.tables,
  };
}

/**
 * Runs `sql` over the named tables (`{ events: store }`, `{ events: { store, version: 3 } }`,
 * `{ events: snapshot }` for a local table) and returns the whole result.
 */
export async function queryTables(
  sql: string,
  tables: Readonly<Record<string, TableInput>>,
  options: Omit<SessionOptions, 'tables'> = {},
): Promise<QueryResult> {
  const session = await SqlSession.create({ ...options, tables });
  try {
    return await collect(await session.stream(sql));
  } finally {
    await session.close();
  }
}
