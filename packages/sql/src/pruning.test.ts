import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sqlString } from './duck-types.js';
import { pruneRequests, tableNamesOf } from './pruning.js';

let instance: DuckDBInstance;
let conn: Awaited<ReturnType<DuckDBInstance['connect']>>;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

async function ast(sql: string): Promise<unknown> {
  const r = await conn.runAndReadAll(`SELECT json_serialize_sql(${sqlString(sql)})`);
  return JSON.parse(String(r.getRows()[0]![0]));
}

const TABLES = new Map([
  ['t', new Set(['p', 'd'])],
  ['u', new Set(['q'])],
]);

/** The WHERE text DuckDB makes of each request, by table. */
async function filters(sql: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const r of pruneRequests(await ast(sql), TABLES, (t) => `__parts_${t}`)) {
    const text = await conn.runAndReadAll(`SELECT json_deserialize_sql(${sqlString(r.filterJson)})`);
    out[r.table] = String(text.getRows()[0]![0]);
  }
  return out;
}

describe('pruneRequests', () => {
  it('keeps the conjuncts on partition columns of the table', async () => {
    expect(await filters("select * from t where p = 'a' and x > 1 and d between 1 and 3")).toEqual({
      t: "SELECT __weir_group FROM __parts_t AS t WHERE ((p = 'a') AND (d BETWEEN 1 AND 3))",
    });
    expect(await filters("select * from t as a where a.p in ('x', 'y') and lower(a.p) like 'x%'")).toEqual({
      t: "SELECT __weir_group FROM __parts_t AS a WHERE ((a.p IN ('x', 'y')) AND (lower(a.p) ~~ 'x%'))",
    });
    expect(
      await filters("select * from t join u on t.x = u.x where t.p = 'a' and u.q = 1 and t.x = u.x"),
    ).toEqual({
      t: "SELECT __weir_group FROM __parts_t AS t WHERE (t.p = 'a')",
      u: 'SELECT __weir_group FROM __parts_u AS u WHERE (u.q = 1)',
    });
    expect(await filters("with c as (select * from t where p = 'a') select * from c")).toEqual({
      t: "SELECT __weir_group FROM __parts_t AS t WHERE (p = 'a')",
    });
  });

  it('never prunes where pruning could change the result', async () => {
    const none = [
      "select * from t where p = 'a' or x = 1",
      "select * from t join u on true where p = 'a'", // unqualified with a join
      "select * from u left join t on u.x = t.x where t.p = 'a'",
      "select * from t a join t b on a.x = b.x where a.p = 'a'",
      "select * from t where p = (select 'a')",
      "select * from t where p in (select 'a')",
      'select * from t where p = $1',
      'select * from t where d < random()',
      'select * from t where d < now()',
      'select * from t where d = 9007199254740993',
      "select * from t using sample 10% where p = 'a'",
      'select * from t asof join u on t.x >= u.x where u.q = 1',
      'select * from t positional join u where u.q = 1',
      'select * from t where t.x.p = 1',
      "select * from (select * from t) s where s.p = 'a'",
    ];
    for (const sql of none) expect(await filters(sql), sql).toEqual({});
  });

  it('lists the tables a statement reads', async () => {
    expect(tableNamesOf(await ast('select * from t join "u@3" on true, (select * from v) w'))).toEqual([
      't',
      'u@3',
      'v',
    ]);
    expect(pruneRequests({ error: true }, TABLES, () => 'x')).toEqual([]);
  });
});
