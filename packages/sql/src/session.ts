/**
 * SqlSession: an in-process DuckDB database in which registered Weir tables are queried with
 * SQL. Each query (re)creates a temporary view per table it names, over exactly the files of
 * the chosen snapshot (see table-views.ts), then runs the query as written and streams the
 * result as Arrow record batches.
 *
 * Invariants:
 * - The session time zone is UTC, so Delta timestamps (TIMESTAMPTZ) print and compare as UTC.
 * - Snapshots: `name@N` is version N; a table registered with a snapshot, version or timestamp
 *   stays there; otherwise each query sees the newest version (refreshed incrementally).
 * - One query at a time: a query started while another is being prepared is refused
 *   (SQL_BUSY); a new query ends the previous query's result stream (DuckDB would invalidate
 *   it anyway).
 * - A query's views (pruned for that query) are dropped before the next query starts; a
 *   statement DuckDB cannot parse into a SELECT tree gets unpruned views of every table.
 * - DuckDB failures surface as WeirError('SQL_ERROR') with DuckDB's message; Weir failures
 *   (missing table, missing data file, ...) keep their own codes.
 * - `close()` closes DuckDB and removes the temporary files of tables read through Weir's scan.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { type DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { loadSnapshot, Snapshot } from '@weir/delta';
import { LocalStore, type ObjectStore, WeirError } from '@weir/storage';
import type { RecordBatch, Schema } from 'apache-arrow';
import { chunkToBatch, resultSchema } from './duck-arrow.js';
import { quoteIdent, sqlString } from './duck-types.js';
import { type PruneRequest, pruneRequests, tableNamesOf } from './pruning.js';
import { assertTableName, rewriteTimeTravel, splitViewName } from './table-names.js';
import { createTableView, type TableReadInfo, type ViewContext } from './table-views.js';

/** A table to query: its store, optionally pinned to a snapshot, version or time. */
export interface TableRef {
  store: ObjectStore;
  snapshot?: Snapshot;
  version?: number;
  timestamp?: string | number | Date;
}

/** A store (newest version), a snapshot of a local table, or a TableRef. */
export type TableInput = ObjectStore | Snapshot | TableRef;

export interface SessionOptions {
  /** Tables to register, by name. */
  tables?: Readonly<Record<string, TableInput>>;
  /** DuckDB worker threads (default: DuckDB's, the number of cores). */
  threads?: number;
}

/** A query's streaming result. */
export interface SqlStream {
  schema: Schema;
  /** What each Weir table the query named contributed. */
  tables: TableReadInfo[];
  batches: AsyncIterable<RecordBatch>;
}

interface Registered {
  name: string;
  store: ObjectStore;
  pinned?: Snapshot;
  version?: number;
  timestamp?: string | number | Date;
  latest?: Snapshot;
}

function isSnapshot(x: unknown): x is Snapshot {
  return x instanceof Snapshot;
}

function isStore(x: unknown): x is ObjectStore {
  return (
    typeof x === 'object' && x !== null && typeof (x as ObjectStore).get === 'function' && !('store' in x)
  );
}

function normalize(name: string, input: TableInput): Registered {
  if (isSnapshot(input)) {
    if (!input.table.startsWith('file:')) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `table ${name}: a snapshot of ${input.table} needs its store: pass { store, snapshot }`,
        { details: { name, table: input.table } },
      );
    }
    return { name, store: new LocalStore(new URL(input.table)), pinned: input };
  }
  if (isStore(input)) return { name, store: input };
  const ref = input as TableRef;
  return {
    name,
    store: ref.store,
    ...(ref.snapshot ? { pinned: ref.snapshot } : {}),
    ...(ref.version !== undefined ? { version: ref.version } : {}),
    ...(ref.timestamp !== undefined ? { timestamp: ref.timestamp } : {}),
  };
}

/** DuckDB's message without the source excerpt (LINE n: ... and the caret). */
function duckMessage(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  const lines = text.split('\n');
  const cut = lines.findIndex((l) => /^LINE \d+:/.test(l));
  return (cut < 0 ? lines : lines.slice(0, cut))
    .map((l) => l.trim())
    .filter(Boolean)
    .join(' ')
    .replace(/^Failed to extract statements: /, '');
}

