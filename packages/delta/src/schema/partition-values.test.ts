import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { parseCommitFile } from '../actions/codec.js';
import type { PartitionValues } from '../actions/types.js';
import { parseSchema } from './parse.js';
import {
  civilFromDays,
  daysFromCivil,
  escapePartitionPathSegment,
  formatDate,
  formatDecimal,
  formatTimestampNtz,
  formatTimestampUtc,
  HIVE_DEFAULT_PARTITION,
  parseDateText,
  parseDecimalText,
  parsePartitionValue,
  parseTimestampText,
  partitionPath,
  type ScalarValue,
  serializePartitionValue,
  unescapePartitionPathSegment,
} from './partition-values.js';
import type { DataType, StructType } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

interface FileEntry {
  table: string;
  path: string;
  partitionValues: PartitionValues;
}

/** Partitioned tables: their schema and every add/remove/cdc with partition values. */
function referencePartitions(): { table: string; schema: StructType; files: FileEntry[] }[] {
  const out: { table: string; schema: StructType; files: FileEntry[] }[] = [];
  for (const table of readdirSync(REFERENCE_ROOT).sort()) {
    const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
    if (!existsSync(dir)) continue;
    let schema: StructType | undefined;
    const files: FileEntry[] = [];
    for (const file of readdirSync(dir)
      .filter((f) => /^\d{20}\.json$/.test(f))
      .sort()) {
      for (const a of parseCommitFile(readFileSync(path.join(dir, file), 'utf8'), { file, version: 0 })) {
        if ('metaData' in a) schema = parseSchema(a.metaData.schemaString);
        const fa = 'add' in a ? a.add : 'remove' in a ? a.remove : 'cdc' in a ? a.cdc : undefined;
        if (fa?.partitionValues && Object.keys(fa.partitionValues).length > 0) {
          files.push({ table, path: fa.path, partitionValues: fa.partitionValues });
        }
      }
    }
    if (schema && files.length > 0) out.push({ table, schema, files });
  }
  return out;
}

function typeOf(schema: StructType, column: string): DataType {
  return schema.fields.find((f) => f.name === column)!.type;
}

function catchError(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error('expected a WeirError');
}

const parse = (raw: string | null, type: DataType) => parsePartitionValue(raw, type, { column: 'c' });
const T = (t: string) => ({ type: t }) as DataType;

