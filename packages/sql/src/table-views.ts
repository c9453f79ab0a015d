/**
 * One Delta snapshot as one DuckDB view, for one query: which files (after partition pruning),
 * served how (DuckDB reading the files, or Weir's scan materialized), and the view's SQL.
 *
 * Invariants:
 * - The view holds exactly the rows of the snapshot's live files that survive pruning, with
 *   the table's logical columns and types; both paths give the same rows.
 * - The direct path (`read_parquet` over the table's files) is used only for a LocalStore, no
 *   deletion vector on a chosen file, and reader features a view expresses (column mapping,
 *   timestampNtz, typeWidening, v2Checkpoint, vacuumProtocolCheck). Anything else, and any
 *   view DuckDB refuses to bind, goes through Weir's scan.
 * - A data file the log references but the store lacks fails with MISSING_DATA_FILE (the
 *   scan's error), before DuckDB reads anything.
 */
import path from 'node:path';
import {
  missingDataFileError,
  planScan,
  type ScalarValue,
  type ScanFile,
  type ScanPlan,
  type Snapshot,
} from '@weir/delta';
import { LocalStore, type ObjectStore, WeirError } from '@weir/storage';
import { quoteIdent, sqlLiteral, sqlString } from './duck-types.js';
import { materializeScan } from './materialize.js';
import type { PruneRequest } from './pruning.js';
import { type FileGroup, fileColumnsSql, type ViewSource, viewSql } from './view-sql.js';

/** What one table contributed to a query. */
export interface TableReadInfo {
  /** The view name the query used (`events`, `events@3`). */
  name: string;
  /** The table's location (store root). */
  location: string;
  version: number;
  /** 'duckdb': DuckDB read the data files; 'weir-scan': Weir's scan fed DuckDB. */
  mode: 'duckdb' | 'weir-scan';
  /** Why the table went through Weir's scan. */
  reason?: string;
  /** Live files of the snapshot. */
  filesTotal: number;
  /** Files the view reads after partition pruning. */
  filesRead: number;
}

/** Reader features a view over the table's own files can express. */
const DIRECT_FEATURES = new Set([
  'columnMapping',
  'timestampNtz',
  'typeWidening',
  'v2Checkpoint',
  'vacuumProtocolCheck',
  'deletionVectors', // only when no chosen file has one (checked per file)
]);

export interface ViewContext {
  /** Runs SQL, turning DuckDB failures into WeirError('SQL_ERROR'). */
  run(sql: string): Promise<void>;
  /** Runs SQL and returns the rows' first column. */
  column(sql: string): Promise<unknown[]>;
  tempRoot: string;
  /** Materialized fallback files, by snapshot and file set (files never change). */
  materialized: Map<string, string[]>;
}

interface Group {
  values: ReadonlyMap<string, ScalarValue>;
  files: ScanFile[];
}

function valueKey(v: ScalarValue): string {
  if (v === null) return 'n';
  if (typeof v === 'bigint') return `b${v}`;
  if (v instanceof Uint8Array) return `x${Buffer.from(v).toString('hex')}`;
  return `${typeof v}${JSON.stringify(v)}`;
}

function groupFiles(plan: ScanPlan, partitionColumns: readonly string[]): Group[] {
  const groups = new Map<string, Group>();
  for (const file of plan.files) {
    const key = partitionColumns.map((c) => valueKey(file.partitionValues.get(c) ?? null)).join('\u0000');
    let g = groups.get(key);
    if (!g) {
      g = { values: file.partitionValues, files: [] };
      groups.set(key, g);
    }
    g.files.push(file);
  }
  return [...groups.values()];
}

/** Which groups the request's conjuncts can match, evaluated by DuckDB over the tuples. */
async function pruneGroups(
  ctx: ViewContext,
  snapshot: Snapshot,
  groups: Group[],
  request: PruneRequest,
): Promise<Group[]> {
  if (groups.length === 0) return groups;
  const fields = snapshot.schema.fields.filter((f) => snapshot.partitionColumns.includes(f.name));
  const rows = groups.map(
    (g, i) =>
      `(${[...fields.map((f) => sqlLiteral(g.values.get(f.name) ?? null, f.type)), String(i)].join(', ')})`,
  );
  const names = [...fields.map((f) => quoteIdent(f.name)), '"__weir_group"'].join(', ');
  const relation = quoteIdent(request.relation);
  try {
    await ctx.run(
      `CREATE OR REPLACE TEMP TABLE ${relation} AS SELECT * FROM (VALUES ${rows.join(', ')}) AS v(${names})`,
    );
    const [filterSql] = await ctx.column(`SELECT json_deserialize_sql(${sqlString(request.filterJson)})`);
    const kept = new Set((await ctx.column(String(filterSql))).map(Number));
    return groups.filter((_, i) => kept.has(i));
  } catch {
    // A filter DuckDB cannot evaluate on its own prunes nothing; the query reports it.
    return groups;
  } finally {
    await ctx.run(`DROP TABLE IF EXISTS ${relation}`).catch(() => {});
  }
}

