/**
 * Table-level writes: create a table, append, overwrite it whole, or replace the partitions a
 * predicate selects (replaceWhere) — each as one transaction: data files are written first
 * (never referenced until the commit lands), then one commit adds them, removes what they
 * replace, and carries schema changes and an optional application transaction (`txn`) in the
 * same atomic step. After the commit, a checkpoint is written when the version is a multiple
 * of `delta.checkpointInterval`, followed by the expired log cleanup unless
 * `delta.enableExpiredLogCleanup` is 'false'; a failing checkpoint or cleanup never fails the write.
 */
import { randomUUID } from 'node:crypto';
import { type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch, Schema, Table } from 'apache-arrow';
import type { AddAction, MetadataAction } from '../actions/types.js';
import { columnsOf } from '../expr/ast.js';
import { type BoundPredicate, bindPredicate } from '../expr/bind.js';
import { filterBatch } from '../expr/filter-batch.js';
import { parsePredicate } from '../expr/parse.js';
import { evaluateOnValues } from '../expr/row.js';
import { writeCheckpoint } from '../log/checkpoint-writer.js';
import { cleanupExpiredLogs, expiredLogCleanupEnabled } from '../maintenance/log-cleanup.js';
import { arrowSchemaToDelta } from '../schema/arrow.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { serializeSchema } from '../schema/parse.js';
import { parsePartitionValue, type ScalarValue } from '../schema/partition-values.js';
import type { StructType } from '../schema/types.js';
import { loadSnapshot, type Snapshot } from '../snapshot/snapshot.js';
import { type CommitResult, Transaction } from '../txn/transaction.js';
import { DataFileWriter } from '../write/data-file-writer.js';
import { conformForWrite, reconcileSchema } from './schema-enforcement.js';
import { assertWritable, checkpointInterval, requiredProtocol, validateProperties } from './table-config.js';

export type WriteMode = 'append' | 'overwrite';

export interface WriteOptions {
  mode?: WriteMode;
  /** With mode 'overwrite': replace only the rows of partitions matching this predicate. */
  replaceWhere?: string;
  /** Partition columns, when the write creates the table. */
  partitionBy?: readonly string[];
  /** Table properties, when the write creates the table. */
  properties?: Readonly<Record<string, string>>;
  /** Add new columns / widen types instead of refusing data that does not fit. */
  mergeSchema?: boolean;
  /** Exactly-once: skip the write if the table already holds this appId at >= version. */
  appTransaction?: { appId: string; version: number };
  compression?: 'zstd' | 'snappy' | 'uncompressed';
  targetFileSize?: number;
  /** Worker threads that encode Parquet (default: one fewer than the cores, at most 4; 0: this thread). */
  encodeWorkers?: number;
  /** commitInfo.operation (default WRITE, or CREATE TABLE AS SELECT for a new table). */
  operation?: string;
  operationParameters?: Record<string, unknown>;
  /**
   * The checkpoint due after the commit (and the expired log cleanup after it): 'inline'
   * (default) runs it before `writeTable` returns; 'background' returns as soon as the commit
   * has landed, with `checkpointing` settling when it is done; 'off' skips it. Either way its
   * errors go to `onCheckpointError`, never to the write: the commit has already landed.
   */
  checkpoint?: 'inline' | 'background' | 'off';
  onCheckpointError?: (err: unknown) => void;
  /** Called as input batches are consumed. */
  onProgress?: (progress: { rows: number; batches: number }) => void;
  /** The snapshot to write against (defaults to the latest). */
  snapshot?: Snapshot;
  now?: () => number;
}

export interface WriteResult extends Partial<CommitResult> {
  /** The table version that holds the data (the new commit, or the existing one on skip). */
  version: number;
  /** True when `appTransaction` showed the data was already written: nothing committed. */
  skipped: boolean;
  files: readonly AddAction[];
  rows: number;
  /** With `checkpoint: 'background'`: settles (never rejects) when the post-commit checkpoint work is done. */
  checkpointing?: Promise<void>;
}

