/**
 * The ingest's tables: the main table (created on start from a given schema, or later from an
 * inferred one) and the dead-letter table. Creation is race-safe across ingest processes: the
 * first creator wins and everyone then uses the table as it is in storage.
 *
 * Invariants: the main table's schema always holds the metadata columns the ingest fills and
 * the derived partition columns (added to a given or inferred schema when the table is made);
 * an existing table that lacks a requested metadata column is refused with an error naming it,
 * never silently filled with nulls; metadata columns an existing table has are always filled.
 */
import {
  createTable,
  inferSchema,
  loadSnapshot,
  type Snapshot,
  type StructField,
  type StructType,
} from '@weir/delta';
import { type ObjectStore, WeirError } from '@weir/storage';
import { DEAD_LETTER_SCHEMA } from '../decode/dead-letter.js';
import {
  checkDerivedSources,
  type DerivedColumn,
  derivedField,
  type PartitionSpec,
} from '../decode/derived-columns.js';
import { METADATA_COLUMNS, type MetadataColumn, metadataFields } from '../decode/metadata-columns.js';

export interface TableLayout {
  metadataColumns: readonly MetadataColumn[];
  metadataPrefix: string;
  partition: PartitionSpec;
  properties: Readonly<Record<string, string>>;
}

/** The latest snapshot, or undefined when there is no table at the location. */
export async function tryLoad(store: ObjectStore): Promise<Snapshot | undefined> {
  try {
    return await loadSnapshot(store);
  } catch (err) {
    if (err instanceof WeirError && err.code === 'NOT_A_DELTA_TABLE') return undefined;
    throw err;
  }
}

/** The table schema for a payload schema: payload fields + metadata columns + derived columns. */
export function tableSchema(payload: StructType, layout: TableLayout): StructType {
  const names = new Set(payload.fields.map((f) => f.name));
  const extra: StructField[] = [];
  for (const f of metadataFields(layout.metadataColumns, layout.metadataPrefix))
    if (!names.has(f.name)) extra.push(f);
  for (const d of layout.partition.derived) if (!names.has(d.name)) extra.push(derivedField(d));
  return { type: 'struct', fields: [...payload.fields, ...extra] };
}

export async function createMainTable(
  store: ObjectStore,
  payload: StructType,
  layout: TableLayout,
): Promise<Snapshot> {
  const schema = tableSchema(payload, layout);
  checkDerivedSources(schema, layout.partition.derived, store.root);
  for (const c of layout.partition.columns) {
    if (!schema.fields.some((f) => f.name === c)) {
      throw new WeirError('INVALID_ARGUMENT', `${store.root}: partition column '${c}' is not in the schema`, {
        details: { table: store.root, column: c },
      });
    }
  }
  await createTable(store, {
    schema,
    partitionColumns: layout.partition.columns,
    properties: layout.properties,
    ifExists: 'ignore',
  });
  return loadSnapshot(store);
}

/** Payload schema inferred from sample records (ISO text becomes timestamps/dates). */
export function inferPayloadSchema(records: readonly Record<string, unknown>[], table: string): StructType {
  if (records.length === 0) {
    throw new WeirError('SCHEMA_INFERENCE_FAILED', `${table}: no decodable message to infer a schema from`, {
      details: { table },
    });
  }
  return inferSchema(records, { detectTimestamps: true });
}

export interface ResolvedLayout {
  metadataColumns: MetadataColumn[];
  derived: DerivedColumn[];
}

/** What an existing table needs filled: requested metadata columns (checked) plus any it has. */
export function resolveLayout(snapshot: Snapshot, layout: TableLayout): ResolvedLayout {
  const fields = new Map(snapshot.schema.fields.map((f) => [f.name, f]));
  for (const c of layout.metadataColumns) {
    if (!fields.has(`${layout.metadataPrefix}${c}`)) {
      throw new WeirError(
        'SCHEMA_MISMATCH',
        `${snapshot.table}: metadata column '${layout.metadataPrefix}${c}' was asked for but the table (version ${snapshot.version}) has no such column`,
        {
          details: {
            table: snapshot.table,
            version: snapshot.version,
            column: `${layout.metadataPrefix}${c}`,
          },
        },
      );
    }
  }
  const metadataColumns = METADATA_COLUMNS.filter((c) => fields.has(`${layout.metadataPrefix}${c}`));
  const derived = layout.partition.derived.filter((d) => fields.has(d.name));
  checkDerivedSources(snapshot.schema, derived, snapshot.table);
  return { metadataColumns, derived };
}

/** Opens or creates the dead-letter table; refuses a table of another shape. */
export async function ensureDeadLetterTable(store: ObjectStore): Promise<void> {
  const existing = await tryLoad(store);
  if (!existing) {
    await createTable(store, { schema: DEAD_LETTER_SCHEMA, ifExists: 'ignore', name: 'weir dead letters' });
    return;
  }
  const have = new Set(existing.schema.fields.map((f) => f.name));
  const missing = DEAD_LETTER_SCHEMA.fields.filter((f) => !have.has(f.name)).map((f) => f.name);
  if (missing.length > 0) {
    throw new WeirError(
      'SCHEMA_MISMATCH',
      `${existing.table}: not a dead-letter table (version ${existing.version} lacks ${missing.join(', ')})`,
      { details: { table: existing.table, version: existing.version, missing } },
    );
  }
}
