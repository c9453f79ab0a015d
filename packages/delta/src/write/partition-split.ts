/**
 * Splits an Arrow RecordBatch of a table's rows (logical schema, partition columns included) into
 * one group per distinct combination of partition values: the serialized partition values (as
 * `add.partitionValues` holds them), the partition directory, and the group's rows without the
 * partition columns.
 *
 * Invariants:
 * - Partition values are serialized by `serializePartitionValue` (PROTOCOL.md "Partition Value
 *   Serialization"); keys, and the column names in the directory, are physical names when column
 *   mapping is on. An empty string (or empty binary) is the null partition, like Spark: it lands
 *   in the same group and directory (`__HIVE_DEFAULT_PARTITION__`) as a null.
 * - The directory is `partitionPath` (Spark's escaping, e.g. ':' -> '%3A'): the storage path. It
 *   is not URI-encoded; `add.path` encodes it (see data-file-path.ts).
 * - Groups come in order of their first row; rows keep their order within a group.
 * - One pass per partition column assigns each row a small integer code per column (a Map lookup
 *   on the raw value; strings are decoded once per row, the only per-row allocation), then one pass
 *   combines codes into a group. Values are read from Arrow buffers, never `Vector.get`.
 * - An unpartitioned table, or a batch whose rows all share one partition, is returned without
 *   copying its data columns.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  type Data,
  type Field,
  makeData,
  RecordBatch,
  Schema,
  Struct,
} from 'apache-arrow';
import { decimalWordsToBigInt } from '../log/arrow-plain.js';
import { takeData } from '../scan/arrow-kernels.js';
import { findChildIndex } from '../scan/conform.js';
import { type ColumnMappingMode, physicalName } from '../schema/column-mapping.js';
import { partitionPath, type ScalarValue, serializePartitionValue } from '../schema/partition-values.js';
import type { DataType, StructField, StructType } from '../schema/types.js';

export interface PartitionLayout {
  /** The table's name or location, for errors. */
  table: string;
  /** The table's logical schema, partition columns included. */
  schema: StructType;
  partitionColumns: readonly string[];
  columnMapping: ColumnMappingMode;
}

export interface PartitionGroup {
  /** `add.partitionValues`: physical column name -> serialized value (null for null). */
  partitionValues: Record<string, string | null>;
  /** 'a=1/b=__HIVE_DEFAULT_PARTITION__/' (escaped, not URI-encoded); '' when unpartitioned. */
  directory: string;
  /** The group's rows, data columns only. */
  batch: RecordBatch;
}

interface PartitionColumn {
  field: StructField;
  physical: string;
}

type AnyData = Data<ArrowType>;

function isValid(data: AnyData, i: number): boolean {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0) return true;
  const pos = data.offset + i;
  return ((bitmap[pos >> 3]! >> (pos & 7)) & 1) === 1;
}

/** A Map key standing for the row's value (equal keys <=> equal values), and the value itself. */
function keyAt(type: DataType, data: AnyData, i: number, latin1: Buffer | undefined): unknown {
  switch (type.type) {
    case 'long':
    case 'timestamp':
    case 'timestamp_ntz':
      return (data.values as BigInt64Array)[i]!;
    case 'decimal':
      return decimalWordsToBigInt(data.values as unknown as Uint32Array, i * data.stride, data.stride * 32);
    case 'boolean': {
      const pos = data.offset + i;
      return (((data.values as Uint8Array)[pos >> 3]! >> (pos & 7)) & 1) === 1;
    }
    case 'string':
    case 'binary': {
      const offsets = data.valueOffsets as Int32Array;
      const start = offsets[i]!;
      const end = offsets[i + 1]!;
      if (start === end) return null; // '' is the null partition
      return type.type === 'string'
        ? latin1!.toString('utf8', start, end)
        : latin1!.toString('latin1', start, end);
    }
    default:
      return (data.values as unknown as ArrayLike<number>)[i]!;
  }
}

function scalarOf(type: DataType, key: unknown): ScalarValue {
  if (type.type === 'binary') return new Uint8Array(Buffer.from(key as string, 'latin1'));
  return key as ScalarValue;
}

/**
 * Assigns each row a code (0 = null, then 1.. in order of first appearance) for one partition
 * column, and returns the distinct values by code.
 */
function columnCodes(type: DataType, data: AnyData, codes: Int32Array): unknown[] {
  const seen = new Map<unknown, number>();
  const values: unknown[] = [null];
  const bytes = data.values as Uint8Array | undefined;
  const latin1 =
    (type.type === 'string' || type.type === 'binary') && bytes
      ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)
      : undefined;
  for (let i = 0; i < codes.length; i++) {
    if (!isValid(data, i)) {
      codes[i] = 0;
      continue;
    }
    const key = keyAt(type, data, i, latin1);
    if (key === null) {
      codes[i] = 0;
      continue;
    }
    let code = seen.get(key);
    if (code === undefined) {
      code = values.length;
      seen.set(key, code);
      values.push(key);
    }
    codes[i] = code;
  }
  return values;
}

