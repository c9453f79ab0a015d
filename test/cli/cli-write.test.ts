/**
 * The write commands of `weir` through public interfaces only (the CLI, `@weir/delta` reads,
 * DuckDB for Parquet inputs): `create` (DDL and JSON schema files), `write` (NDJSON with every
 * type, CSV, Parquet; append, overwrite, replaceWhere, mergeSchema, compression, file size,
 * exactly-once), `checkpoint`, the errors (one line, exit 1, nothing committed) and the progress
 * bar on a terminal. Tables live in a temporary folder removed afterwards.
 */

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { type DataType, loadSnapshot, typeToString } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli, spawnCli, WEIR_BIN } from '../support/cli.js';

let root: string;
let n = 0;
/** A fresh table location (not created). */
const newTable = () => path.join(root, `t${++n}`);
const file = (name: string, text: string) => {
  const p = path.join(root, name);
  writeFileSync(p, text);
  return p;
};
const ndjson = (name: string, rows: unknown[]) =>
  file(name, `${rows.map((r) => JSON.stringify(r)).join('\n')}\n`);

beforeAll(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'weir-cli-write-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function ok(args: string[]) {
  const run = await runCli(args);
  if (run.code !== 0) throw new Error(`weir ${args.join(' ')} exited ${run.code}: ${run.stderr}`);
  expect(run.stderr).toBe('');
  return run.stdout;
}

async function fails(args: string[]) {
  const run = await runCli(args);
  expect(run.code).toBe(1);
  expect(run.stdout).toBe('');
  const lines = run.stderr.trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^weir: /);
  return lines[0]!;
}

async function describeJson(table: string) {
  return JSON.parse(await ok(['describe', table, '--json'])) as {
    version: number;
    partitionColumns: string[];
    configuration: Record<string, string>;
    numFiles: number;
    numRecords: number;
    schema: { fields: { name: string; type: DataType; nullable: boolean }[] };
  };
}

async function scan(table: string, ...args: string[]) {
  return parseNdjson(await ok(['scan', table, ...args]));
}

const byId = (rows: Record<string, unknown>[]) => [...rows].sort((a, b) => Number(a.id) - Number(b.id));

const ALL_TYPES_DDL =
  'id BIGINT NOT NULL, i INT, s SMALLINT, b TINYINT, f FLOAT, d DOUBLE, ok BOOLEAN, name STRING, ' +
  'bin BINARY, day DATE, ts TIMESTAMP, ntz TIMESTAMP_NTZ, amount DECIMAL(12,2), big DECIMAL(38,6), ' +
  'tags ARRAY<STRING>, attrs MAP<STRING,BIGINT>, addr STRUCT<city: STRING, zip: INT, geo: STRUCT<lat: DOUBLE, lon: DOUBLE>>, ' +
  'items ARRAY<STRUCT<sku: STRING, qty: INT>>';

/** Input rows and the rows `weir scan` prints for them (README "NDJSON output"). */
const ALL_TYPES_INPUT = [
  {
    id: 1,
    i: -7,
    s: 300,
    b: 12,
    f: 1.5,
    d: 2.25,
    ok: true,
    name: 'alice',
    bin: 'AQID',
    day: '2024-05-01',
    ts: '2024-05-01T12:30:00.123456+02:00',
    ntz: '2024-05-01 12:30:00',
    amount: '1234.50',
    big: '12345678901234567890.123456',
    tags: ['a', 'b'],
    attrs: { k: 1, l: 9007199254740993n.toString() },
    addr: { city: 'Berlin', zip: 10115, geo: { lat: 52.5, lon: 13.4 } },
    items: [
      { sku: 'x', qty: 2 },
      { sku: 'y', qty: null },
    ],
  },
  {
    id: 2,
    i: null,
    s: null,
    b: null,
    f: null,
    d: null,
    ok: false,
    name: '',
    bin: null,
    day: null,
    ts: 1714566600000,
    ntz: null,
    amount: 0.1,
    big: null,
    tags: [],
    attrs: {},
    addr: { city: null, zip: null, geo: null },
    items: null,
  },
  { id: 3 },
];
const ALL_TYPES_OUTPUT = [
  {
    id: 1,
    i: -7,
    s: 300,
    b: 12,
    f: 1.5,
    d: 2.25,
    ok: true,
    name: 'alice',
    bin: 'AQID',
    day: '2024-05-01',
    ts: '2024-05-01T10:30:00.123456Z',
    ntz: '2024-05-01T12:30:00.000000',
    amount: '1234.50',
    big: '12345678901234567890.123456',
    tags: ['a', 'b'],
    attrs: [
      ['k', 1],
      ['l', '9007199254740993'],
    ],
    addr: { city: 'Berlin', zip: 10115, geo: { lat: 52.5, lon: 13.4 } },
    items: [
      { sku: 'x', qty: 2 },
      { sku: 'y', qty: null },
    ],
  },
  {
    id: 2,
    i: null,
    s: null,
    b: null,
    f: null,
    d: null,
    ok: false,
    name: '',
    bin: null,
    day: null,
    ts: '2024-05-01T12:30:00.000000Z',
    ntz: null,
    amount: '0.10',
    big: null,
    tags: [],
    attrs: [],
    addr: { city: null, zip: null, geo: null },
    items: null,
  },
  {
    id: 3,
    ...Object.fromEntries(
      [
        'i',
        's',
        'b',
        'f',
        'd',
        'ok',
        'name',
        'bin',
        'day',
        'ts',
        'ntz',
        'amount',
        'big',
        'tags',
        'attrs',
      ].map((k) => [k, null]),
    ),
    addr: null,
    items: null,
  },
];

