/**
 * Writes scan results in the CLI's row formats: NDJSON (one object per row, JSON values as
 * `batchToJsonRows` defines them), CSV (header + rows; nested values as JSON text), or an
 * aligned table for terminals (cli-table3). Streams batch by batch, except `table`, which
 * must see all rows to size its columns and is meant for small, `--limit`ed results.
 */

import { batchToJsonRows, type JsonValue } from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { RecordBatch, Schema } from 'apache-arrow';
import Table from 'cli-table3';
import { stringify } from 'csv-stringify/sync';
import { type CliIo, write } from '../context.js';

export type RowFormat = 'ndjson' | 'csv' | 'table';

export function parseRowFormat(text: string): RowFormat {
  if (text === 'ndjson' || text === 'csv' || text === 'table') return text;
  throw new WeirError('INVALID_ARGUMENT', `unknown format ${text} (ndjson, csv or table)`);
}

function cellText(v: JsonValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

export async function writeRows(
  io: CliIo,
  format: RowFormat,
  schema: Schema,
  batches: AsyncIterable<RecordBatch>,
): Promise<number> {
  const names = schema.fields.map((f) => f.name);
  let count = 0;
  if (format === 'ndjson') {
    for await (const batch of batches) {
      const rows = batchToJsonRows(batch);
      count += rows.length;
      if (rows.length > 0) await write(io.stdout, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);
    }
    return count;
  }
  if (format === 'csv') {
    await write(io.stdout, stringify([names]));
    for await (const batch of batches) {
      const rows = batchToJsonRows(batch);
      count += rows.length;
      if (rows.length > 0)
        await write(io.stdout, stringify(rows.map((r) => names.map((n) => cellText(r[n] ?? null)))));
    }
    return count;
  }
  const table = new Table({ head: names, style: { head: [], border: [] } });
  for await (const batch of batches) {
    for (const r of batchToJsonRows(batch)) {
      table.push(names.map((n) => cellText(r[n] ?? null)));
      count++;
    }
  }
  await write(io.stdout, `${table.toString()}\n(${count} row${count === 1 ? '' : 's'})\n`);
  return count;
}