function schemaError(table: string, column: string, why: string): WeirError {
  return new WeirError('SCHEMA_MISMATCH', `${table}: partition column ${column} ${why}`, {
    details: { table, column },
  });
}

/** Splits batches of one table by partition (see the module header). */
export class PartitionSplitter {
  private readonly columns: PartitionColumn[];
  private readonly layout: PartitionLayout;

  constructor(layout: PartitionLayout) {
    this.layout = layout;
    this.columns = layout.partitionColumns.map((name) => {
      const field =
        layout.schema.fields.find((f) => f.name === name) ??
        layout.schema.fields.find((f) => f.name.toLowerCase() === name.toLowerCase());
      if (!field) throw schemaError(layout.table, name, 'is not in the table schema');
      return { field, physical: physicalName(field, layout.columnMapping, field.name) };
    });
  }

  split(batch: RecordBatch): PartitionGroup[] {
    if (this.columns.length === 0) return [{ partitionValues: {}, directory: '', batch }];
    const { table } = this.layout;
    const fields = batch.schema.fields;
    const children = batch.data.children as AnyData[];
    const partIndexes = this.columns.map((c) => {
      const i = findChildIndex(fields, c.field.name);
      if (i < 0) throw schemaError(table, c.field.name, 'is missing from the batch');
      return i;
    });
    const isPart = new Set(partIndexes);
    const dataIdx = fields.map((_, i) => i).filter((i) => !isPart.has(i));
    const n = batch.numRows;

    // One pass per partition column: codes and distinct values.
    const codes: Int32Array[] = [];
    const distinct: unknown[][] = [];
    this.columns.forEach((c, k) => {
      const col = new Int32Array(n);
      distinct.push(columnCodes(c.field.type, children[partIndexes[k]!]!, col));
      codes.push(col);
    });

    // Combine per-row codes into group numbers (a number key while the product fits, else text).
    let radix = 1;
    for (const d of distinct) radix *= d.length;
    const numeric = radix <= Number.MAX_SAFE_INTEGER;
    const groupOf = new Int32Array(n);
    const groupIds = new Map<number | string, number>();
    const firstRow: number[] = [];
    for (let i = 0; i < n; i++) {
      let key: number | string;
      if (numeric) {
        key = 0;
        for (let k = 0; k < codes.length; k++) key = key * distinct[k]!.length + codes[k]![i]!;
      } else key = codes.map((c) => c[i]).join(',');
      let g = groupIds.get(key);
      if (g === undefined) {
        g = firstRow.length;
        groupIds.set(key, g);
        firstRow.push(i);
      }
      groupOf[i] = g;
    }

    // Rows of each group.
    const counts = new Int32Array(firstRow.length);
    for (let i = 0; i < n; i++) counts[groupOf[i]!]!++;
    const rows = Array.from(counts, (c) => new Int32Array(c));
    const fill = new Int32Array(firstRow.length);
    for (let i = 0; i < n; i++) {
      const g = groupOf[i]!;
      rows[g]![fill[g]!++] = i;
    }

    const dataFields = dataIdx.map((i) => fields[i]!);
    const schema = new Schema(dataFields, batch.schema.metadata);
    const type = new Struct(dataFields as Field[]);
    return firstRow.map((row, g) => {
      const partitionValues: Record<string, string | null> = {};
      const dirColumns: { name: string; value: string | null }[] = [];
      this.columns.forEach((c, k) => {
        const raw = distinct[k]![codes[k]![row]!];
        const value =
          raw === null || raw === undefined
            ? null
            : serializePartitionValue(scalarOf(c.field.type, raw), c.field.type, {
                column: c.field.name,
                table,
              });
        partitionValues[c.physical] = value;
        dirColumns.push({ name: c.physical, value });
      });
      const whole = firstRow.length === 1;
      const groupRows = rows[g]!;
      const columns = dataIdx.map((i) => (whole ? children[i]! : takeData(children[i]!, groupRows)));
      const data = makeData({ type, length: groupRows.length, nullCount: 0, children: columns });
      return { partitionValues, directory: partitionPath(dirColumns), batch: new RecordBatch(schema, data) };
    });
  }
}

/** One-shot `PartitionSplitter.split`. */
export function splitByPartition(batch: RecordBatch, layout: PartitionLayout): PartitionGroup[] {
  return new PartitionSplitter(layout).split(batch);
}