function fallbackReason(
  store: ObjectStore,
  snapshot: Snapshot,
  files: readonly ScanFile[],
): string | undefined {
  if (!(store instanceof LocalStore)) return 'the store is not a local directory DuckDB can read';
  if (files.some((f) => f.add.deletionVector)) return 'files have deletion vectors';
  const other = (snapshot.protocol.readerFeatures ?? []).filter((f) => !DIRECT_FEATURES.has(f));
  if (other.length > 0) return `reader feature${other.length > 1 ? 's' : ''} ${other.join(', ')}`;
  return undefined;
}

async function assertFilesExist(
  store: ObjectStore,
  plan: ScanPlan,
  files: readonly ScanFile[],
): Promise<void> {
  const window = 32;
  for (let i = 0; i < files.length; i += window) {
    const chunk = files.slice(i, i + window);
    const heads = await Promise.allSettled(chunk.map((file) => store.head(file.key)));
    // The first failure in plan order, not the first to settle, so the error names the same
    // file every run (and the same file a scan of the table names).
    for (const [j, head] of heads.entries()) {
      if (head.status === 'fulfilled') continue;
      const err: unknown = head.reason;
      if (!(err instanceof WeirError && err.code === 'NOT_FOUND')) throw err;
      throw missingDataFileError(plan, chunk[j]!, err);
    }
  }
}

function isBinderError(err: unknown): boolean {
  return err instanceof WeirError && /^Binder Error/i.test(String(err.details.duckdb ?? ''));
}

/** Creates (or replaces) the temporary view `name` over `snapshot` for one query. */
export async function createTableView(
  ctx: ViewContext,
  name: string,
  store: ObjectStore,
  snapshot: Snapshot,
  request: PruneRequest | undefined,
): Promise<TableReadInfo> {
  const plan = planScan(snapshot);
  const partitionColumns = snapshot.partitionColumns;
  let groups = groupFiles(plan, partitionColumns);
  if (request) groups = await pruneGroups(ctx, snapshot, groups, request);
  const files = groups.flatMap((g) => g.files);
  const info: TableReadInfo = {
    name,
    location: store.root,
    version: snapshot.version,
    mode: 'duckdb',
    filesTotal: plan.files.length,
    filesRead: files.length,
  };
  const create = (body: string) => ctx.run(`CREATE OR REPLACE TEMP VIEW ${quoteIdent(name)} AS ${body}`);

  let reason = fallbackReason(store, snapshot, files);
  if (reason === undefined && store instanceof LocalStore) {
    await assertFilesExist(store, plan, files);
    const source: ViewSource = {
      schema: plan.tableSchema,
      physical: plan.physicalSchema,
      partitionColumns: new Set(partitionColumns),
      groups: groups.map(
        (g): FileGroup => ({
          partitionValues: g.values,
          paths: g.files.map((f) => path.join(store.directory, f.key)),
        }),
      ),
    };
    try {
      try {
        await create(viewSql(source));
      } catch (err) {
        // A column no file has yet (added by schema evolution): ask DuckDB which ones exist.
        if (!isBinderError(err)) throw err;
        const present = await ctx.column(fileColumnsSql(source));
        await create(
          viewSql({ ...source, presentColumns: new Set(present.map((c) => String(c).toLowerCase())) }),
        );
      }
      return info;
    } catch (err) {
      if (!(err instanceof WeirError && err.code === 'SQL_ERROR')) throw err;
      reason = `DuckDB cannot read the files as a view (${err.message})`;
    }
  }

  const key = `${store.root}@${snapshot.version}:${files.map((f) => f.key).join('\u0000')}`;
  let paths = ctx.materialized.get(key);
  if (!paths) {
    paths = await materializeScan(store, { ...plan, files }, ctx.tempRoot);
    ctx.materialized.set(key, paths);
  }
  await create(
    viewSql({
      schema: plan.tableSchema,
      physical: plan.tableSchema,
      partitionColumns: new Set(),
      groups: paths.length > 0 ? [{ partitionValues: new Map(), paths }] : [],
    }),
  );
  return { ...info, mode: 'weir-scan', ...(reason !== undefined ? { reason } : {}) };
}