function sqlError(err: unknown, sql: string): WeirError {
  if (err instanceof WeirError) return err;
  const message = duckMessage(err);
  return new WeirError('SQL_ERROR', message, { cause: err, details: { sql, duckdb: message } });
}

export class SqlSession {
  private readonly tables = new Map<string, Registered>();
  private readonly versions = new Map<string, Snapshot>();
  private readonly materialized = new Map<string, string[]>();
  private busy = false;
  private active: AsyncGenerator<RecordBatch> | undefined;
  /** Views the previous query created (dropped before the next: a pruned view never outlives its query). */
  private views: string[] = [];
  private closed = false;

  private constructor(
    private readonly instance: DuckDBInstance,
    private readonly conn: DuckDBConnection,
    private readonly tempRoot: string,
  ) {}

  static async create(options: SessionOptions = {}): Promise<SqlSession> {
    const config: Record<string, string> = { autoinstall_known_extensions: 'false' };
    if (options.threads !== undefined) config.threads = String(options.threads);
    const instance = await DuckDBInstance.create(':memory:', config);
    const conn = await instance.connect();
    await conn.run("SET TimeZone = 'UTC'");
    await conn.run('SET parquet_metadata_cache = true');
    const tempRoot = await mkdtemp(path.join(os.tmpdir(), 'weir-sql-'));
    const session = new SqlSession(instance, conn, tempRoot);
    for (const [name, input] of Object.entries(options.tables ?? {})) session.register(name, input);
    return session;
  }

  /** Makes a table queryable as `name` (and `name@<version>`). */
  register(name: string, input: TableInput): void {
    assertTableName(name);
    this.tables.set(name.toLowerCase(), normalize(name, input));
  }

  /** Registered tables: name, location, and the pinned version or time if any. */
  list(): { name: string; location: string; pinned?: string }[] {
    return [...this.tables.values()].map((t) => {
      const pinned =
        t.pinned !== undefined
          ? `version ${t.pinned.version}`
          : t.version !== undefined
            ? `version ${t.version}`
            : t.timestamp !== undefined
              ? `as of ${String(t.timestamp)}`
              : undefined;
      return { name: t.name, location: t.store.root, ...(pinned !== undefined ? { pinned } : {}) };
    });
  }

  private ctx(): ViewContext {
    return {
      run: async (sql) => {
        try {
          await this.conn.run(sql);
        } catch (err) {
          throw sqlError(err, sql);
        }
      },
      column: async (sql) => {
        try {
          const reader = await this.conn.runAndReadAll(sql);
          return reader.getRows().map((r) => r[0]);
        } catch (err) {
          throw sqlError(err, sql);
        }
      },
      tempRoot: this.tempRoot,
      materialized: this.materialized,
    };
  }

  private async snapshotOf(t: Registered, version: number | undefined): Promise<Snapshot> {
    if (version !== undefined) {
      const key = `${t.name.toLowerCase()}@${version}`;
      let s = this.versions.get(key);
      if (!s) {
        s = await loadSnapshot(t.store, { version });
        this.versions.set(key, s);
      }
      return s;
    }
    if (t.pinned) return t.pinned;
    if (t.version !== undefined || t.timestamp !== undefined) {
      t.pinned = await loadSnapshot(
        t.store,
        t.version !== undefined ? { version: t.version } : { timestamp: t.timestamp! },
      );
      return t.pinned;
    }
    t.latest = t.latest ? await t.latest.refresh(t.store) : await loadSnapshot(t.store);
    return t.latest;
  }