export type WriteInput = RecordBatch | Table | Iterable<RecordBatch> | AsyncIterable<RecordBatch>;

function isRecordBatch(x: unknown): x is RecordBatch {
  return (
    typeof x === 'object' && x !== null && 'numRows' in x && 'schema' in x && 'data' in x && !('batches' in x)
  );
}

async function* batchesOf(input: WriteInput): AsyncGenerator<RecordBatch> {
  if (isRecordBatch(input)) {
    yield input;
    return;
  }
  if (typeof input === 'object' && input !== null && 'batches' in input) {
    for (const b of (input as Table).batches) yield b;
    return;
  }
  for await (const b of input as AsyncIterable<RecordBatch>) yield b;
}

export async function tryLoadSnapshot(store: ObjectStore): Promise<Snapshot | undefined> {
  try {
    return await loadSnapshot(store);
  } catch (err) {
    if (err instanceof WeirError && err.code === 'NOT_A_DELTA_TABLE') return undefined;
    throw err;
  }
}

const ORPHAN_DATA_FILE = /^part-[0-9a-f-]{36}\.(zstd|snappy|uncompressed)\.parquet$/;

/** Hidden paths (a leading `_` or `.` in the first or last segment) that no Delta reader reads. */
function isHidden(key: string): boolean {
  const segments = key.split('/');
  return /^[_.]/.test(segments[0] ?? '') || /^[_.]/.test(segments.at(-1) ?? '');
}

/**
 * Refuses to create a table in a location that already holds objects but no Delta log (a
 * plain Parquet folder, another tool's data): adopting it would hide or mix foreign files.
 * Hidden objects (`_delta_log/`, a concurrent writer's conditional-write probe, `_SUCCESS`
 * markers, `.crc` files) are not data and do not make a location foreign.
 */
export async function assertEmptyLocation(store: ObjectStore): Promise<void> {
  for await (const meta of store.list('')) {
    // Weir data files left by a create that crashed before its first commit are not foreign.
    const name = meta.key.slice(meta.key.lastIndexOf('/') + 1);
    if (isHidden(meta.key) || ORPHAN_DATA_FILE.test(name)) continue;
    throw new WeirError(
      'NOT_A_DELTA_TABLE',
      `${store.root} is not a Delta table (no _delta_log/) but is not empty either (e.g. ${meta.key}); refusing to create a table there`,
      { details: { table: store.root, example: meta.key } },
    );
  }
}

export interface NewTableSpec {
  schema: StructType;
  partitionColumns: readonly string[];
  properties: Readonly<Record<string, string>>;
  name?: string;
  description?: string;
  now: number;
}

/** The metaData and protocol of a new table (validating partition columns and properties). */
export function newTableActions(table: string, spec: NewTableSpec) {
  validateProperties(table, spec.properties);
  const names = spec.schema.fields.map((f) => f.name);
  for (const p of spec.partitionColumns) {
    if (!names.includes(p)) {
      throw new WeirError(
        'UNKNOWN_COLUMN',
        `${table}: partition column ${p} is not in the schema (columns: ${names.join(', ')})`,
        {
          details: { table, column: p },
        },
      );
    }
    const type = spec.schema.fields.find((f) => f.name === p)!.type;
    if (type.type === 'struct' || type.type === 'array' || type.type === 'map' || type.type === 'binary') {
      throw new WeirError(
        'INVALID_PARTITION_COLUMN',
        `${table}: cannot partition by ${p} of type ${type.type}`,
        {
          details: { table, column: p },
        },
      );
    }
  }
  if (spec.partitionColumns.length > 0 && spec.partitionColumns.length === names.length) {
    throw new WeirError(
      'INVALID_PARTITION_COLUMN',
      `${table}: cannot partition by every column (no data columns left)`,
      {
        details: { table },
      },
    );
  }
  const metadata: MetadataAction = {
    id: randomUUID(),
    ...(spec.name !== undefined ? { name: spec.name } : {}),
    ...(spec.description !== undefined ? { description: spec.description } : {}),
    format: { provider: 'parquet', options: {} },
    schemaString: serializeSchema(spec.schema),
    partitionColumns: [...spec.partitionColumns],
    configuration: { ...spec.properties },
    createdTime: spec.now,
  };
  return { metadata, protocol: requiredProtocol(spec.schema, spec.properties) };
}

