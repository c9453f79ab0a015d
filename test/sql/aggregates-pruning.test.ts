/**
 * Aggregations through SQL agree with the same values computed from Weir's scan (count, sum of
 * integers and decimals, group by a partition column, filters), on the DuckDB path and on the
 * Weir-scan path (a MemoryStore table, a reference table with deletion vectors). Partition
 * filters in the query's WHERE prune files before DuckDB reads them — and only where that
 * cannot change the result (ORs with other columns, outer joins, self joins are not pruned).
 */
import { batchToJsonRows, type JsonValue, loadSnapshot, scanSnapshot } from '@weir/delta';
import { collect, queryTables, SqlSession } from '@weir/sql';
import { LocalStore, type ObjectStore } from '@weir/storage';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../support/cli.js';
import { tableDir } from '../support/reference-tables.js';
import { buildFixtures, type Fixtures } from './fixtures.js';

let fixtures: Fixtures;
beforeAll(async () => {
  fixtures = await buildFixtures();
});
afterAll(() => fixtures?.cleanup());

type Row = Record<string, JsonValue>;

async function scanRows(store: ObjectStore, where?: string): Promise<Row[]> {
  const snapshot = await loadSnapshot(store);
  const rows: Row[] = [];
  for await (const b of scanSnapshot(store, snapshot, where ? { where } : {}))
    rows.push(...batchToJsonRows(b));
  return rows;
}