describe('weir create', () => {
  it('creates an empty table from DDL with partitions and properties', async () => {
    const table = newTable();
    const out = await ok([
      'create',
      table,
      '--schema',
      'id BIGINT NOT NULL, day DATE, amount DECIMAL(12,2), tags ARRAY<STRING>, addr STRUCT<city: STRING, zip: INT>',
      '--partition-by',
      'day',
      '--property',
      'delta.appendOnly=true',
      '--property',
      'delta.checkpointInterval=5',
    ]);
    expect(out).toBe(`created ${table} at version 0\n`);
    const d = await describeJson(table);
    expect(d.version).toBe(0);
    expect(d.numFiles).toBe(0);
    expect(d.partitionColumns).toEqual(['day']);
    expect(d.configuration).toEqual({ 'delta.appendOnly': 'true', 'delta.checkpointInterval': '5' });
    expect(d.schema.fields.map((f) => [f.name, typeToString(f.type), f.nullable])).toEqual([
      ['id', 'long', false],
      ['day', 'date', true],
      ['amount', 'decimal(12,2)', true],
      ['tags', 'array<string>', true],
      ['addr', 'struct<city:string,zip:integer>', true],
    ]);
    const text = await ok(['describe', table]);
    expect(text).toContain('  id: long NOT NULL');
    expect(text).toContain('  addr: struct<city:string,zip:integer>');
  });

  it('creates a table from a JSON schema file; an existing table is an error unless --if-not-exists', async () => {
    const table = newTable();
    const schemaFile = file(
      'schema.json',
      JSON.stringify({
        type: 'struct',
        fields: [
          { name: 'id', type: 'long', nullable: false, metadata: {} },
          { name: 'ts', type: 'timestamp_ntz', nullable: true, metadata: { comment: 'local time' } },
        ],
      }),
    );
    await ok(['create', table, '--schema', schemaFile]);
    const d = await describeJson(table);
    expect(d.schema.fields.map((f) => [f.name, typeToString(f.type), f.nullable])).toEqual([
      ['id', 'long', false],
      ['ts', 'timestamp_ntz', true],
    ]);
    expect(await fails(['create', table, '--schema', 'x INT'])).toMatch(/already exists \(version 0\)$/);
    const again = await ok(['create', table, '--schema', 'x INT', '--if-not-exists']);
    expect(again).toBe(`${table} already exists at version 0 (left unchanged)\n`);
    expect(JSON.parse(await ok(['create', table, '--schema', 'x INT', '--if-not-exists', '--json']))).toEqual(
      {
        table,
        version: 0,
        created: false,
      },
    );
    expect((await describeJson(table)).schema.fields.map((f) => f.name)).toEqual(['id', 'ts']);
  });

  it('bad DDL names the position; an unknown property names it; nothing is created', async () => {
    const table = newTable();
    expect(await fails(['create', table, '--schema', 'id BIGINT, amount DECIMAL(12,'])).toBe(
      'weir: invalid schema DDL at column 30: expected the scale of DECIMAL (a number), got the end of the text',
    );
    expect(await fails(['create', table, '--schema', 'id BIGINT, x FOO'])).toMatch(
      /^weir: invalid schema DDL at column 14: unknown type FOO/,
    );
    expect(await fails(['create', table, '--schema', 'id INT', '--property', 'delta.nope=1'])).toMatch(
      /unknown table property delta\.nope/,
    );
    expect(
      await fails(['create', table, '--schema', 'id INT', '--property', 'delta.appendOnly=maybe']),
    ).toMatch(/invalid value "maybe" for delta\.appendOnly/);
    expect(await fails(['create', table, '--schema', 'id INT', '--partition-by', 'nope'])).toMatch(
      /partition column nope is not in the schema/,
    );
    expect(existsSync(path.join(table, '_delta_log'))).toBe(false);
  });
});

