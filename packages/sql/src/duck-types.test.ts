import { DuckDBInstance } from '@duckdb/node-api';
import { batchToJsonRows, type DataType, type JsonValue, parseSchema, type ScalarValue } from '@weir/delta';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chunkToBatch, resultSchema } from './duck-arrow.js';
import { duckType, quoteIdent, sqlLiteral, sqlString } from './duck-types.js';

let instance: DuckDBInstance;
let conn: Awaited<ReturnType<DuckDBInstance['connect']>>;
beforeAll(async () => {
  instance = await DuckDBInstance.create(':memory:');
  conn = await instance.connect();
  await conn.run("SET TimeZone = 'UTC'");
});
afterAll(() => {
  conn.closeSync();
  instance.closeSync();
});

/** Runs a SELECT and returns its rows the way Weir prints them. */
async function rows(sql: string): Promise<Record<string, JsonValue>[]> {
  const result = await conn.run(sql);
  const types = result.columnTypes();
  const schema = resultSchema(result.deduplicatedColumnNames(), types);
  const out: Record<string, JsonValue>[] = [];
  for (const chunk of await result.fetchAllChunks())
    out.push(...batchToJsonRows(chunkToBatch(schema, types, chunk)));
  return out;
}

const t = (type: string): DataType =>
  parseSchema(JSON.stringify({ type: 'struct', fields: [{ name: 'x', type, nullable: true, metadata: {} }] }))
    .fields[0]!.type;

describe('duck types', () => {
  it('maps Delta types to DuckDB types', () => {
    expect(duckType(t('timestamp'))).toBe('TIMESTAMPTZ');
    expect(duckType(t('timestamp_ntz'))).toBe('TIMESTAMP');
    expect(duckType(t('decimal(38,10)'))).toBe('DECIMAL(38,10)');
    const nested = parseSchema(
      JSON.stringify({
        type: 'struct',
        fields: [
          {
            name: 'x',
            nullable: true,
            metadata: {},
            type: {
              type: 'map',
              keyType: 'string',
              valueType: {
                type: 'array',
                elementType: {
                  type: 'struct',
                  fields: [{ name: 'a "b"', type: 'byte', nullable: true, metadata: {} }],
                },
                containsNull: true,
              },
              valueContainsNull: true,
            },
          },
        ],
      }),
    ).fields[0]!.type;
    expect(duckType(nested)).toBe('MAP(VARCHAR, STRUCT("a ""b""" TINYINT)[])');
    expect(() => duckType(t('variant'))).toThrow(expect.objectContaining({ code: 'UNSUPPORTED_TYPE' }));
    expect(quoteIdent('a"b')).toBe('"a""b"');
    expect(sqlString("it's")).toBe("'it''s'");
  });

  it('literals are exact: each comes back as the value Weir prints', async () => {
    const cases: [string, ScalarValue, JsonValue][] = [
      ['string', "it's ü", "it's ü"],
      ['boolean', false, false],
      ['byte', -128, -128],
      ['short', 32767, 32767],
      ['integer', -2147483648, -2147483648],
      ['long', 9223372036854775807n, '9223372036854775807'],
      ['long', -5n, -5],
      ['float', Math.fround(0.1), Math.fround(0.1)],
      ['float', Number.NaN, 'NaN'],
      ['double', -Infinity, '-Infinity'],
      ['double', 1e-300, 1e-300],
      ['decimal(38,18)', -12345678901234567890123456789n, '-12345678901.234567890123456789'],
      ['decimal(5,2)', 5n, '0.05'],
      ['date', -719162, '0001-01-01'],
      ['date', 19000, '2022-01-08'],
      ['timestamp', -1n, '1969-12-31T23:59:59.999999Z'],
      ['timestamp', 1637202600123456n, '2021-11-18T02:30:00.123456Z'],
      ['timestamp_ntz', 1637202600123456n, '2021-11-18T02:30:00.123456'],
      ['binary', new Uint8Array([0, 255, 10]), 'AP8K'],
      ['string', null, null],
      ['decimal(10,2)', null, null],
    ];
    const select = cases.map(([type, v], i) => `${sqlLiteral(v, t(type))} AS c${i}`).join(', ');
    const [row] = await rows(`SELECT ${select}`);
    cases.forEach(([type, value, want], i) => {
      expect(row![`c${i}`], `${type} ${String(value)}`).toEqual(want);
    });
  });
});

describe('DuckDB results as Arrow', () => {
  it('converts nested, wide and unusual types', async () => {
    const [row] = await rows(`SELECT
      [1, NULL, 3]::BIGINT[] AS l,
      [[1], NULL, []]::INTEGER[][] AS ll,
      {'a': 1, 'b': [{'c': 'x'}]} AS s,
      NULL::STRUCT(a INTEGER) AS ns,
      MAP {'k': [1.5], 'n': NULL} AS m,
      [1, 2]::INTEGER[2] AS fixed,
      sum(x) AS huge,
      200::UTINYINT AS u8,
      18446744073709551615::UBIGINT AS u64,
      '1 day 2 hours'::INTERVAL AS iv,
      TIME '12:34:56' AS tm,
      '00000000-0000-0000-0000-000000000001'::UUID AS id,
      TIMESTAMP_NS '2024-01-01 00:00:00.123456789' AS ns_ts,
      TIMESTAMP_MS '2024-01-01 00:00:00.123' AS ms_ts,
      TIMESTAMP_S '2024-01-01 00:00:01' AS s_ts,
      NULL AS nothing,
      'x'::BLOB AS bl
    FROM range(3) r(x)`);
    expect(row).toEqual({
      l: [1, null, 3],
      ll: [[1], null, []],
      s: { a: 1, b: [{ c: 'x' }] },
      ns: null,
      m: [
        ['k', ['1.5']],
        ['n', null],
      ],
      fixed: [1, 2],
      huge: 3,
      u8: 200,
      u64: '18446744073709551615',
      iv: '1 day 02:00:00',
      tm: '12:34:56',
      id: '00000000-0000-0000-0000-000000000001',
      ns_ts: '2024-01-01T00:00:00.123456',
      ms_ts: '2024-01-01T00:00:00.123000',
      s_ts: '2024-01-01T00:00:01.000000',
      nothing: null,
      bl: 'eA==',
    });
  });

  it('a HUGEINT beyond 64 bits fails instead of wrapping', async () => {
    await expect(
      rows('SELECT sum(x) AS s FROM (VALUES (9223372036854775807::BIGINT), (1::BIGINT)) v(x)'),
    ).rejects.toMatchObject({
      code: 'SQL_RESULT_OVERFLOW',
    });
  });

  it('deduplicates column names', async () => {
    expect(await rows('SELECT 1 AS a, 2 AS a')).toEqual([{ a: 1, 'a:1': 2 }]);
  });
});
