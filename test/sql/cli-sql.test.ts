/**
 * `weir sql` as a command: for every reference table `weir sql "select * from t" --format ndjson`
 * prints the rows `weir scan` prints, and the expected rows where the table ships them (or fails
 * the same way as the scan, in one line); output formats;
 * `--verbose`; errors (exit 1, one line); and the real binary, with the query as an argument
 * and on stdin.
 */
import { spawnSync } from 'node:child_process';
import { type JsonValue, loadSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { parseNdjson, runCli, spawnCli, WEIR_BIN } from '../support/cli.js';
import {
  canonicalRows,
  expectedVersions,
  loadCatalog,
  REPO_ROOT,
  readExpectedRows,
  tableDir,
} from '../support/reference-tables.js';

const catalog = loadCatalog();
const rowsOf = (text: string) => canonicalRows(parseNdjson(text) as Record<string, JsonValue>[]);

describe('weir sql "select * from t" equals weir scan for every reference table', () => {
  for (const entry of catalog) {
    it(entry.name, async () => {
      const dir = tableDir(entry.name);
      const sql = await runCli(['sql', 'select * from t', '--table', `t=${dir}`, '--format', 'ndjson']);
      const scan = await runCli(['scan', dir]);
      expect(sql.code).toBe(scan.code);
      if (scan.code !== 0) {
        // Missing data files or a broken log: the same one-line error.
        expect(sql.stderr).toBe(scan.stderr);
        expect(sql.stderr.trim().split('\n')).toHaveLength(1);
        return;
      }
      expect(sql.stderr).toBe('');
      expect(rowsOf(sql.stdout)).toEqual(rowsOf(scan.stdout));
      // ... and both equal the rows the table ships as its expected result.
      const latest = expectedVersions(entry.name).find((ev) => ev.version === undefined);
      if (latest) {
        const snapshot = await loadSnapshot(new LocalStore(dir));
        expect(rowsOf(sql.stdout)).toEqual(canonicalRows(readExpectedRows(latest.files, snapshot.schema)));
      }
    });
  }
});

describe('weir sql', () => {
  const dir = tableDir('drs-delta-0.8.0-partitioned');

  it('prints NDJSON by default when stdout is not a terminal, csv and table on request', async () => {
    const query = 'select value, year from t order by value';
    const ndjson = await runCli(['sql', query, '--table', `t=${dir}`]);
    expect(ndjson.code).toBe(0);
    expect(parseNdjson(ndjson.stdout)).toHaveLength(7);
    expect(parseNdjson(ndjson.stdout)[0]).toEqual({ value: '1', year: '2020' });
    const csv = await runCli(['sql', query, '--table', `t=${dir}`, '--format', 'csv']);
    expect(csv.stdout.trim().split('\n')).toEqual([
      'value,year',
      '1,2020',
      '2,2020',
      '3,2020',
      '4,2021',
      '5,2021',
      '6,2021',
      '7,2021',
    ]);
    const table = await runCli(['sql', query, '--table', `t=${dir}`, '--format', 'table']);
    expect(table.stdout).toMatch(/value.*year/);
    expect(table.stdout).toMatch(/\(7 rows\)\n$/);
  });

  it('--verbose says how each table was read and how many files', async () => {
    const run = await runCli([
      'sql',
      "select count(*) as n from t where year = '2021' and month = '12'",
      '--table',
      `t=${dir}`,
      '--verbose',
    ]);
    expect(run.code).toBe(0);
    expect(parseNdjson(run.stdout)).toEqual([{ n: 3 }]);
    const files = (await loadSnapshot(new LocalStore(dir))).files().length;
    expect(run.stderr).toBe(
      `t: ${new LocalStore(dir).root} version 0, 2 of ${files} files, DuckDB read the files\n`,
    );
  });

  it('joins two tables and reads versions named in the query', async () => {
    const basic = tableDir('dat-basic_append');
    const run = await runCli([
      'sql',
      'select (select count(*) from a@0) as v0, (select count(*) from a) as latest, (select count(*) from p) as p',
      '--table',
      `a=${basic}`,
      '--table',
      `p=${dir}`,
    ]);
    expect(run.stderr).toBe('');
    expect(parseNdjson(run.stdout)).toEqual([{ v0: 3, latest: 5, p: 7 }]);
  });

  it('fails in one line with exit code 1 on bad queries and bad --table values', async () => {
    const cases: [string[], RegExp][] = [
      [['sql', 'select * from nope', '--table', `t=${dir}`], /^weir: Catalog Error: Table with name nope/],
      [['sql', 'selec 1', '--table', `t=${dir}`], /^weir: Parser Error/],
      [['sql', 'select missing from t', '--table', `t=${dir}`], /^weir: Binder Error: .*missing/],
      [['sql', 'select 1', '--table', 't'], /^weir: --table takes name=<table location>/],
      [['sql', 'select 1', '--table', `1t=${dir}`], /^weir: table name "1t" must be a plain identifier/],
      [['sql', 'select 1', '--table', `t=${dir}`, '--table', `T=${dir}`], /^weir: --table T is given twice/],
      [['sql', 'select 1', '--format', 'xml'], /^weir: unknown format xml/],
      [['sql', 'select * from t', '--table', 't=/nonexistent/weir-sql-table'], /^weir: .*nonexistent/],
    ];
    for (const [args, pattern] of cases) {
      const run = await runCli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(pattern);
      expect(run.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
    }
  });

  it('the real binary runs a query given as an argument or on stdin', () => {
    const run = spawnCli([
      'sql',
      'select count(*) as n, sum(id) as s from t',
      '--table',
      `t=${tableDir('drs-simple_table')}`,
    ]);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(parseNdjson(run.stdout)).toEqual([{ n: 3, s: 21 }]);
    const piped = spawnSync(
      process.execPath,
      [WEIR_BIN, 'sql', '--table', `t=${tableDir('drs-simple_table')}`],
      {
        cwd: REPO_ROOT,
        input: 'select id\nfrom t\norder by id;\n',
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(piped.stderr).toBe('');
    expect(parseNdjson(piped.stdout)).toEqual([{ id: 5 }, { id: 7 }, { id: 9 }]);
  });
});