describe('weir write NDJSON', () => {
  it('writes every type (nested, decimal, timestamps, nulls) and scan returns the same rows', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', ALL_TYPES_DDL]);
    const input = ndjson('all-types.ndjson', ALL_TYPES_INPUT);
    const out = await ok(['write', table, '--input', input]);
    expect(out).toMatch(
      new RegExp(`^wrote 3 rows in 1 file \\(.+\\) to ${table} at version 1 \\(took \\d+\\.\\d s\\)\\n$`),
    );
    expect(byId(await scan(table))).toEqual(ALL_TYPES_OUTPUT);
    // An independent reader of the library API sees the same version and row count.
    const snapshot = await loadSnapshot(new LocalStore(table));
    expect(snapshot.version).toBe(1);
    expect((await describeJson(table)).numRecords).toBe(3);
  });

  it('--infer-schema creates a partitioned table; --json prints the result', async () => {
    const table = newTable();
    const input = ndjson('events.ndjson', [
      { id: 1, country: 'DE', at: '2024-05-01T10:00:00Z', price: 9.5, tags: ['x'] },
      { id: 2, country: 'FR', at: '2024-05-02T11:00:00Z', price: 3, tags: [] },
      { id: 3, country: 'DE', at: '2024-05-03T12:00:00Z', price: null, tags: null },
    ]);
    const result = JSON.parse(
      await ok(['write', table, '--input', input, '--infer-schema', '--partition-by', 'country', '--json']),
    );
    expect(result).toMatchObject({ table, version: 0, skipped: false, created: true, rows: 3, numFiles: 2 });
    expect(result.sizeInBytes).toBeGreaterThan(0);
    const d = await describeJson(table);
    expect(d.partitionColumns).toEqual(['country']);
    expect(d.schema.fields.map((f) => [f.name, typeToString(f.type)])).toEqual([
      ['id', 'long'],
      ['country', 'string'],
      ['at', 'timestamp'],
      ['price', 'double'],
      ['tags', 'array<string>'],
    ]);
    expect(
      (await scan(table, '--where', "country = 'DE'", '--columns', 'id')).map((r) => r.id).sort(),
    ).toEqual([1, 3]);
  });

  it('CRLF line ends, blank lines, a byte-order mark and a last line without newline are fine', async () => {
    const table = newTable();
    const input = file('crlf.ndjson', '\uFEFF{"id": 1}\r\n\r\n{"id": 2}\r\n   \n{"id": 3}');
    await ok(['write', table, '--input', input, '--schema', 'id INT']);
    expect(byId(await scan(table))).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
    const bad = file('crlf-bad.ndjson', '{"id": 1}\r\n\r\n{"id": }\r\n');
    expect(await fails(['write', table, '--input', bad])).toContain(`${bad}:3: not valid JSON`);
  });

  it('a line that is not JSON names the file and line and commits nothing', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id BIGINT, name STRING']);
    await ok(['write', table, '--input', ndjson('first.ndjson', [{ id: 1, name: 'a' }])]);
    const lines = Array.from({ length: 70_000 }, (_, i) => JSON.stringify({ id: i, name: `n${i}` }));
    lines.splice(69_990, 0, '{"id": 5, "name": }');
    const bad = file('bad.ndjson', `${lines.join('\n')}\n`);
    const message = await fails(['write', table, '--input', bad]);
    expect(message).toContain(`${bad}:69991: not valid JSON`);
    expect(message).toContain(`nothing was committed (${table} is still at version 1)`);
    const d = await describeJson(table);
    expect(d.version).toBe(1);
    expect(d.numRecords).toBe(1);
    // The first 65,536 rows were already a batch: no data file of it is left behind either.
    expect(readdirSync(table).filter((f) => f.endsWith('.parquet'))).toHaveLength(1);
  });

  it('a value of the wrong type names the field, record and line', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id BIGINT, amount DECIMAL(12,2), addr STRUCT<zip: INT>']);
    const input = ndjson('wrong.ndjson', [
      { id: 1, amount: '1.00' },
      { id: 2, amount: '2.00', addr: { zip: 'ten' } },
    ]);
    const message = await fails(['write', table, '--input', input]);
    expect(message).toContain(`record 1 (${input}:2): field addr.zip: expected integer, got "ten"`);
    expect(message).toContain('nothing was committed');
    const decimal = await fails([
      'write',
      table,
      '--input',
      ndjson('dec.ndjson', [{ id: 1, amount: '1.234' }]),
    ]);
    expect(decimal).toMatch(/field amount: expected decimal\(12,2\), got "1\.234"/);
    const unknown = await fails([
      'write',
      table,
      '--input',
      ndjson('unknown.ndjson', [{ id: 1, color: 'red' }]),
    ]);
    expect(unknown).toMatch(/field color: unknown field .*--merge-schema adds new columns/);
    expect((await describeJson(table)).version).toBe(0);
    // --ignore-unknown-fields drops it.
    await ok(['write', table, '--input', path.join(root, 'unknown.ndjson'), '--ignore-unknown-fields']);
    expect(await scan(table)).toEqual([{ id: 1, amount: null, addr: null }]);
  });

  it('writing to a folder that is not a table needs --schema or --infer-schema', async () => {
    const table = newTable();
    mkdirSync(table);
    const input = ndjson('plain.ndjson', [{ id: 1 }]);
    const message = await fails(['write', table, '--input', input]);
    expect(message).toBe(
      `weir: ${table} is not a Delta table; to create it from ${input}, give --schema <file.json|DDL> or --infer-schema`,
    );
    expect(readdirSync(table)).toEqual([]);
    await ok(['write', table, '--input', input, '--schema', 'id INT, note STRING']);
    expect((await describeJson(table)).schema.fields.map((f) => [f.name, typeToString(f.type)])).toEqual([
      ['id', 'integer'],
      ['note', 'string'],
    ]);
  });

  it('--mode overwrite replaces all rows; --replace-where replaces one partition', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id BIGINT, day STRING', '--partition-by', 'day']);
    const days = ['2024-05-01', '2024-05-02', '2024-05-03'];
    await ok([
      'write',
      table,
      '--input',
      ndjson(
        'days.ndjson',
        days.flatMap((day, d) => [0, 1].map((k) => ({ id: d * 10 + k, day }))),
      ),
    ]);
    const replaced = await ok([
      'write',
      table,
      '--input',
      ndjson('day2.ndjson', [{ id: 99, day: '2024-05-02' }]),
      '--replace-where',
      "day = '2024-05-02'",
    ]);
    expect(replaced).toMatch(/at version 2, replacing 1 file \(/);
    expect(byId(await scan(table))).toEqual([
      { id: 0, day: '2024-05-01' },
      { id: 1, day: '2024-05-01' },
      { id: 20, day: '2024-05-03' },
      { id: 21, day: '2024-05-03' },
      { id: 99, day: '2024-05-02' },
    ]);
    // A row outside the predicate is refused, and nothing changes.
    expect(
      await fails([
        'write',
        table,
        '--input',
        ndjson('outside.ndjson', [{ id: 1, day: '2024-05-01' }]),
        '--replace-where',
        "day = '2024-05-02'",
      ]),
    ).toMatch(/does not satisfy replaceWhere/);
    expect(
      await fails(['write', table, '--input', path.join(root, 'day2.ndjson'), '--replace-where', 'id = 1']),
    ).toMatch(/replaceWhere may only use partition columns \(day\); it uses id/);
    expect(
      await fails([
        'write',
        table,
        '--input',
        path.join(root, 'day2.ndjson'),
        '--mode',
        'append',
        '--replace-where',
        "day = '2024-05-02'",
      ]),
    ).toBe('weir: --replace-where needs --mode overwrite');
    await ok([
      'write',
      table,
      '--input',
      ndjson('all-new.ndjson', [{ id: 7, day: '2024-06-01' }]),
      '--mode',
      'overwrite',
    ]);
    expect(await scan(table)).toEqual([{ id: 7, day: '2024-06-01' }]);
    const history = JSON.parse(await ok(['history', table, '--json'])) as { version: number }[];
    expect(history.map((h) => h.version)).toEqual([3, 2, 1, 0]);
  });

  it('--merge-schema adds a column (and a nested field); without it the new column is refused', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id BIGINT, addr STRUCT<city: STRING>']);
    await ok(['write', table, '--input', ndjson('v1.ndjson', [{ id: 1, addr: { city: 'Oslo' } }])]);
    const v2 = ndjson('v2.ndjson', [{ id: 2, addr: { city: 'Rome', zip: 100 }, color: 'red' }]);
    expect(await fails(['write', table, '--input', v2])).toMatch(/field addr\.zip: unknown field/);
    await ok(['write', table, '--input', v2, '--merge-schema']);
    const d = await describeJson(table);
    expect(d.version).toBe(2);
    expect(d.schema.fields.map((f) => f.name)).toEqual(['id', 'addr', 'color']);
    expect(byId(await scan(table))).toEqual([
      { id: 1, addr: { city: 'Oslo', zip: null }, color: null },
      { id: 2, addr: { city: 'Rome', zip: 100 }, color: 'red' },
    ]);
  });

  it('--compression, --target-file-size and exactly-once --app-id/--app-version', async () => {
    const table = newTable();
    const rows = Array.from({ length: 20_000 }, (_, i) => ({
      id: i,
      text: `row ${i} ${'x'.repeat(i % 50)}`,
    }));
    const input = ndjson('sized.ndjson', rows);
    const first = JSON.parse(
      await ok([
        'write',
        table,
        '--input',
        input,
        '--infer-schema',
        '--compression',
        'snappy',
        '--target-file-size',
        '64KB',
        '--app-id',
        'loader',
        '--app-version',
        '1',
        '--json',
      ]),
    );
    expect(first.numFiles).toBeGreaterThan(1);
    const files = JSON.parse(await ok(['files', table, '--json'])) as { path: string }[];
    expect(files.every((f) => f.path.endsWith('.snappy.parquet'))).toBe(true);
    const again = await ok(['write', table, '--input', input, '--app-id', 'loader', '--app-version', '1']);
    expect(again).toMatch(/^skipped: .* already holds loader at version >= 1 \(table version 0, took/);
    expect((await describeJson(table)).numRecords).toBe(20_000);
    expect(await fails(['write', table, '--input', input, '--app-id', 'loader'])).toBe(
      'weir: --app-id and --app-version go together',
    );
    expect(await fails(['write', table, '--input', input, '--compression', 'lz4'])).toMatch(
      /--compression must be/,
    );
    expect(await fails(['write', table, '--input', input, '--target-file-size', 'big'])).toMatch(
      /not a size: big/,
    );
  });

  it('--encode-workers: on the main thread (0) or on two workers, the same rows', async () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => ({
      id: i,
      text: `row ${i} ${'y'.repeat(i % 40)}`,
    }));
    const input = ndjson('workers.ndjson', rows);
    const scans: unknown[][] = [];
    for (const workers of ['0', '2']) {
      const table = newTable();
      const r = JSON.parse(
        await ok(['write', table, '--input', input, '--infer-schema', '--encode-workers', workers, '--json']),
      );
      expect(r.rows).toBe(30_000);
      const scanned = parseNdjson(await ok(['scan', table])) as { id: number }[];
      scans.push([...scanned].sort((a, b) => Number(a.id) - Number(b.id)));
    }
    expect(scans[0]).toHaveLength(30_000);
    expect(scans[1]).toEqual(scans[0]);
    expect(await fails(['write', newTable(), '--input', input, '--encode-workers', '-1'])).toMatch(
      /--encode-workers must be a non-negative integer, got -1/,
    );
  });
});

