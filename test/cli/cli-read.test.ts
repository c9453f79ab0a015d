/**
 * The read commands of `weir` over the reference tables: `scan` output (NDJSON rows equal the
 * expected rows for every table and version that ships them), `describe`, `history`, `files`,
 * CSV and table formats, time travel flags, and errors (one line on stderr, non-zero exit).
 */

import { existsSync } from 'node:fs';
import path from 'node:path';
import { type JsonValue, loadSnapshot } from '@weir/delta';
import { LocalStore, type WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { NEGATIVE } from '../reference-tables/facts.js';
import { parseNdjson, runCli, spawnCli } from '../support/cli.js';
import { rowsOf } from '../support/reference-table-checks.js';
import {
  canonicalRows,
  expectedVersions,
  loadCatalog,
  readExpectedRows,
  tableDir,
} from '../support/reference-tables.js';

const catalog = loadCatalog();

describe('weir scan over every reference table with expected rows', () => {
  for (const entry of catalog) {
    for (const ev of expectedVersions(entry.name)) {
      it(`${entry.name} @ ${ev.label}`, async () => {
        const dir = tableDir(entry.name);
        const snapshot = await loadSnapshot(
          new LocalStore(dir),
          ev.version !== undefined ? { version: ev.version } : {},
        );
        const missing = snapshot.files().some((f) => !existsSync(path.join(dir, decodeURIComponent(f.path))));
        const args = ['scan', dir, ...(ev.version !== undefined ? ['--version', String(ev.version)] : [])];
        const run = await runCli(args);
        if (missing) {
          // The shared copy lacks a data file: the CLI must say which, in one line.
          expect(run.code).toBe(1);
          expect(run.stderr).toMatch(/^weir: .*does not exist/);
          expect(run.stderr.trim().split('\n')).toHaveLength(1);
          return;
        }
        expect(run.stderr).toBe('');
        expect(run.code).toBe(0);
        const got = canonicalRows(parseNdjson(run.stdout) as Record<string, JsonValue>[]);
        expect(got).toEqual(canonicalRows(readExpectedRows(ev.files, snapshot.schema)));
      });
    }
  }
});

/**
 * Every catalog table (with or without expected data) through the CLI: `weir scan` prints exactly
 * the rows the public API reads (or, where the API fails, one line naming the same problem), and
 * `describe`, `files` and `history` agree with the snapshot. A negative table fails everywhere.
 */
describe('every reference table through the CLI agrees with the public API', () => {
  for (const entry of catalog) {
    it(entry.name, async () => {
      const dir = tableDir(entry.name);
      const store = new LocalStore(dir);
      const negative = NEGATIVE[entry.name];
      if (negative) {
        for (const cmd of ['scan', 'describe', 'files']) {
          const run = await runCli([cmd, dir]);
          expect(run.code, cmd).toBe(1);
          expect(run.stdout, cmd).toBe('');
          expect(run.stderr.trim().split('\n'), cmd).toHaveLength(1);
        }
        return;
      }
      const snapshot = await loadSnapshot(store);
      const apiRows = await rowsOf(store, snapshot).then(
        (rows) => ({ rows }),
        (err: unknown) => ({ err: err as WeirError }),
      );
      const scan = await runCli(['scan', dir]);
      if ('err' in apiRows) {
        expect(scan.code).toBe(1);
        expect(scan.stderr).toBe(`weir: ${apiRows.err.message}\n`);
      } else {
        expect(scan.stderr).toBe('');
        expect(scan.code).toBe(0);
        expect(canonicalRows(parseNdjson(scan.stdout) as Record<string, JsonValue>[])).toEqual(
          canonicalRows(apiRows.rows),
        );
      }

      const describe = await runCli(['describe', dir, '--json']);
      expect(describe.code).toBe(0);
      const d = JSON.parse(describe.stdout);
      expect(d.version).toBe(snapshot.version);
      expect(d.numFiles).toBe(snapshot.files().length);
      expect(d.sizeInBytes).toBe(snapshot.files().reduce((n, f) => n + f.size, 0));
      expect(d.partitionColumns).toEqual(snapshot.partitionColumns);
      expect(d.protocol).toEqual(snapshot.protocol);
      if (d.numRecords !== undefined && 'rows' in apiRows) expect(d.numRecords).toBe(apiRows.rows.length);

      const files = await runCli(['files', dir, '--json']);
      expect(files.code).toBe(0);
      expect((JSON.parse(files.stdout) as { path: string }[]).map((f) => f.path)).toEqual(
        snapshot.files().map((f) => f.path),
      );

      const history = await runCli(['history', dir, '--json', '--limit', '3']);
      expect(history.code).toBe(0);
      const h = JSON.parse(history.stdout) as { version: number }[];
      expect(h[0]!.version).toBe(snapshot.version);
      expect(h.map((e) => e.version)).toEqual([...h.map((e) => e.version)].sort((a, b) => b - a));
    });
  }
});

describe('weir scan options', () => {
  const partitioned = tableDir('drs-delta-0.8.0-partitioned');

  it('--where, --columns and --limit', async () => {
    const run = await runCli([
      'scan',
      partitioned,
      '--where',
      "year = '2021' AND month = '12'",
      '--columns',
      'value,day',
    ]);
    expect(run.code).toBe(0);
    const rows = parseNdjson(run.stdout);
    expect(rows.map((r) => Object.keys(r))).toEqual(rows.map(() => ['value', 'day']));
    expect(rows.map((r) => r.value).sort()).toEqual(['5', '6', '7']);
    const limited = await runCli(['scan', partitioned, '--limit', '2']);
    expect(parseNdjson(limited.stdout)).toHaveLength(2);
  });

  it('--format csv has a header and one line per row', async () => {
    const run = await runCli(['scan', partitioned, '--format', 'csv', '--columns', 'value,year']);
    const lines = run.stdout.trim().split('\n');
    expect(lines[0]).toBe('value,year');
    expect(lines).toHaveLength(8);
  });

  it('--format table prints a row count', async () => {
    const run = await runCli(['scan', partitioned, '--format', 'table']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('(7 rows)');
  });

  it('--version time travel', async () => {
    const run = await runCli(['scan', tableDir('drs-simple_table'), '--version', '0', '--columns', 'id']);
    expect(
      parseNdjson(run.stdout)
        .map((r) => r.id)
        .sort(),
    ).toEqual([0, 1, 2, 3, 4]);
  });

  it('a bad predicate is one clear line and exit 1', async () => {
    const run = await runCli(['scan', partitioned, '--where', 'year = = 2']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^weir: invalid predicate at column \d+/);
  });

  it('an unknown column in --where names the column', async () => {
    const run = await runCli(['scan', partitioned, '--where', 'nope = 1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('nope');
  });

  it('a missing version names the latest', async () => {
    const run = await runCli(['scan', partitioned, '--version', '99']);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/version 99 does not exist \(latest is 0\)/);
  });
});

describe('weir describe, history, files', () => {
  it('describe --json has version, protocol, schema, partitions, size and records', async () => {
    const run = await runCli(['describe', tableDir('drs-delta-0.8.0-partitioned'), '--json']);
    expect(run.code).toBe(0);
    const d = JSON.parse(run.stdout);
    expect(d.version).toBe(0);
    expect(d.protocol.minReaderVersion).toBe(1);
    expect(d.partitionColumns).toEqual(['year', 'month', 'day']);
    expect(d.numFiles).toBe(6);
    // This table's adds carry no stats: the record count is unknown, not guessed.
    expect(d.numRecords).toBeUndefined();
    expect(d.schema.fields.map((f: { name: string }) => f.name)).toEqual(['value', 'year', 'month', 'day']);
    const withStats = JSON.parse(
      (await runCli(['describe', tableDir('golden-basic-with-inserts-deletes-checkpoint'), '--json'])).stdout,
    );
    expect(withStats.version).toBe(13);
    expect(withStats.numRecords).toBe(41);
  });

  it('describe shows reader features of a 3/7 table', async () => {
    const run = await runCli(['describe', tableDir('golden-dv-partitioned-with-checkpoint')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('reader 3, writer 7');
    expect(run.stdout).toContain('deletionVectors');
  });

  it('history lists commits newest first with operations', async () => {
    const run = await runCli(['history', tableDir('drs-simple_table'), '--json']);
    const h = JSON.parse(run.stdout) as { version: number; operation?: string }[];
    expect(h.map((e) => e.version)).toEqual([4, 3, 2, 1, 0]);
    expect(h.every((e) => typeof e.operation === 'string')).toBe(true);
    const limited = JSON.parse(
      (await runCli(['history', tableDir('drs-simple_table'), '--json', '--limit', '2'])).stdout,
    );
    expect(limited).toHaveLength(2);
  });

  it('files lists live files with record counts and partition values', async () => {
    const run = await runCli(['files', tableDir('krs-app-txn-checkpoint'), '--json']);
    const files = JSON.parse(run.stdout) as {
      path: string;
      numRecords: number;
      partitionValues: Record<string, string>;
    }[];
    expect(files).toHaveLength(4);
    expect(files.reduce((n, f) => n + f.numRecords, 0)).toBe(22);
    expect(files.filter((f) => f.partitionValues.modified === '2021-02-01')).toHaveLength(2);
    expect(files.every((f) => f.path.startsWith(`modified=${f.partitionValues.modified}/`))).toBe(true);
  });

  it('files of a DV table reports deleted rows', async () => {
    const run = await runCli(['files', tableDir('krs-table-with-dv-small'), '--json']);
    const files = JSON.parse(run.stdout) as { numRecords: number; deletedRows?: number }[];
    expect(files[0]!.deletedRows).toBe(2);
    expect(files[0]!.numRecords).toBe(8);
  });
});

describe('the weir binary', () => {
  it('--help works at the top and for every command', () => {
    const top = spawnCli(['--help']);
    expect(top.code).toBe(0);
    for (const cmd of ['scan', 'describe', 'history', 'files']) {
      expect(top.stdout).toContain(cmd);
      const sub = spawnCli([cmd, '--help']);
      expect(sub.code).toBe(0);
      expect(sub.stdout).toContain(`Usage: weir ${cmd}`);
    }
  });

  it('a folder that is not a table: one line, exit 1, no stack trace', () => {
    const r = spawnCli(['describe', '/tmp']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^weir: .* is not a Delta table/);
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/);
  });

  it('the contiguity error names the missing version', () => {
    const r = spawnCli(['scan', tableDir('golden-versions-not-contiguous')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/missing version 1/);
  });

  it('wrong usage exits 2', () => {
    expect(spawnCli(['scan']).code).toBe(2);
    expect(spawnCli(['no-such-command']).code).toBe(2);
  });

  it('scan prints NDJSON from the real binary', () => {
    const r = spawnCli(['scan', tableDir('krs-table-with-dv-small')]);
    expect(r.code).toBe(0);
    expect(parseNdjson(r.stdout).map((x) => x.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });
});

describe('weir tour', () => {
  it('tours the embedded table: version, pruning, time travel, NDJSON', async () => {
    const run = await runCli(['tour']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('version 15, protocol reader 3 / writer 7 with deletionVectors');
    expect(run.stdout).toMatch(/partition pruning read 1 of 15 files/);
    expect(run.stdout).toContain('version 0 had 50 rows in 20 files; version 15 has 35 rows in 15 files');
  });
});