  /** DuckDB's parse tree of a SELECT (json_serialize_sql), or undefined for other statements. */
  private async parse(sql: string): Promise<unknown> {
    try {
      const reader = await this.conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
      const ast: unknown = JSON.parse(String(reader.getRows()[0]?.[0]));
      return (ast as { error?: unknown }).error === false ? ast : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The registered tables a statement names, as view name -> table and version: the tables of
   * the parse tree (every registered table when there is none), plus those DuckDB's own lookup
   * finds.
   */
  private referenced(sql: string, ast: unknown): Map<string, { table: Registered; version?: number }> {
    // A statement DuckDB cannot serialize (PIVOT, COPY, EXPLAIN, CREATE ... AS) may name any table.
    const names = new Set(
      ast === undefined ? [...this.tables.values()].map((t) => t.name) : tableNamesOf(ast),
    );
    try {
      for (const n of this.conn.getTableNames(sql, false)) names.add(n);
    } catch {
      // The query's own run reports what is wrong with it.
    }
    const out = new Map<string, { table: Registered; version?: number }>();
    for (const name of names) {
      const direct = this.tables.get(name.toLowerCase());
      if (direct) {
        out.set(direct.name, { table: direct });
        continue;
      }
      const { base, version } = splitViewName(name);
      const t = this.tables.get(base.toLowerCase());
      if (t && version !== undefined) out.set(`${t.name}@${version}`, { table: t, version });
    }
    return out;
  }

  private pruning(ast: unknown, partitions: Map<string, Set<string>>): Map<string, PruneRequest> {
    const out = new Map<string, PruneRequest>();
    if (ast === undefined || [...partitions.values()].every((p) => p.size === 0)) return out;
    let n = 0;
    for (const r of pruneRequests(ast, partitions, () => `__weir_parts_${n++}`)) out.set(r.table, r);
    return out;
  }

  /** Runs `sql` and streams its result. Consume `batches` before the next query. */
  async stream(sql: string): Promise<SqlStream> {
    if (this.closed) throw new WeirError('SQL_CLOSED', 'the SQL session is closed');
    if (this.busy) throw new WeirError('SQL_BUSY', 'another query of this session is still running');
    this.busy = true;
    try {
      await this.endActive();
      await this.dropViews();
      const text = rewriteTimeTravel(sql, new Set(this.tables.keys()));
      const ast = await this.parse(text);
      const refs = this.referenced(text, ast);
      const snapshots = new Map<string, Snapshot>();
      const partitions = new Map<string, Set<string>>();
      for (const [view, ref] of refs) {
        const s = await this.snapshotOf(ref.table, ref.version);
        snapshots.set(view, s);
        partitions.set(view.toLowerCase(), new Set(s.partitionColumns.map((c) => c.toLowerCase())));
      }
      const requests = this.pruning(ast, partitions);
      const ctx = this.ctx();
      const tables: TableReadInfo[] = [];
      for (const [view, ref] of refs) {
        const request = requests.get(view.toLowerCase());
        this.views.push(view);
        tables.push(await createTableView(ctx, view, ref.table.store, snapshots.get(view)!, request));
      }
      const result = await this.conn.stream(text).catch((err: unknown) => {
        throw sqlError(err, sql);
      });
      const types = result.columnTypes();
      const schema = resultSchema(result.deduplicatedColumnNames(), types);
      async function* batches(): AsyncGenerator<RecordBatch> {
        for (;;) {
          const chunk = await result.fetchChunk().catch((err: unknown) => {
            throw sqlError(err, sql);
          });
          if (!chunk || chunk.rowCount === 0) return;
          yield chunkToBatch(schema, types, chunk);
        }
      }
      this.active = batches();
      return { schema, tables, batches: this.active };
    } finally {
      this.busy = false;
    }
  }

  private async dropViews(): Promise<void> {
    const ctx = this.ctx();
    for (const view of this.views.splice(0)) await ctx.run(`DROP VIEW IF EXISTS ${quoteIdent(view)}`);
  }

  private async endActive(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    if (active) await active.return(undefined).catch(() => {});
  }

  /** Asks DuckDB to stop the running query (it then fails with an "interrupted" SQL_ERROR). */
  interrupt(): void {
    if (!this.closed) this.conn.interrupt();
  }

  /** Closes DuckDB and removes temporary files. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.endActive();
    this.conn.closeSync();
    this.instance.closeSync();
    await rm(this.tempRoot, { recursive: true, force: true });
  }
}