describe('weir write CSV', () => {
  const csv =
    'id,name,amount,day,tags\n1,alice,1.5,2024-05-01,"[""x"",""y""]"\n2,,,2024-05-02,\n3,"",2.25,2024-05-02,[]\n';

  it('coerces text cells to the table schema; an empty cell is null, a quoted empty one ""', async () => {
    const table = newTable();
    await ok([
      'create',
      table,
      '--schema',
      'id INT, name STRING, amount DECIMAL(5,2), day DATE, tags ARRAY<STRING>',
    ]);
    await ok(['write', table, '--input', file('in.csv', csv)]);
    expect(byId(await scan(table))).toEqual([
      { id: 1, name: 'alice', amount: '1.50', day: '2024-05-01', tags: ['x', 'y'] },
      { id: 2, name: null, amount: null, day: '2024-05-02', tags: null },
      { id: 3, name: '', amount: '2.25', day: '2024-05-02', tags: [] },
    ]);
  });

  it('--infer-schema types columns by their text', async () => {
    const table = newTable();
    await ok(['write', table, '--input', file('infer.csv', csv), '--infer-schema']);
    expect((await describeJson(table)).schema.fields.map((f) => [f.name, typeToString(f.type)])).toEqual([
      ['id', 'long'],
      ['name', 'string'],
      ['amount', 'double'],
      ['day', 'date'],
      ['tags', 'string'],
    ]);
  });

  it('CSV errors name the file and line', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id INT, name STRING']);
    expect(await fails(['write', table, '--input', file('short.csv', 'id,name\n1,a\n2\n')])).toMatch(
      /short\.csv:3: invalid CSV: .*expect 2, got 1/,
    );
    expect(await fails(['write', table, '--input', file('type.csv', 'id,name\n1,a\nx,b\n')])).toMatch(
      /\(.*type\.csv:3\): field id: expected integer, got "x"/,
    );
    expect(await fails(['write', table, '--input', file('header.csv', 'id,nope\n1,a\n')])).toMatch(
      /header\.csv:1: column nope is not in the schema/,
    );
    expect((await describeJson(table)).version).toBe(0);
  });
});