describe('reference partition values', () => {
  const tables = referencePartitions();

  function valuesOf(table: string, column: string): ScalarValue[] {
    const t = tables.find((x) => x.table === table)!;
    const type = typeOf(t.schema, column);
    const seen: ScalarValue[] = [];
    for (const f of t.files) {
      const v = parsePartitionValue(f.partitionValues[column] ?? null, type, { table, file: f.path, column });
      if (!seen.includes(v)) seen.push(v);
    }
    return seen;
  }

  it('covers the partitioned tables', () => {
    expect(tables.map((t) => t.table)).toEqual(
      expect.arrayContaining([
        'dat-basic_partitioned',
        'dat-multi_partitioned_2',
        'golden-data-reader-escaped-chars',
        'golden-data-reader-timestamp_ntz',
        'golden-dv-partitioned-with-checkpoint',
        'golden-kernel-timestamp-int96',
        'krs-cdf-table',
      ]),
    );
  });

  it('every value parses, and serializes back to text that parses to the same value', () => {
    let count = 0;
    for (const { table, schema, files } of tables) {
      for (const f of files) {
        for (const [column, raw] of Object.entries(f.partitionValues)) {
          const type = typeOf(schema, column);
          const v = parsePartitionValue(raw, type, { table, file: f.path, column });
          const text = serializePartitionValue(v, type, { column });
          expect(parsePartitionValue(text, type, { column }), `${table} ${column}=${raw}`).toEqual(v);
          count++;
        }
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it('types the values right', () => {
    expect(valuesOf('dat-multi_partitioned_2', 'bool').sort()).toEqual([false, true]);
    expect(valuesOf('dat-multi_partitioned_2', 'time')).toEqual([117_900_000_000n, 0n, 45_000_000_000n]);
    expect(valuesOf('dat-multi_partitioned_2', 'amount')).toEqual([12n * 10n ** 18n, 200n * 10n ** 18n]);
    expect(valuesOf('golden-data-reader-timestamp_ntz', 'tsNtzPartition').sort()).toEqual([
      1_373_043_660_123_456n,
      1_637_202_600_123_456n,
      null,
    ]);
    expect(valuesOf('golden-kernel-timestamp-int96', 'part')).toEqual(
      expect.arrayContaining([1_577_866_150_001_000n, -31_536_000_000_000n, null]),
    );
    expect(valuesOf('golden-dv-partitioned-with-checkpoint', 'part')).toEqual(
      expect.arrayContaining([0, 1, 2, 3, 4]),
    );
    expect(valuesOf('krs-cdf-table', 'birthday')).toEqual(
      expect.arrayContaining([19_713, 19_714, 19_715, 19_716]),
    );
    expect(valuesOf('golden-data-reader-escaped-chars', '_2').sort()).toEqual([
      'bar+%21',
      'bar+%22',
      'bar+%23',
    ]);
    expect(valuesOf('dat-basic_partitioned', 'letter')).toContain(null);
  });

  it('partitionPath matches the directories in add.path (URI-decoded once)', () => {
    let count = 0;
    for (const { table, files } of tables) {
      for (const f of files) {
        const decoded = decodeURIComponent(f.path).replace(/^_change_data\//, '');
        const dir = decoded.slice(0, decoded.lastIndexOf('/') + 1);
        const columns = Object.entries(f.partitionValues).map(([name, value]) => ({ name, value }));
        expect(partitionPath(columns), `${table} ${f.path}`).toBe(dir);
        count++;
      }
    }
    expect(count).toBeGreaterThan(100);
  });

  it('matches the directory names on disk', () => {
    const dirs = (table: string) =>
      readdirSync(path.join(REFERENCE_ROOT, table, 'delta')).filter((d) => d.includes('='));
    expect(dirs('golden-data-reader-timestamp_ntz').sort()).toEqual(
      [
        partitionPath([{ name: 'tsNtzPartition', value: '2013-07-05 17:01:00.123456' }]),
        partitionPath([{ name: 'tsNtzPartition', value: '2021-11-18 02:30:00.123456' }]),
        partitionPath([{ name: 'tsNtzPartition', value: null }]),
      ].map((p) => p.slice(0, -1)),
    );
    expect(dirs('golden-data-reader-escaped-chars').sort()).toEqual([
      '_2=bar+%2521',
      '_2=bar+%2522',
      '_2=bar+%2523',
    ]);
    expect(partitionPath([{ name: '_2', value: 'bar+%21' }])).toBe('_2=bar+%2521/');
    const time = readdirSync(path.join(REFERENCE_ROOT, 'dat-multi_partitioned_2', 'delta', 'bool=false'));
    expect(time).toEqual([partitionPath([{ name: 'time', value: '1970-01-02 08:45:00' }]).slice(0, -1)]);
  });
});

describe('parsePartitionValue', () => {
  it('reads null, empty and the Hive default partition as null for every type', () => {
    for (const t of ['string', 'long', 'integer', 'date', 'timestamp', 'boolean', 'binary']) {
      expect(parse(null, T(t))).toBeNull();
      expect(parse('', T(t))).toBeNull();
      expect(parse(HIVE_DEFAULT_PARTITION, T(t))).toBeNull();
    }
  });

  it('reads numbers', () => {
    expect(parse('-9223372036854775808', T('long'))).toBe(-9_223_372_036_854_775_808n);
    expect(parse('+42', T('integer'))).toBe(42);
    expect(parse('-128', T('byte'))).toBe(-128);
    expect(parse('32767', T('short'))).toBe(32_767);
    expect(parse('0.1', T('float'))).toBe(Math.fround(0.1));
    expect(parse('1.5E10', T('double'))).toBe(1.5e10);
    expect(parse('NaN', T('double'))).toBeNaN();
    expect(parse('-Infinity', T('float'))).toBe(Number.NEGATIVE_INFINITY);
    expect(parse('TRUE', T('boolean'))).toBe(true);
  });

  it('reads decimals at the type scale', () => {
    const d = (p: number, s: number): DataType => ({ type: 'decimal', precision: p, scale: s });
    expect(parse('10.500', d(5, 3))).toBe(10_500n);
    expect(parse('10.5', d(5, 3))).toBe(10_500n);
    expect(parse('1.5E+1', d(5, 3))).toBe(15_000n);
    expect(parse('-0.001', d(5, 3))).toBe(-1n);
    expect(parse('12', d(4, 0))).toBe(12n);
    expect(parse('1.20', d(4, 1))).toBe(12n);
  });

  it('reads dates and timestamps', () => {
    expect(parse('1970-01-01', T('date'))).toBe(0);
    expect(parse('1969-12-31', T('date'))).toBe(-1);
    expect(parse('2000-02-29', T('date'))).toBe(11_016);
    expect(parse('1970-01-01 00:00:00', T('timestamp'))).toBe(0n);
    expect(parse('1970-01-01 00:00:00.123456', T('timestamp'))).toBe(123_456n);
    expect(parse('1970-01-01T00:00:00.123456Z', T('timestamp'))).toBe(123_456n);
    expect(parse('1970-01-01T01:00:00+01:00', T('timestamp'))).toBe(0n);
    expect(parse('1970-01-01T00:00:00-0130', T('timestamp'))).toBe(5_400_000_000n);
    expect(parse('1970-01-01 00:00:00.1234567', T('timestamp'))).toBe(123_456n);
    expect(parse('1969-12-31 23:59:59.999999', T('timestamp_ntz'))).toBe(-1n);
    expect(parse('2021-11-18 02:30:00.123456', T('timestamp_ntz'))).toBe(1_637_202_600_123_456n);
    expect(parse('2021-11-18', T('timestamp'))).toBe(1_637_193_600_000_000n);
  });

  it('reads binary as the UTF-8 bytes of the text', () => {
    expect(parse('\u0001\u0002é', T('binary'))).toEqual(new Uint8Array([1, 2, 0xc3, 0xa9]));
  });

  it('names the column, type and value of bad text', () => {
    const err = catchError(() =>
      parsePartitionValue('12x', T('integer'), {
        table: 's3://b/t',
        file: 'p=12x/a.parquet',
        version: 3,
        column: 'p',
      }),
    );
    expect(err.code).toBe('INVALID_PARTITION_VALUE');
    expect(err.message).toBe(
      's3://b/t p=12x/a.parquet version 3: partition column p (integer): not an integer: "12x"',
    );
    expect(err.details).toMatchObject({ column: 'p', value: '12x', type: 'integer' });
    const bad: [string, DataType][] = [
      ['128', T('byte')],
      ['2147483648', T('integer')],
      ['9223372036854775808', T('long')],
      ['1.5', T('long')],
      ['yes', T('boolean')],
      ['1,5', T('double')],
      ['2021-02-29', T('date')],
      ['2021-13-01', T('date')],
      ['21-01-01', T('date')],
      ['2021-01-01 24:00:00', T('timestamp')],
      ['2021-01-01 00:00:00Z', T('timestamp_ntz')],
      ['2021-01-01 00:00', T('date')],
      ['10.5', { type: 'decimal', precision: 5, scale: 0 }],
      ['1000', { type: 'decimal', precision: 5, scale: 2 }],
      ['abc', { type: 'decimal', precision: 5, scale: 2 }],
      ['.', { type: 'decimal', precision: 5, scale: 2 }],
    ];
    for (const [raw, type] of bad)
      expect(catchError(() => parse(raw, type)).code, `${raw} as ${type.type}`).toBe(
        'INVALID_PARTITION_VALUE',
      );
    expect(catchError(() => parse('x', { type: 'struct', fields: [] })).code).toBe('UNSUPPORTED_TYPE');
  });
});

describe('serializePartitionValue', () => {
  const ser = (v: ScalarValue, t: DataType) => serializePartitionValue(v, t, { column: 'c' });

  it('writes each type', () => {
    expect(ser(null, T('long'))).toBeNull();
    expect(ser('', T('string'))).toBeNull();
    expect(ser('a/b', T('string'))).toBe('a/b');
    expect(ser(true, T('boolean'))).toBe('true');
    expect(ser(-5n, T('long'))).toBe('-5');
    expect(ser(7, T('long'))).toBe('7');
    expect(ser(7, T('integer'))).toBe('7');
    expect(ser(Math.fround(0.1), T('float'))).toBe('0.1');
    expect(ser(0.1, T('double'))).toBe('0.1');
    expect(ser(Number.NaN, T('double'))).toBe('NaN');
    expect(ser(10_500n, { type: 'decimal', precision: 5, scale: 3 })).toBe('10.500');
    expect(ser(-5n, { type: 'decimal', precision: 5, scale: 3 })).toBe('-0.005');
    expect(ser(19_713, T('date'))).toBe('2023-12-22');
    expect(ser(1_637_202_600_123_456n, T('timestamp'))).toBe('2021-11-18T02:30:00.123456Z');
    expect(ser(-1n, T('timestamp'))).toBe('1969-12-31T23:59:59.999999Z');
    expect(ser(1_637_202_600_123_456n, T('timestamp_ntz'))).toBe('2021-11-18 02:30:00.123456');
    expect(ser(1_637_202_600_100_000n, T('timestamp_ntz'))).toBe('2021-11-18 02:30:00.1');
    expect(ser(0n, T('timestamp_ntz'))).toBe('1970-01-01 00:00:00');
    expect(ser(new Uint8Array([0x61, 0xc3, 0xa9]), T('binary'))).toBe('aé');
  });

  it('rejects scalars that do not fit the type', () => {
    const bad: [ScalarValue, DataType][] = [
      ['1', T('long')],
      [1.5, T('integer')],
      [128, T('byte')],
      [1, T('boolean')],
      [1n, T('double')],
      [100_000n, { type: 'decimal', precision: 5, scale: 0 }],
      [0.5, T('date')],
      [1.5, T('timestamp')],
      ['x', T('binary')],
      [new Uint8Array([0xff]), T('binary')],
    ];
    for (const [v, t] of bad)
      expect(catchError(() => ser(v, t)).code, `${String(v)} as ${t.type}`).toBe('INVALID_PARTITION_VALUE');
  });
});

describe('partition directories', () => {
  it('escapes exactly the characters Spark escapes, as %XX uppercase', () => {
    const special = '"#%\'*/:=?\\{[]^\u007f';
    expect(escapePartitionPathSegment(special)).toBe('%22%23%25%27%2A%2F%3A%3D%3F%5C%7B%5B%5D%5E%7F');
    expect(escapePartitionPathSegment('\u0001\n\u001f')).toBe('%01%0A%1F');
    expect(escapePartitionPathSegment('a b<c>|d!+&$@~`}é😀\u0000')).toBe('a b<c>|d!+&$@~`}é😀\u0000');
    expect(escapePartitionPathSegment('a b<c>|', { windows: true })).toBe('a%20b%3Cc%3E%7C');
  });

  it('unescapes %XX and leaves other percent signs alone', () => {
    expect(unescapePartitionPathSegment('bar+%2521')).toBe('bar+%21');
    expect(unescapePartitionPathSegment('08%3A45%3a00')).toBe('08:45:00');
    expect(unescapePartitionPathSegment('100%')).toBe('100%');
    expect(unescapePartitionPathSegment('%G1%4')).toBe('%G1%4');
    for (const s of ['', 'a=b/c', '%%25%', '\u0001:é😀 %41', HIVE_DEFAULT_PARTITION]) {
      expect(unescapePartitionPathSegment(escapePartitionPathSegment(s))).toBe(s);
    }
  });

  it('builds partition paths', () => {
    expect(partitionPath([])).toBe('');
    expect(
      partitionPath([
        { name: 'a', value: '1' },
        { name: 'b', value: null },
        { name: 'c', value: '' },
        { name: 'd=x', value: '2021-01-01T00:00:00.000000Z' },
      ]),
    ).toBe(
      'a=1/b=__HIVE_DEFAULT_PARTITION__/c=__HIVE_DEFAULT_PARTITION__/d%3Dx=2021-01-01T00%3A00%3A00.000000Z/',
    );
  });
});

describe('calendar and text helpers', () => {
  it('daysFromCivil and civilFromDays agree with Date.UTC and invert each other', () => {
    for (let days = -800_000; days <= 3_000_000; days += 997) {
      const [y, m, d] = civilFromDays(days);
      expect(daysFromCivil(y, m, d)).toBe(days);
      if (y >= 100) expect(Date.UTC(y, m - 1, d) / 86_400_000).toBe(days);
    }
    expect(daysFromCivil(0, 1, 1)).toBe(-719_528);
    expect(formatDate(-719_528)).toBe('0000-01-01');
    expect(parseDateText('0000-01-01')).toBe(-719_528);
    expect(formatDate(-719_529)).toBe('-0001-12-31');
    expect(parseDateText('-0001-12-31')).toBe(-719_529);
    expect(formatDate(daysFromCivil(10_000, 1, 1))).toBe('+10000-01-01');
    expect(parseDateText('+10000-01-01')).toBe(daysFromCivil(10_000, 1, 1));
  });

  it('formats and parses timestamps symmetrically', () => {
    for (const micros of [
      0n,
      -1n,
      1n,
      1_637_202_600_123_456n,
      -62_135_596_800_000_000n,
      253_402_300_799_999_999n,
    ]) {
      const utc = parseTimestampText(formatTimestampUtc(micros))!;
      expect(utc.wallMicros - BigInt(utc.offsetMinutes ?? 0) * 60_000_000n).toBe(micros);
      expect(parseTimestampText(formatTimestampNtz(micros))).toEqual({ wallMicros: micros });
    }
  });

  it('parses and formats decimals, rounding outward on request', () => {
    expect(parseDecimalText('-3.1661E-8', 25, 12)).toBe(-31_661n);
    expect(parseDecimalText('-2.9546424000000000000E-17', 38, 36)).toBe(-29_546_424_000_000_000_000n);
    expect(parseDecimalText('1.25', 5, 1)).toBeUndefined();
    expect(parseDecimalText('1.25', 5, 1, 'floor')).toBe(12n);
    expect(parseDecimalText('1.25', 5, 1, 'ceil')).toBe(13n);
    expect(parseDecimalText('-1.25', 5, 1, 'floor')).toBe(-13n);
    expect(parseDecimalText('-1.25', 5, 1, 'ceil')).toBe(-12n);
    expect(parseDecimalText('0E+999999', 5, 1)).toBe(0n);
    expect(parseDecimalText('1E+999999', 5, 1)).toBeUndefined();
    expect(parseDecimalText('1E-999999', 5, 1, 'ceil')).toBe(1n);
    expect(formatDecimal(5n, 3)).toBe('0.005');
    expect(formatDecimal(-12_345n, 2)).toBe('-123.45');
    expect(formatDecimal(7n, 0)).toBe('7');
  });
});
