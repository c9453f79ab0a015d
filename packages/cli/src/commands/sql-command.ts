/**
 * `weir sql`: SQL over Weir tables with DuckDB (@weir/sql). Tables are named with `--table
 * name=<location>[@version]`; in the query `name@N` reads version N. Results print in the row
 * formats of `weir scan` (so `weir sql "select * from t" --format ndjson` prints what `weir scan`
 * prints). With no query: an interactive prompt when stdin is a terminal, else the query is
 * read from stdin.
 */
import os from 'node:os';
import path from 'node:path';
import type { SqlStream, TableReadInfo } from '@weir/sql';
import { WeirError } from '@weir/storage';
import type { Command } from 'commander';
import { type CliContext, write } from '../context.js';
import { parseRowFormat, type RowFormat, writeRows } from '../format/rows.js';

interface SqlOptions {
  table?: string[];
  format?: string;
  verbose?: boolean;
}

function describeRead(t: TableReadInfo): string {
  const how = t.mode === 'duckdb' ? 'DuckDB read the files' : `Weir's scan (${t.reason ?? 'fallback'})`;
  return `${t.name}: ${t.location} version ${t.version}, ${t.filesRead} of ${t.filesTotal} files, ${how}\n`;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(String(c)));
  return Buffer.concat(chunks).toString('utf8');
}

export function registerSqlCommand(program: Command, ctx: CliContext): void {
  program
    .command('sql')
    .description('query tables with SQL (DuckDB); no query on a terminal starts an interactive prompt')
    .argument('[query]', 'SQL naming the tables given with --table (name@N reads version N)')
    .option(
      '--table <name=location[@version]>',
      'a table the query may name; repeat for more',
      (value: string, previous: string[] | undefined) => [...(previous ?? []), value],
    )
    .option('--format <format>', 'table, ndjson or csv (default: table on a terminal, else ndjson)')
    .option('--verbose', 'print on stderr how each table was read (files, DuckDB or Weir scan)')
    .action(async (query: string | undefined, opts: SqlOptions) => {
      const format: RowFormat =
        opts.format !== undefined ? parseRowFormat(opts.format) : ctx.io.isTTY ? 'table' : 'ndjson';
      // Loaded here, not at start-up: DuckDB is a large native library every other command can do without.
      const { parseTableSpec, runRepl, SqlSession } = await import('@weir/sql');
      const session = await SqlSession.create();
      try {
        const seen = new Set<string>();
        for (const text of opts.table ?? []) {
          const spec = parseTableSpec(text);
          if (seen.has(spec.name.toLowerCase()))
            throw new WeirError('INVALID_ARGUMENT', `--table ${spec.name} is given twice`, {
              details: { name: spec.name },
            });
          seen.add(spec.name.toLowerCase());
          const store = ctx.openStore(spec.location);
          session.register(spec.name, spec.version !== undefined ? { store, version: spec.version } : store);
        }
        const print = async (result: SqlStream, rowFormat: RowFormat) => {
          if (opts.verbose) for (const t of result.tables) await write(ctx.io.stderr, describeRead(t));
          await writeRows(ctx.io, rowFormat, result.schema, result.batches);
        };
        if (query === undefined && process.stdin.isTTY) {
          await runRepl(session, {
            input: process.stdin,
            output: ctx.io.stdout,
            terminal: true,
            print: (result) => print(result, opts.format !== undefined ? format : 'table'),
            historyFile: process.env.WEIR_SQL_HISTORY ?? path.join(os.homedir(), '.weir_sql_history'),
          });
          return;
        }
        const sql = query ?? (await readStdin());
        if (sql.trim() === '')
          throw new WeirError('INVALID_ARGUMENT', 'no query: give one as an argument or on stdin');
        await print(await session.stream(sql), format);
      } finally {
        await session.close();
      }
    });
}
