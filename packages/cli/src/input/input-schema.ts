/**
 * Which Delta schema NDJSON or CSV records are built into, for `weir write`:
 * - `--schema` given: that schema (the table then reconciles it: enforcement or mergeSchema);
 * - else an existing table: the table's schema, extended (only with --merge-schema or
 *   --infer-schema) by the columns and nested struct fields the sampled records have and the
 *   table lacks, with inferred types;
 * - else a new table: `--infer-schema` infers it from the sampled records, otherwise it is
 *   an error saying how to create the table.
 *
 * CSV cells are text: for inference each sampled cell is typed by its text (true/false ->
 * boolean, integer text -> integer, number text -> double, else string) and a column whose
 * cells disagree (e.g. "12" and "n/a") stays string. Pure.
 */
import { type DataType, inferSchema, type StructField, type StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';

/** How many records `--infer-schema` (and --merge-schema) looks at. */
export const INFER_SAMPLE_RECORDS = 1000;

const INT_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;

type CellKind = 'boolean' | 'number' | 'string';

function typedCell(text: string): { kind: CellKind; value: unknown } {
  const t = text.trim();
  if (/^(?:true|false)$/i.test(t)) return { kind: 'boolean', value: t.toLowerCase() === 'true' };
  if (INT_TEXT.test(t)) {
    const n = Number(t);
    return { kind: 'number', value: Number.isSafeInteger(n) ? n : BigInt(t) };
  }
  if (NUMBER_TEXT.test(t)) return { kind: 'number', value: Number(t) };
  return { kind: 'string', value: text };
}

/** CSV sample rows (cells as text or null) -> values typed for `inferSchema`. */
export function typeCsvSamples(
  rows: readonly Record<string, string | null>[],
  columns: readonly string[],
): Record<string, unknown>[] {
  const kinds = new Map<string, Set<CellKind>>(columns.map((c) => [c, new Set()]));
  const typed = rows.map((row) => {
    const out: Record<string, unknown> = {};
    for (const c of columns) {
      const text = row[c];
      if (text === null || text === undefined) {
        out[c] = null;
        continue;
      }
      const cell = typedCell(text);
      kinds.get(c)!.add(cell.kind);
      out[c] = cell.value;
    }
    return out;
  });
  // A column whose cells do not agree on a kind stays text.
  for (const c of columns) {
    if (kinds.get(c)!.size <= 1) continue;
    typed.forEach((out, i) => {
      if (out[c] !== null) out[c] = rows[i]![c];
    });
  }
  return typed;
}

function inferFrom(samples: readonly unknown[], file: string): StructType {
  try {
    return inferSchema(samples, { detectTimestamps: true });
  } catch (err) {
    if (err instanceof WeirError) {
      throw new WeirError(err.code, `${file}: cannot infer a schema: ${err.message}`, {
        details: { ...err.details, file },
      });
    }
    throw err;
  }
}

/** `base` plus the fields (and nested struct fields) of `extra` it lacks (case-insensitive). */
export function extendSchema(base: StructType, extra: StructType): StructType {
  let changed = false;
  const fields: StructField[] = base.fields.map((f) => {
    const other = extra.fields.find((e) => e.name.toLowerCase() === f.name.toLowerCase());
    if (other && f.type.type === 'struct' && other.type.type === 'struct') {
      const merged = extendSchema(f.type, other.type);
      if (merged !== f.type) {
        changed = true;
        return { ...f, type: merged as DataType };
      }
    }
    return f;
  });
  for (const e of extra.fields) {
    if (!base.fields.some((f) => f.name.toLowerCase() === e.name.toLowerCase())) {
      fields.push({ ...e, nullable: true });
      changed = true;
    }
  }
  return changed ? { type: 'struct', fields } : base;
}

export interface RecordSchemaSpec {
  table: string;
  file: string;
  /** The table's schema, when the table exists. */
  tableSchema: StructType | undefined;
  /** The --schema value, parsed. */
  schemaArg: StructType | undefined;
  inferSchema: boolean;
  mergeSchema: boolean;
  /** Sampled records, typed for inference (see `typeCsvSamples`); only read when needed. */
  samples: () => Promise<readonly unknown[]>;
}

export async function resolveRecordSchema(spec: RecordSchemaSpec): Promise<StructType> {
  if (spec.schemaArg) return spec.schemaArg;
  if (spec.tableSchema) {
    if (!spec.mergeSchema && !spec.inferSchema) return spec.tableSchema;
    const samples = await spec.samples();
    if (samples.length === 0) return spec.tableSchema;
    return extendSchema(spec.tableSchema, inferFrom(samples, spec.file));
  }
  if (!spec.inferSchema) {
    throw new WeirError(
      'NOT_A_DELTA_TABLE',
      `${spec.table} is not a Delta table; to create it from ${spec.file}, give --schema <file.json|DDL> or --infer-schema`,
      { details: { table: spec.table, file: spec.file } },
    );
  }
  const samples = await spec.samples();
  if (samples.length === 0) {
    throw new WeirError(
      'EMPTY_INPUT',
      `${spec.file} has no records to infer a schema from; give --schema to create ${spec.table}`,
      { details: { table: spec.table, file: spec.file } },
    );
  }
  return inferFrom(samples, spec.file);
}
