/**
 * Scan execution: reads the files of a ScanPlan into Arrow record batches of the logical
 * schema. One row group is decoded at a time and the next files are fetched ahead on a small
 * window, so memory is bounded by (window x file size) + one decoded row group, whatever the
 * table size. Per batch: conform physical columns to logical types, add partition columns as
 * typed constants, drop rows deleted by the file's deletion vector, apply the row predicate,
 * project.
 */

import { type ObjectStore, WeirError } from '@weir/storage';
import { type Data, type DataType, Field, makeData, RecordBatch, Schema, Struct, Table } from 'apache-arrow';
import { filterBatch } from '../expr/evaluate.js';
import { bytesSource, openParquetBlob, type ParquetBlobReader } from '../parquet/wasm.js';
import { deltaTypeToArrow } from '../schema/arrow.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { constantData, selectedRows, takeData } from './arrow-kernels.js';
import { conformData, findSourceChild } from './conform.js';
import { type DeletedRows, loadDeletionVector } from './deletion-vector.js';
import { planScan, type ScanFile, type ScanOptions, type ScanPlan } from './scan-plan.js';

export interface ExecuteOptions {
  /** Files fetched ahead of the one being decoded. */
  prefetch?: number;
  signal?: AbortSignal;
}

function arrowFieldFor(plan: ScanPlan, name: string): Field {
  const f = plan.tableSchema.fields.find((x) => x.name === name)!;
  return new Field(name, deltaTypeToArrow(f.type), f.nullable);
}

/** The Arrow schema of the scan's output. */
export function scanOutputSchema(plan: ScanPlan): Schema {
  return new Schema(plan.outputColumns.map((c) => arrowFieldFor(plan, c)));
}

function readError(plan: ScanPlan, file: ScanFile, cause: unknown): WeirError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new WeirError(
    'CORRUPT_DATA_FILE',
    `${plan.table} (version ${plan.version}): cannot read data file ${file.key}: ${reason}`,
    { cause, details: { table: plan.table, version: plan.version, file: file.key } },
  );
}

/** The error for a data file the log references but the store lacks (vacuumed or deleted). */
export function missingDataFileError(plan: ScanPlan, file: ScanFile, cause: unknown): WeirError {
  return new WeirError(
    'MISSING_DATA_FILE',
    `${plan.table} (version ${plan.version}) references ${file.key}, which does not exist (vacuumed or deleted?)`,
    { cause, details: { table: plan.table, version: plan.version, file: file.key } },
  );
}

async function fetchFile(store: ObjectStore, plan: ScanPlan, file: ScanFile): Promise<Uint8Array> {
  try {
    return await store.get(file.key);
  } catch (err) {
    if (err instanceof WeirError && err.code === 'NOT_FOUND') throw missingDataFileError(plan, file, err);
    throw err;
  }
}

export async function* executeScan(
  store: ObjectStore,
  plan: ScanPlan,
  options: ExecuteOptions = {},
): AsyncGenerator<RecordBatch> {
  const prefetch = Math.max(1, options.prefetch ?? 4);
  const outputSchema = scanOutputSchema(plan);
  const readFields = plan.readColumns.map((c) => arrowFieldFor(plan, c));
  const readSchema = new Schema(readFields);
  let remaining = plan.limit ?? Number.POSITIVE_INFINITY;
  if (remaining <= 0) return;

  const inflight: Promise<Uint8Array>[] = [];
  let next = 0;
  const fill = () => {
    while (inflight.length < prefetch && next < plan.files.length) {
      const p = fetchFile(store, plan, plan.files[next++]!);
      p.catch(() => {}); // surfaced when awaited in order
      inflight.push(p);
    }
  };
  fill();
  for (let fi = 0; fi < plan.files.length; fi++) {
    options.signal?.throwIfAborted();
    const file = plan.files[fi]!;
    const bytes = await inflight.shift()!;
    fill();
    const deleted = file.add.deletionVector
      ? await loadDeletionVector(store, file.add.deletionVector, {
          tableRoot: plan.table,
          dataFile: file.key,
        })
      : undefined;
    // Each row group decodes from its own byte ranges of the fetched bytes: WebAssembly memory
    // holds one row group's column chunks, not a copy of the whole file per row group.
    let reader: ParquetBlobReader;
    try {
      reader = await openParquetBlob(bytesSource(bytes));
    } catch (err) {
      throw readError(plan, file, err);
    }
    try {
      let fileRow = 0;
      for (let rg = 0; rg < reader.rowGroups.length; rg++) {
        let decoded: Table;
        try {
          decoded = await reader.read(rg);
        } catch (err) {
          throw readError(plan, file, err);
        }
        for (const batch of decoded.batches) {
          const out = processBatch(plan, file, batch, fileRow, deleted, readSchema, outputSchema);
          fileRow += batch.numRows;
          if (!out || out.numRows === 0) continue;
          if (out.numRows >= remaining) {
            yield out.slice(0, remaining);
            return;
          }
          remaining -= out.numRows;
          yield out;
        }
      }
    } finally {
      reader.free();
    }
  }
}

