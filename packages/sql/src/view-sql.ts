/**
 * The SQL of the DuckDB view that serves one Delta snapshot: the table's columns in table order,
 * under their logical names and Delta types, over exactly the chosen data files.
 *
 * Shape (pure text; nothing here touches DuckDB):
 *
 *   SELECT <conv(f."phys_a")> AS "a", ..., f."__weir_p0" AS "p", ...
 *   FROM (
 *     SELECT COLUMNS(lambda c: lower(c) NOT IN (<partition physical names>)),
 *            <typed literal> AS "__weir_p0", ...
 *     FROM read_parquet([<files of one partition tuple>], union_by_name = true, hive_partitioning = false)
 *     UNION ALL BY NAME
 *     SELECT ... (one branch per distinct partition tuple)
 *   ) AS f
 *
 * Invariants:
 * - Partition values come from the log (typed literals per branch), never from paths: Hive
 *   partitioning is off, and a partition column a writer also stored in the file is dropped.
 * - union_by_name / UNION ALL BY NAME fill a column a file lacks with NULL (schema evolution);
 *   a column no file has is `CAST(NULL AS T)` (the caller says which are present).
 * - conv() casts to the Delta type (struct casts match fields by name, filling missing ones
 *   with NULL); where column mapping renames nested fields it first casts to the physical type
 *   and then rebuilds structs (struct_pack), lists (list_transform) and maps (map_from_entries)
 *   under logical names, keeping NULLs NULL.
 * - No files: a zero-row SELECT of typed NULLs.
 */
import type { DataType, ScalarValue, StructType } from '@weir/delta';
import { duckType, quoteIdent, sqlLiteral, sqlString } from './duck-types.js';

export interface FileGroup {
  /** Typed partition values by logical column name. */
  partitionValues: ReadonlyMap<string, ScalarValue>;
  /** Local paths of the data files sharing these partition values. */
  paths: readonly string[];
}

export interface ViewSource {
  /** The logical schema (all columns, table order). */
  schema: StructType;
  /** The physical schema (names as in the files), structurally parallel to `schema`. */
  physical: StructType;
  partitionColumns: ReadonlySet<string>;
  groups: readonly FileGroup[];
  /**
   * Lower-cased physical top-level names present in at least one file; absent means assume
   * every column is present.
   */
  presentColumns?: ReadonlySet<string>;
}

/** The name a branch gives the i-th partition column (never a Delta column name in practice). */
export function partitionAlias(i: number): string {
  return `__weir_p${i}`;
}

function sameNames(a: DataType, b: DataType): boolean {
  switch (a.type) {
    case 'struct': {
      const s = b as StructType;
      return a.fields.every((f, i) => f.name === s.fields[i]!.name && sameNames(f.type, s.fields[i]!.type));
    }
    case 'array':
      return sameNames(a.elementType, (b as typeof a).elementType);
    case 'map': {
      const m = b as typeof a;
      return sameNames(a.keyType, m.keyType) && sameNames(a.valueType, m.valueType);
    }
    default:
      return true;
  }
}

/** `expr` (already of the physical type) rebuilt under logical names. */
function rename(expr: string, logical: DataType, physical: DataType, depth: number): string {
  if (sameNames(logical, physical)) return expr;
  const v = `__weir_x${depth}`;
  switch (logical.type) {
    case 'struct': {
      const p = physical as StructType;
      const fields = logical.fields.map((f, i) => {
        const pf = p.fields[i]!;
        const child = rename(`struct_extract(${expr}, ${sqlString(pf.name)})`, f.type, pf.type, depth + 1);
        return `${quoteIdent(f.name)} := ${child}`;
      });
      return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE struct_pack(${fields.join(', ')}) END`;
    }
    case 'array': {
      const p = physical as typeof logical;
      return `list_transform(${expr}, lambda ${v}: ${rename(v, logical.elementType, p.elementType, depth + 1)})`;
    }
    case 'map': {
      const p = physical as typeof logical;
      const key = rename(`struct_extract(${v}, 'key')`, logical.keyType, p.keyType, depth + 1);
      const value = rename(`struct_extract(${v}, 'value')`, logical.valueType, p.valueType, depth + 1);
      return `map_from_entries(list_transform(map_entries(${expr}), lambda ${v}: struct_pack(key := ${key}, value := ${value})))`;
    }
    default:
      return expr;
  }
}

/** A file column converted to its logical name's type. */
export function convertColumn(expr: string, logical: DataType, physical: DataType): string {
  if (sameNames(logical, physical)) return `CAST(${expr} AS ${duckType(logical)})`;
  return rename(`CAST(${expr} AS ${duckType(physical)})`, logical, physical, 0);
}

function fileList(paths: readonly string[]): string {
  return `[${paths.map(sqlString).join(', ')}]`;
}

/** A zero-row view body with the table's columns. */
export function emptyViewSql(schema: StructType): string {
  const cols = schema.fields.map((f) => `CAST(NULL AS ${duckType(f.type)}) AS ${quoteIdent(f.name)}`);
  return `SELECT ${cols.join(', ')} WHERE false`;
}

/** The SELECT a view over `source` is defined as. */
export function viewSql(source: ViewSource): string {
  if (source.groups.length === 0) return emptyViewSql(source.schema);
  const partitionIndex = new Map<string, number>();
  const dropped: string[] = [];
  source.schema.fields.forEach((f, i) => {
    if (!source.partitionColumns.has(f.name)) return;
    partitionIndex.set(f.name, partitionIndex.size);
    dropped.push(source.physical.fields[i]!.name.toLowerCase());
  });
  const star =
    dropped.length === 0 ? '*' : `COLUMNS(lambda c: lower(c) NOT IN (${dropped.map(sqlString).join(', ')}))`;
  const partitionFields = source.schema.fields.filter((f) => partitionIndex.has(f.name));
  const branches = source.groups.map((g) => {
    const literals = partitionFields.map(
      (f) =>
        `${sqlLiteral(g.partitionValues.get(f.name) ?? null, f.type)} AS ${quoteIdent(partitionAlias(partitionIndex.get(f.name)!))}`,
    );
    const select = [star, ...literals].join(', ');
    return `SELECT ${select} FROM read_parquet(${fileList(g.paths)}, union_by_name = true, hive_partitioning = false)`;
  });
  const columns = source.schema.fields.map((f, i) => {
    const name = quoteIdent(f.name);
    const p = partitionIndex.get(f.name);
    if (p !== undefined) return `f.${quoteIdent(partitionAlias(p))} AS ${name}`;
    const pf = source.physical.fields[i]!;
    if (source.presentColumns && !source.presentColumns.has(pf.name.toLowerCase()))
      return `CAST(NULL AS ${duckType(f.type)}) AS ${name}`;
    return `${convertColumn(`f.${quoteIdent(pf.name)}`, f.type, pf.type)} AS ${name}`;
  });
  const body =
    branches.length === 1 ? branches[0]! : branches.map((b) => `(${b})`).join('\nUNION ALL BY NAME\n');
  return `SELECT ${columns.join(', ')}\nFROM (${body}) AS f`;
}

/** The SELECT that lists the columns the files have (for `presentColumns`). */
export function fileColumnsSql(source: ViewSource): string {
  const all = source.groups.flatMap((g) => g.paths);
  return `DESCRIBE SELECT * FROM read_parquet(${fileList(all)}, union_by_name = true, hive_partitioning = false)`;
}