/** Sum of decimal texts with `scale` digits, as the same text. */
function decimalSum(values: JsonValue[], scale: number): string | null {
  const present = values.filter((v): v is string => typeof v === 'string');
  if (present.length === 0) return null;
  const total = present.reduce((acc, v) => acc + BigInt(v.replace('.', '')), 0n);
  const digits = (total < 0n ? -total : total).toString().padStart(scale + 1, '0');
  return `${total < 0n ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function intSum(values: JsonValue[]): number | null {
  const present = values.filter((v): v is number => typeof v === 'number');
  return present.length === 0 ? null : present.reduce((a, b) => a + b, 0);
}

function byKey(rows: Row[], key: string): Map<JsonValue, Row[]> {
  const out = new Map<JsonValue, Row[]>();
  for (const r of rows) out.set(r[key]!, [...(out.get(r[key]!) ?? []), r]);
  return out;
}

const sortBy = (key: string) => (a: Row, b: Row) => String(a[key]).localeCompare(String(b[key]));

describe('aggregations agree with Weir scan', () => {
  for (const name of ['partitioned', 'memory']) {
    it(`${name}: count, sum(int), sum(decimal), group by partition column`, async () => {
      const { store } = fixtures.tables[name]!;
      const rows = await scanRows(store);
      const totals = await queryTables('select count(*) as n, sum(qty) as q, sum(amount) as a from t', {
        t: store,
      });
      expect(totals.rows()).toEqual([
        {
          n: rows.length,
          q: intSum(rows.map((r) => r.qty!)),
          a: decimalSum(
            rows.map((r) => r.amount!),
            2,
          ),
        },
      ]);
      const grouped = await queryTables(
        'select country, count(*) as n, sum(qty) as q, sum(amount) as a, max(day) as d from t group by country',
        { t: store },
      );
      const want = [...byKey(rows, 'country')].map(([country, group]) => ({
        country,
        n: group.length,
        q: intSum(group.map((r) => r.qty!)),
        a: decimalSum(
          group.map((r) => r.amount!),
          2,
        ),
        d: group
          .map((r) => String(r.day))
          .sort()
          .at(-1)!,
      }));
      expect(grouped.rows().sort(sortBy('country'))).toEqual(want.sort(sortBy('country')));
    });
  }

  it('partitioned: group by two partition columns with a filter on a data column', async () => {
    const { store } = fixtures.tables.partitioned!;
    const rows = await scanRows(store, 'qty > 5');
    const result = await queryTables(
      'select country, day, count(*) as n from t where qty > 5 group by all order by country nulls first, day',
      { t: store },
    );
    const want = new Map<string, number>();
    for (const r of rows) want.set(`${r.country}|${r.day}`, (want.get(`${r.country}|${r.day}`) ?? 0) + 1);
    const got = new Map(result.rows().map((r) => [`${r.country}|${r.day}`, r.n]));
    expect(got).toEqual(want);
  });

  it('a table with deletion vectors (Weir scan path) aggregates its live rows', async () => {
    const store = new LocalStore(tableDir('golden-dv-partitioned-with-checkpoint'));
    const rows = await scanRows(store);
    const result = await queryTables('select part, count(*) as n, sum(col1) as s from t group by part', {
      t: store,
    });
    expect(result.tables[0]!.mode).toBe('weir-scan');
    const want = [...byKey(rows, 'part')].map(([part, g]) => ({
      part,
      n: g.length,
      s: intSum(g.map((r) => r.col1!)),
    }));
    expect(result.rows().sort(sortBy('part'))).toEqual(want.sort(sortBy('part')));
  });

  it('weir sql prints aggregates as numbers (sums of integers included)', async () => {
    const dir = (fixtures.tables.partitioned!.store as LocalStore).directory;
    const rows = await scanRows(fixtures.tables.partitioned!.store);
    const run = await runCli(['sql', 'select count(*) as n, sum(id) as s from t', '--table', `t=${dir}`]);
    expect(run.code).toBe(0);
    expect(parseNdjson(run.stdout)).toEqual([{ n: rows.length, s: intSum(rows.map((r) => r.id!)) }]);
  });
});

describe('partition pruning', () => {
  const filesWhere = async (store: ObjectStore, pred: (pv: Record<string, string | null>) => boolean) =>
    (await loadSnapshot(store)).files().filter((f) => pred(f.partitionValues)).length;

  it('prunes by equality, IN, ranges, functions and IS NULL on partition columns', async () => {
    const { store } = fixtures.tables.partitioned!;
    const total = (await loadSnapshot(store)).files().length;
    const cases: [string, string | undefined, (pv: Record<string, string | null>) => boolean][] = [
      ["country = 'DE'", "country = 'DE'", (pv) => pv.country === 'DE'],
      [
        "t.country IN ('DE', 'FR') AND qty > 3",
        "country IN ('DE', 'FR') AND qty > 3",
        (pv) => ['DE', 'FR'].includes(pv.country!),
      ],
      ["day >= DATE '2024-01-02'", "day >= DATE '2024-01-02'", (pv) => pv.day! >= '2024-01-02'],
      [
        "day > '2024-01-02' AND country <> 'US'",
        "day > DATE '2024-01-02' AND country != 'US'",
        (pv) => pv.day! > '2024-01-02' && pv.country !== null && pv.country !== 'US',
      ],
      ['dayofmonth(day) = 1', undefined, (pv) => pv.day === '2024-01-01'],
      ["lower(country) LIKE 'd%'", undefined, (pv) => pv.country === 'DE'],
      ['country IS NULL', 'country IS NULL', (pv) => pv.country === null],
    ];
    for (const [where, weirWhere, pred] of cases) {
      const result = await queryTables(`select id from t where ${where}`, { t: store });
      const expected = await filesWhere(store, pred);
      expect(expected, where).toBeLessThan(total);
      expect(result.tables[0]!.filesRead, where).toBe(expected);
      expect(result.tables[0]!.filesTotal).toBe(total);
      if (weirWhere) {
        const want = (await scanRows(store, weirWhere)).map((r) => r.id).sort();
        expect(
          result
            .rows()
            .map((r) => r.id)
            .sort(),
          where,
        ).toEqual(want);
      }
    }
  });

  it('does not prune where a smaller input could change the result', async () => {
    const { store } = fixtures.tables.partitioned!;
    const total = (await loadSnapshot(store)).files().length;
    const queries = [
      "select id from t where country = 'DE' or qty > 5",
      "select t.id from u left join t on u.id = t.id where t.country = 'DE'",
      "select a.id from t a join t b on a.id = b.id where a.country = 'DE'",
      "select id from (select * from t) s where s.country = 'DE'",
      "select id from t where country = (select 'DE')",
    ];
    for (const q of queries) {
      const result = await queryTables(q, { t: store, u: store });
      for (const info of result.tables.filter((i) => i.name === 't')) expect(info.filesRead, q).toBe(total);
    }
    const left = await queryTables(
      "select count(*) as n from u left join t on u.id = t.id and u.country = 'DE' where t.country = 'DE'",
      { t: store, u: store },
    );
    const de = (await scanRows(store, "country = 'DE'")).length;
    expect(left.rows()).toEqual([{ n: de }]);
  });

  it('prunes a joined table by its own conjuncts and still joins correctly', async () => {
    const { store } = fixtures.tables.partitioned!;
    const result = await queryTables(
      "select count(*) as n from t join u on t.id = u.id where t.country = 'FR' and u.day = DATE '2024-01-01'",
      { t: store, u: store },
    );
    const rows = await scanRows(store);
    const want = rows.filter((r) => r.country === 'FR' && r.day === '2024-01-01').length;
    expect(result.rows()).toEqual([{ n: want }]);
    const t = result.tables.find((i) => i.name === 't')!;
    const u = result.tables.find((i) => i.name === 'u')!;
    expect(t.filesRead).toBe(await filesWhere(store, (pv) => pv.country === 'FR'));
    expect(u.filesRead).toBe(await filesWhere(store, (pv) => pv.day === '2024-01-01'));
  });

  it('prunes on the Weir-scan path too (fewer files scanned)', async () => {
    const { store } = fixtures.tables.memory!;
    const result = await queryTables("select count(*) as n from t where country = 'US'", { t: store });
    expect(result.tables[0]).toMatchObject({ mode: 'weir-scan', filesRead: 1 });
    expect(result.rows()).toEqual([{ n: (await scanRows(store, "country = 'US'")).length }]);
  });

  it('in a session, a pruned view never outlives its query; other statements see whole tables', async () => {
    const { store } = fixtures.tables.partitioned!;
    const total = (await scanRows(store)).length;
    const session = await SqlSession.create({ tables: { t: store } });
    try {
      const pruned = await collect(await session.stream("select count(*) as n from t where country = 'DE'"));
      expect(pruned.tables[0]!.filesRead).toBeLessThan(pruned.tables[0]!.filesTotal);
      // CREATE ... AS cannot be serialized by DuckDB: every table gets a whole view.
      await collect(await session.stream('create temp table c as select count(*) as n from t'));
      expect((await collect(await session.stream('select n from c'))).rows()).toEqual([{ n: total }]);
      const pivot = await collect(await session.stream('pivot t on day using count(*) group by country'));
      const counted = pivot.rows().reduce(
        (a, r) =>
          a +
          Object.values(r)
            .filter((v) => typeof v === 'number')
            .reduce((x, y) => x + Number(y), 0),
        0,
      );
      expect(counted).toBe(total);
      expect((await collect(await session.stream('select count(*) as n from t'))).rows()).toEqual([
        { n: total },
      ]);
    } finally {
      await session.close();
    }
  });

  it('prunes a timestamp partition', async () => {
    const { store } = fixtures.tables.timestamps!;
    const result = await queryTables(
      "select count(*) as n from t where hour < TIMESTAMPTZ '1970-01-01 00:00:00+00'",
      { t: store },
    );
    expect(result.tables[0]!.filesRead).toBe(1);
    expect(result.rows()).toEqual([
      { n: (await scanRows(store, "hour < TIMESTAMP '1970-01-01 00:00:00'")).length },
    ]);
  });
});