describe('weir write Parquet', () => {
  let parquet: string;
  let emptyParquet: string;

  beforeAll(async () => {
    parquet = path.join(root, 'duck.parquet');
    const instance = await DuckDBInstance.create(':memory:');
    const conn = await instance.connect();
    try {
      await conn.run(
        `COPY (SELECT range::BIGINT AS id, (range % 3)::INTEGER AS k, 'n' || range::VARCHAR AS name,
                (range / 100)::DECIMAL(12,2) AS amount, TIMESTAMP '2024-01-01 00:00:00' + INTERVAL (range) SECOND AS ts,
                [range, range + 1] AS arr, {'a': range, 'b': 'x'} AS st,
                CASE WHEN range % 2 = 0 THEN NULL ELSE range::DOUBLE END AS maybe
              FROM range(5000)) TO '${parquet}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
      );
      emptyParquet = path.join(root, 'empty.parquet');
      await conn.run(
        `COPY (SELECT 1::BIGINT AS id, 'x' AS s WHERE false) TO '${emptyParquet}' (FORMAT parquet)`,
      );
    } finally {
      conn.closeSync();
      instance.closeSync();
    }
  });

  it('creates a table with the file schema, every row group written', async () => {
    const table = newTable();
    const out = await ok(['write', table, '--input', parquet, '--partition-by', 'k']);
    expect(out).toMatch(/^wrote 5000 rows in 3 files .* at version 0, creating the table/);
    const d = await describeJson(table);
    expect(d.numRecords).toBe(5000);
    expect(d.schema.fields.map((f) => [f.name, typeToString(f.type)])).toEqual([
      ['id', 'long'],
      ['k', 'integer'],
      ['name', 'string'],
      ['amount', 'decimal(12,2)'],
      ['ts', 'timestamp_ntz'],
      ['arr', 'array<long>'],
      ['st', 'struct<a:long,b:string>'],
      ['maybe', 'double'],
    ]);
    expect(await scan(table, '--where', 'id IN (0, 4097)')).toEqual(
      expect.arrayContaining([
        {
          id: 0,
          k: 0,
          name: 'n0',
          amount: '0.00',
          ts: '2024-01-01T00:00:00.000000',
          arr: [0, 1],
          st: { a: 0, b: 'x' },
          maybe: null,
        },
        {
          id: 4097,
          k: 2,
          name: 'n4097',
          amount: '40.97',
          ts: '2024-01-01T01:08:17.000000',
          arr: [4097, 4098],
          st: { a: 4097, b: 'x' },
          maybe: 4097,
        },
      ]),
    );
    // Appending the same file again doubles the rows; --schema does not apply to Parquet.
    await ok(['write', table, '--input', parquet]);
    expect((await describeJson(table)).numRecords).toBe(10_000);
    expect(await fails(['write', table, '--input', parquet, '--schema', 'id INT'])).toMatch(
      /carries its own schema/,
    );
    expect(await fails(['write', table, '--input', file('fake.parquet', 'not parquet at all')])).toMatch(
      /fake\.parquet is not a readable Parquet file/,
    );
  });
  it('a Parquet file without rows creates an empty table with its schema', async () => {
    const table = newTable();
    expect(await ok(['write', table, '--input', emptyParquet])).toMatch(
      /^wrote 0 rows in 0 files .* at version 0/,
    );
    const d = await describeJson(table);
    expect(d.schema.fields.map((f) => [f.name, typeToString(f.type)])).toEqual([
      ['id', 'long'],
      ['s', 'string'],
    ]);
    expect(d.numFiles).toBe(0);
  });
});

describe('weir checkpoint', () => {
  it('writes a checkpoint of the latest version; a fresh scan still returns every row', async () => {
    const table = newTable();
    await ok(['create', table, '--schema', 'id BIGINT, day STRING', '--partition-by', 'day']);
    for (let v = 1; v <= 3; v++) {
      await ok([
        'write',
        table,
        '--input',
        ndjson(`cp${v}.ndjson`, [
          { id: v * 10, day: `d${v}` },
          { id: v * 10 + 1, day: 'shared' },
        ]),
      ]);
    }
    const out = await ok(['checkpoint', table]);
    expect(out).toMatch(
      /^checkpoint of .* at version 3: _delta_log\/00000000000000000003\.checkpoint\.parquet \(.+\), size \d+ actions, numOfAddFiles 6\n$/,
    );
    expect(existsSync(path.join(table, '_delta_log', '00000000000000000003.checkpoint.parquet'))).toBe(true);
    const json = JSON.parse(await ok(['checkpoint', table, '--json']));
    expect(json).toMatchObject({
      version: 3,
      numOfAddFiles: 6,
      path: '_delta_log/00000000000000000003.checkpoint.parquet',
    });
    // Reading from the checkpoint alone (the JSON commits before it removed) gives every row.
    for (let v = 0; v <= 3; v++)
      rmSync(path.join(table, '_delta_log', `${String(v).padStart(20, '0')}.json`));
    expect(byId(await scan(table)).map((r) => r.id)).toEqual([10, 11, 20, 21, 30, 31]);
    expect(await fails(['checkpoint', path.join(root, 'no-table')])).toMatch(/is not a Delta table/);
  });
});

describe('the weir binary', () => {
  it('--help for create, write and checkpoint; wrong usage exits 2', () => {
    for (const cmd of ['create', 'write', 'checkpoint']) {
      const r = spawnCli([cmd, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: weir ${cmd}`);
    }
    expect(spawnCli(['write', path.join(root, 'x')]).code).toBe(2); // no --input
    expect(spawnCli(['create', path.join(root, 'x')]).code).toBe(2); // no --schema
  });

  it('no progress bar when not on a terminal: stderr stays empty', () => {
    const table = newTable();
    const r = spawnCli(['write', table, '--input', ndjson('quiet.ndjson', [{ id: 1 }]), '--infer-schema']);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^wrote 1 row in 1 file/);
  });

  const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;
  it.skipIf(!hasScript)('on a pseudo-terminal (script -qc) a progress bar is drawn, then the summary', () => {
    const table = newTable();
    const input = ndjson(
      'tty.ndjson',
      Array.from({ length: 1000 }, (_, i) => ({ id: i })),
    );
    const quote = (s: string) => `'${s.replaceAll("'", "'\\''")}'`;
    const command = [process.execPath, WEIR_BIN, 'write', table, '--input', input, '--infer-schema']
      .map(quote)
      .join(' ');
    const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', timeout: 60_000 });
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('tty.ndjson [');
    expect(r.stdout).toMatch(/100% \| .* \| 1,000 rows \| \d+(\.\d)?[kM]? rows\/s/);
    expect(r.stdout).toMatch(/wrote 1000 rows in 1 file/);
  });
});