function processBatch(
  plan: ScanPlan,
  file: ScanFile,
  batch: RecordBatch,
  fileRow: number,
  deleted: DeletedRows | undefined,
  readSchema: Schema,
  outputSchema: Schema,
): RecordBatch | undefined {
  const length = batch.numRows;
  const sourceFields = batch.schema.fields;
  const columns = new Map<string, Data<DataType>>();
  for (const field of readSchema.fields) {
    const name = field.name;
    const type = field.type as DataType;
    if (plan.partitionColumns.has(name)) {
      columns.set(name, constantData(type, (file.partitionValues.get(name) ?? null) as never, length));
      continue;
    }
    const idx = plan.tableSchema.fields.findIndex((f) => f.name === name);
    const physicalField = plan.physicalSchema.fields[idx]!;
    const byFieldId = plan.columnMapping === 'id';
    const sourceIdx = findSourceChild(sourceFields, physicalField, byFieldId);
    if (sourceIdx < 0) {
      columns.set(name, constantData(type, null, length));
      continue;
    }
    const source = batch.getChildAt(sourceIdx)!.data[0] as Data<DataType>;
    columns.set(
      name,
      conformData(source, physicalField.type, type, {
        table: plan.table,
        file: file.key,
        column: name,
        ...(byFieldId ? { byFieldId } : {}),
      }),
    );
  }
  let mask: Uint8Array | undefined;
  if (deleted && deleted.cardinality > 0) {
    mask = deleted.selectionVector(length, fileRow);
  }
  if (plan.predicate) {
    const full = makeBatch(
      readSchema,
      plan.readColumns.map((c) => columns.get(c)!),
      length,
    );
    const matches = filterBatch(plan.predicate, full, (path) => full.getChild(path[0]!)!);
    if (mask) for (let i = 0; i < length; i++) mask[i] = mask[i]! & (matches[i] ? 1 : 0);
    else mask = matches instanceof Uint8Array ? matches : Uint8Array.from(matches as ArrayLike<number>);
  }
  let outColumns = plan.outputColumns.map((c) => columns.get(c)!);
  let outLength = length;
  if (mask) {
    const rows = selectedRows(mask);
    if (rows.length === 0) return undefined;
    if (rows.length !== length) {
      outColumns = outColumns.map((d) => takeData(d, rows));
      outLength = rows.length;
    }
  }
  return makeBatch(outputSchema, outColumns, outLength);
}

function makeBatch(schema: Schema, children: Data<DataType>[], length: number): RecordBatch {
  const data = makeData({ type: new Struct(schema.fields), length, nullCount: 0, children });
  return new RecordBatch(schema, data);
}

/** Plans and executes a scan of a snapshot. */
export function scanSnapshot(
  store: ObjectStore,
  snapshot: Snapshot,
  options: ScanOptions & ExecuteOptions = {},
): AsyncGenerator<RecordBatch> {
  return executeScan(store, planScan(snapshot, options), options);
}

/** Collects a scan into one Arrow table (for small results and tests). */
export async function scanToTable(
  store: ObjectStore,
  snapshot: Snapshot,
  options: ScanOptions & ExecuteOptions = {},
): Promise<Table> {
  const plan = planScan(snapshot, options);
  const batches: RecordBatch[] = [];
  for await (const b of executeScan(store, plan, options)) batches.push(b);
  return batches.length > 0 ? new Table(batches) : new Table(scanOutputSchema(plan));
}