/** Runs the post-commit checkpoint when due, then the expired log cleanup. Never throws. */
export async function maybeCheckpoint(
  store: ObjectStore,
  version: number,
  configuration: Readonly<Record<string, string>>,
  snapshot: Snapshot | undefined,
  onError?: (err: unknown) => void,
): Promise<void> {
  if (version === 0 || version % checkpointInterval(configuration) !== 0) return;
  // A throwing callback must not turn this into a rejection (a background checkpoint's
  // promise is not awaited by anyone who could handle it).
  const report = (err: unknown) => {
    try {
      onError?.(err);
    } catch {
      // ignored: the error was offered to the caller
    }
  };
  try {
    const at = snapshot && snapshot.version === version ? snapshot : await loadSnapshot(store, { version });
    await writeCheckpoint(store, at);
  } catch (err) {
    report(err);
    return;
  }
  // Expired log cleanup runs after a checkpoint (delta.enableExpiredLogCleanup, default true).
  try {
    if (expiredLogCleanupEnabled(configuration)) await cleanupExpiredLogs(store, { configuration });
  } catch (err) {
    report(err);
  }
}

function partitionValuesOf(add: AddAction, snapshot: Snapshot): Map<string, ScalarValue> {
  const mode = columnMappingMode(snapshot.configuration);
  const physical = physicalSchema(snapshot.schema, mode);
  const out = new Map<string, ScalarValue>();
  snapshot.schema.fields.forEach((f, i) => {
    if (!snapshot.partitionColumns.includes(f.name)) return;
    const key = physical.fields[i]!.name;
    out.set(
      f.name,
      parsePartitionValue(add.partitionValues[key] ?? add.partitionValues[f.name] ?? null, f.type, {
        column: f.name,
      }),
    );
  });
  return out;
}

function bindReplaceWhere(
  table: string,
  text: string,
  schema: StructType,
  partitionColumns: readonly string[],
): BoundPredicate {
  const bound = bindPredicate(parsePredicate(text), schema);
  const nonPartition = columnsOf(bound).filter((p) => !partitionColumns.includes(p[0]!));
  if (nonPartition.length > 0) {
    throw new WeirError(
      'INVALID_REPLACE_WHERE',
      `${table}: replaceWhere may only use partition columns (${partitionColumns.join(', ') || 'the table has none'}); it uses ${nonPartition.map((p) => p.join('.')).join(', ')}`,
      { details: { table, columns: nonPartition.map((p) => p.join('.')) } },
    );
  }
  return bound;
}

