/**
 * Partition columns derived from a timestamp column: `date(col)` (a `date` column named
 * `<col>_date`) and `hour(col)` (a `string` column `<col>_hour` holding 'YYYY-MM-DD-HH', UTC),
 * each optionally renamed with `as <name>`. The values are computed from the coerced Arrow
 * timestamps after the batch is built, so they follow exactly the value stored in the row.
 *
 * Invariants: a derived column is nullable and null exactly where its source is null; the
 * source must be a timestamp or timestamp_ntz column of the table.
 */
import type { DataType, StructField, StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';
import { type Data, makeData, RecordBatch, Struct, vectorFromArray } from 'apache-arrow';

export interface DerivedColumn {
  kind: 'date' | 'hour';
  source: string;
  name: string;
}

export interface PartitionSpec {
  /** Partition columns of the table, in order. */
  columns: string[];
  derived: DerivedColumn[];
}

const DERIVED = /^\s*(date|hour)\s*\(\s*([^()\s]+)\s*\)\s*(?:as\s+(\S+)\s*)?$/i;

/** Parses `--partition-by` entries: plain column names, `date(col)`, `hour(col) as h`. */
export function parsePartitionSpec(entries: readonly string[]): PartitionSpec {
  const columns: string[] = [];
  const derived: DerivedColumn[] = [];
  for (const entry of entries) {
    const m = DERIVED.exec(entry);
    if (m) {
      const kind = m[1]!.toLowerCase() as 'date' | 'hour';
      const source = m[2]!;
      const name = m[3] ?? `${source}_${kind}`;
      derived.push({ kind, source, name });
      columns.push(name);
    } else if (/^\s*[^()\s]+\s*$/.test(entry)) {
      columns.push(entry.trim());
    } else {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `partition column '${entry}' is not a column name, date(col) or hour(col) [as name]`,
        { details: { option: 'partitionBy', value: entry } },
      );
    }
  }
  return { columns, derived };
}

export function derivedField(d: DerivedColumn): StructField {
  const type: DataType = d.kind === 'date' ? { type: 'date' } : { type: 'string' };
  return { name: d.name, type, nullable: true, metadata: {} };
}

/** Checks each derived column's source is a timestamp column of `schema`. */
export function checkDerivedSources(
  schema: StructType,
  derived: readonly DerivedColumn[],
  table: string,
): void {
  for (const d of derived) {
    const source = schema.fields.find((f) => f.name === d.source);
    if (!source || (source.type.type !== 'timestamp' && source.type.type !== 'timestamp_ntz')) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `${table}: ${d.kind}(${d.source}) needs a timestamp column '${d.source}'${source ? `, not ${JSON.stringify(source.type.type)}` : ', and there is none'}`,
        { details: { table, column: d.source } },
      );
    }
  }
}

const MICROS_PER_DAY = 86_400_000_000n;

function pad(n: number, width = 2): string {
  return String(n).padStart(width, '0');
}

function hourText(micros: bigint): string {
  const d = new Date(Number(micros / 1000n) - (micros < 0n && micros % 1000n !== 0n ? 1 : 0));
  return `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}-${pad(d.getUTCHours())}`;
}

function floorDiv(a: bigint, b: bigint): bigint {
  const q = a / b;
  return a % b !== 0n && a < 0n ? q - 1n : q;
}

/** The batch with each derived column filled from its source timestamps. */
export function fillDerivedColumns(batch: RecordBatch, derived: readonly DerivedColumn[]): RecordBatch {
  if (derived.length === 0 || batch.numRows === 0) return batch;
  const children = [...batch.data.children] as Data[];
  const fields = batch.schema.fields;
  for (const d of derived) {
    const target = fields.findIndex((f) => f.name === d.name);
    const source = batch.getChild(d.source)?.data[0];
    if (target < 0 || !source) continue;
    const values = source.values as BigInt64Array;
    const out: (number | string | null)[] = new Array(batch.numRows);
    for (let i = 0; i < batch.numRows; i++) {
      if (!source.getValid(i)) {
        out[i] = null;
        continue;
      }
      const micros = values[i]!;
      out[i] = d.kind === 'date' ? Number(floorDiv(micros, MICROS_PER_DAY)) : hourText(micros);
    }
    const type = fields[target]!.type;
    const input =
      d.kind === 'date' ? out.map((v) => (v === null ? null : new Date((v as number) * 86_400_000))) : out;
    children[target] = vectorFromArray(input, type).data[0]!;
  }
  const struct = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(batch.schema, struct);
}
