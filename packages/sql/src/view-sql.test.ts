import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parseSchema, type StructType } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from './duck-types.js';
import { emptyViewSql, fileColumnsSql, type ViewSource, viewSql } from './view-sql.js';

let instance: DuckDBInstance;
let conn: Awaited<ReturnType<DuckDBInstance['connect']>>;
let dir: string;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
  dir = mkdtempSync(path.join(os.tmpdir(), 'weir-view-sql-'));
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
  rmSync(dir, { recursive: true, force: true });
});

async function write(name: string, select: string): Promise<string> {
  const file = path.join(dir, name);
  await conn.run(`COPY (${select}) TO ${sqlString(file)} (FORMAT parquet)`);
  return file;
}

async function json(sql: string): Promise<unknown[]> {
  return (await conn.runAndReadAll(sql)).getRowObjectsJson();
}

const field = (name: string, type: unknown, physical?: string) => ({
  name,
  type,
  nullable: true,
  metadata: physical ? { 'delta.columnMapping.physicalName': physical } : {},
});
const struct = (fields: unknown[]): StructType => parseSchema(JSON.stringify({ type: 'struct', fields }));

describe('viewSql', () => {
  it('renames nested physical names to logical ones, keeping NULLs', async () => {
    const file = await write(
      'mapped.parquet',
      `SELECT * FROM (VALUES
        ({'p_a': 1, 'p_l': [{'p_z': 'x'}, NULL]}, MAP {'k': {'p_q': 2}}),
        (NULL, NULL),
        ({'p_a': NULL, 'p_l': NULL}, MAP {'n': NULL})
      ) v(col_s, col_m)`,
    );
    const logical = struct([
      field('s', {
        type: 'struct',
        fields: [
          field('a', 'long'),
          field('l', {
            type: 'array',
            elementType: { type: 'struct', fields: [field('z', 'string')] },
            containsNull: true,
          }),
        ],
      }),
      field('m', {
        type: 'map',
        keyType: 'string',
        valueType: { type: 'struct', fields: [field('q', 'integer')] },
        valueContainsNull: true,
      }),
    ]);
    const physical = struct([
      field('col_s', {
        type: 'struct',
        fields: [
          field('p_a', 'long'),
          field('p_l', {
            type: 'array',
            elementType: { type: 'struct', fields: [field('p_z', 'string')] },
            containsNull: true,
          }),
        ],
      }),
      field('col_m', {
        type: 'map',
        keyType: 'string',
        valueType: { type: 'struct', fields: [field('p_q', 'integer')] },
        valueContainsNull: true,
      }),
    ]);
    const source: ViewSource = {
      schema: logical,
      physical,
      partitionColumns: new Set(),
      groups: [{ partitionValues: new Map(), paths: [file] }],
    };
    expect(await json(viewSql(source))).toEqual([
      { s: { a: '1', l: [{ z: 'x' }, null] }, m: [{ key: 'k', value: { q: 2 } }] },
      { s: null, m: null },
      { s: { a: null, l: null }, m: [{ key: 'n', value: null }] },
    ]);
  });

  it('partition values come from the groups; absent columns are NULL; partition columns in files are ignored', async () => {
    const a = await write('a.parquet', "SELECT 1 AS id, 'stale' AS p");
    const b = await write('b.parquet', 'SELECT 2 AS id, 7 AS extra');
    const schema = struct([field('id', 'integer'), field('p', 'string'), field('later', 'date')]);
    const source: ViewSource = {
      schema,
      physical: schema,
      partitionColumns: new Set(['p']),
      groups: [
        { partitionValues: new Map([['p', 'x']]), paths: [a] },
        { partitionValues: new Map([['p', null]]), paths: [b] },
      ],
    };
    await expect(conn.run(viewSql(source))).rejects.toThrow(/Binder Error/);
    const present = (await conn.runAndReadAll(fileColumnsSql(source))).getRows().map((r) => String(r[0]));
    expect(present.sort()).toEqual(['extra', 'id', 'p']);
    const sql = viewSql({ ...source, presentColumns: new Set(present) });
    expect(await json(`${sql} ORDER BY id`)).toEqual([
      { id: 1, p: 'x', later: null },
      { id: 2, p: null, later: null },
    ]);
  });

  it('an empty table is a zero-row view with typed columns', async () => {
    const schema = struct([field('id', 'long'), field('ts', 'timestamp')]);
    const described = await json(`DESCRIBE ${emptyViewSql(schema)}`);
    expect(described.map((r) => (r as { column_type: string }).column_type)).toEqual([
      'BIGINT',
      'TIMESTAMP WITH TIME ZONE',
    ]);
    expect(await json(emptyViewSql(schema))).toEqual([]);
  });
});