/** Writes data to a table (creating it if needed) in one transaction. */
export async function writeTable(
  store: ObjectStore,
  input: WriteInput,
  options: WriteOptions = {},
): Promise<WriteResult> {
  const table = store.root;
  const now = options.now ?? Date.now;
  const mode = options.mode ?? 'append';
  if (options.replaceWhere !== undefined && mode !== 'overwrite') {
    throw new WeirError('INVALID_ARGUMENT', `${table}: replaceWhere needs mode 'overwrite'`, {
      details: { table },
    });
  }
  const batches = batchesOf(input);
  const first = await batches.next();
  const firstBatch = first.done ? undefined : first.value;
  const snapshot = options.snapshot ?? (await tryLoadSnapshot(store));

  if (options.appTransaction && snapshot) {
    const stored = snapshot.appTransactionVersion(options.appTransaction.appId);
    if (stored !== undefined && stored >= options.appTransaction.version) {
      return { version: snapshot.version, skipped: true, files: [], rows: 0 };
    }
  }

  let schema: StructType;
  let partitionColumns: readonly string[];
  let configuration: Readonly<Record<string, string>>;
  let metadataChange: MetadataAction | undefined;
  let protocolChange: ReturnType<typeof requiredProtocol> | undefined;
  const creating = snapshot === undefined;
  if (!snapshot) {
    await assertEmptyLocation(store);
    if (!firstBatch) {
      throw new WeirError(
        'EMPTY_INPUT',
        `${table} does not exist and the input has no batches to take a schema from`,
        {
          details: { table },
        },
      );
    }
    schema = arrowSchemaToDelta(firstBatch.schema);
    schema = { type: 'struct', fields: schema.fields.map((f) => ({ ...f, nullable: true })) };
    partitionColumns = options.partitionBy ?? [];
    const created = newTableActions(table, {
      schema,
      partitionColumns,
      properties: options.properties ?? {},
      now: now(),
    });
    metadataChange = created.metadata;
    protocolChange = created.protocol;
    configuration = created.metadata.configuration;
  } else {
    schema = snapshot.schema;
    partitionColumns = snapshot.partitionColumns;
    configuration = snapshot.configuration;
    if (options.partitionBy && options.partitionBy.join(',') !== partitionColumns.join(',')) {
      throw new WeirError(
        'PARTITIONING_MISMATCH',
        `${table} is partitioned by (${partitionColumns.join(', ')}), not (${options.partitionBy.join(', ')})`,
        { details: { table, tablePartitioning: [...partitionColumns], requested: [...options.partitionBy] } },
      );
    }
    assertWritable(table, snapshot.protocol, schema, configuration, { deletesData: mode === 'overwrite' });
  }

  const reconcile = (s: Schema) => {
    const r = reconcileSchema(table, schema, s, { mergeSchema: options.mergeSchema ?? false });
    if (r.changed) {
      schema = r.schema;
      const base = metadataChange ?? snapshot!.metadata;
      metadataChange = { ...base, schemaString: serializeSchema(schema) };
      const protocol = requiredProtocol(schema, configuration, protocolChange ?? snapshot?.protocol);
      const current = protocolChange ?? snapshot?.protocol;
      if (!current || JSON.stringify(protocol) !== JSON.stringify(current)) protocolChange = protocol;
    }
  };
  if (firstBatch) reconcile(firstBatch.schema);

  const replaceWhere =
    options.replaceWhere !== undefined
      ? bindReplaceWhere(table, options.replaceWhere, schema, partitionColumns)
      : undefined;
  const newWriter = () =>
    new DataFileWriter(store, {
      table,
      schema,
      partitionColumns,
      configuration,
      dataChange: true,
      ...(options.compression ? { compression: options.compression } : {}),
      ...(options.targetFileSize ? { targetFileSize: options.targetFileSize } : {}),
      ...(options.encodeWorkers !== undefined ? { encodeWorkers: options.encodeWorkers } : {}),
    });
  let writer = newWriter();
  const finished: AddAction[] = [];
  let rows = 0;
  let count = 0;
  const consume = async (batch: RecordBatch) => {
    const shaped = conformForWrite(batch, schema, table);
    if (replaceWhere) {
      const mask = filterBatch(replaceWhere, shaped, (path) => shaped.getChild(path[0]!)!);
      const bad = mask.indexOf(0);
      if (bad >= 0) {
        throw new WeirError(
          'REPLACE_WHERE_VIOLATION',
          `${table}: row ${rows + bad} of the input does not satisfy replaceWhere (${options.replaceWhere}); nothing was committed`,
          { details: { table, row: rows + bad } },
        );
      }
    }
    await writer.write(shaped);
    rows += shaped.numRows;
    count++;
    options.onProgress?.({ rows, batches: count });
  };
  let adds: AddAction[];
  try {
    if (firstBatch) await consume(firstBatch);
    for await (const batch of batches) {
      // A schema that changes mid-stream is reconciled too (mergeSchema adds its columns); the
      // files written so far keep the old schema (readers fill the new columns with nulls).
      // Every batch is checked (without mergeSchema an extra or mistyped column is refused).
      const before = schema;
      reconcile(batch.schema);
      if (schema !== before) {
        finished.push(...(await writer.close()));
        writer = newWriter();
      }
      await consume(batch);
    }
    adds = [...finished, ...(await writer.close())];
  } catch (err) {
    await writer.abort().catch(() => {});
    throw err;
  }

  const operation = options.operation ?? (creating ? 'CREATE TABLE AS SELECT' : 'WRITE');
  const txnBase = snapshot;
  const txn = txnBase
    ? new Transaction(store, txnBase, {
        operation,
        operationParameters: {
          mode: mode === 'overwrite' ? 'Overwrite' : 'Append',
          partitionBy: JSON.stringify(partitionColumns),
          ...(options.replaceWhere !== undefined
            ? { predicate: JSON.stringify([options.replaceWhere]) }
            : {}),
          ...options.operationParameters,
        },
        now,
      })
    : undefined;
  if (!txn) {
    const result = await commitNewTable(store, {
      metadata: metadataChange!,
      protocol: protocolChange!,
      adds,
      operation,
      partitionColumns,
      now,
      ...(options.appTransaction ? { appTransaction: options.appTransaction } : {}),
    });
    return { ...result, skipped: false, files: adds, rows };
  }
  if (metadataChange) txn.updateMetadata(metadataChange);
  if (protocolChange) txn.updateProtocol(protocolChange);
  if (options.appTransaction) {
    txn.readAppTransaction(options.appTransaction.appId);
    txn.setAppTransaction(options.appTransaction.appId, options.appTransaction.version);
  }
  if (mode === 'overwrite') {
    if (replaceWhere) {
      const replaced = txnBase!
        .files()
        .filter(
          (f) => evaluateOnValues(replaceWhere, (p) => partitionValuesOf(f, txnBase!).get(p[0]!)) === true,
        );
      txn.readsWhere(replaceWhere, replaced).removeAdds(replaced);
    } else {
      txn.readsWholeTable().removeAdds(txnBase!.files());
    }
  }
  txn.addFiles(adds);
  const result = await txn.commit();
  if (options.checkpoint !== 'off') {
    // Committed directly on top of what we read: the post-commit snapshot needs no IO.
    const after =
      result.rebasedOver.length === 0 && txnBase
        ? txnBase.withCommit(result.version, result.actions, result.timestamp)
        : undefined;
    const checkpointing = maybeCheckpoint(
      store,
      result.version,
      metadataChange?.configuration ?? configuration,
      after,
      options.onCheckpointError,
    );
    if (options.checkpoint === 'background') {
      return { ...result, skipped: false, files: adds, rows, checkpointing };
    }
    await checkpointing;
  }
  return { ...result, skipped: false, files: adds, rows };
}

/** Commits version 0 of a new table; losing the race to another creator is a conflict. */
async function commitNewTable(
  store: ObjectStore,
  spec: {
    metadata: MetadataAction;
    protocol: ReturnType<typeof requiredProtocol>;
    adds: AddAction[];
    operation: string;
    partitionColumns: readonly string[];
    appTransaction?: { appId: string; version: number };
    now: () => number;
  },
): Promise<CommitResult> {
  const txn = Transaction.forNewTable(store, {
    operation: spec.operation,
    operationParameters: { mode: 'ErrorIfExists', partitionBy: JSON.stringify(spec.partitionColumns) },
    now: spec.now,
  });
  txn.updateProtocol(spec.protocol).updateMetadata(spec.metadata).addFiles(spec.adds);
  if (spec.appTransaction) txn.setAppTransaction(spec.appTransaction.appId, spec.appTransaction.version);
  return txn.commit();
}
