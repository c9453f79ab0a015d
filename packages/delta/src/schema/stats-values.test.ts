import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseCommitFile, parseStats } from '../actions/codec.js';
import type { FileStats } from '../actions/types.js';
import { columnMappingMode, physicalSchema } from './column-mapping.js';
import { isPrimitive, parseSchema } from './parse.js';
import type { ScalarValue } from './partition-values.js';
import { compareUtf8, STRING_MAX_SUFFIX, statsBoundsFor, statsValueToScalar } from './stats-values.js';
import type { DataType, StructType } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

/** Every add's stats of every reference table whose log holds its schema, with the physical schema. */
function referenceStats(): { table: string; schema: StructType; stats: FileStats }[] {
  const out: { table: string; schema: StructType; stats: FileStats }[] = [];
  for (const table of readdirSync(REFERENCE_ROOT).sort()) {
    const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
    if (!existsSync(dir)) continue;
    let schema: StructType | undefined;
    for (const file of readdirSync(dir)
      .filter((f) => /^\d{20}\.json$/.test(f))
      .sort()) {
      for (const a of parseCommitFile(readFileSync(path.join(dir, file), 'utf8'), { file, version: 0 })) {
        if ('metaData' in a) {
          schema = physicalSchema(
            parseSchema(a.metaData.schemaString),
            columnMappingMode(a.metaData.configuration),
          );
        }
        const stats = 'add' in a ? parseStats(a.add.stats) : undefined;
        if (schema && stats?.minValues) out.push({ table, schema, stats });
      }
    }
  }
  return out;
}

function compare(a: ScalarValue, b: ScalarValue): number {
  if (typeof a === 'string' && typeof b === 'string') return compareUtf8(a, b);
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if ((typeof a === 'number' || typeof a === 'bigint') && (typeof b === 'number' || typeof b === 'bigint')) {
    return a < b ? -1 : a > b ? 1 : 0;
  }
  throw new Error(`cannot compare ${String(a)} and ${String(b)}`);
}

/** [path, type, min, max] for every primitive leaf with both bounds present. */
function leaves(
  schema: StructType,
  min: unknown,
  max: unknown,
  prefix = '',
): [string, DataType, unknown, unknown][] {
  const out: [string, DataType, unknown, unknown][] = [];
  const lo = (min ?? {}) as Record<string, unknown>;
  const hi = (max ?? {}) as Record<string, unknown>;
  for (const f of schema.fields) {
    const p = prefix + f.name;
    if (f.type.type === 'struct') out.push(...leaves(f.type, lo[f.name], hi[f.name], `${p}.`));
    else if (isPrimitive(f.type) && lo[f.name] !== undefined && hi[f.name] !== undefined)
      out.push([p, f.type, lo[f.name], hi[f.name]]);
  }
  return out;
}

const T = (t: string) => ({ type: t }) as DataType;

describe('reference stats', () => {
  const all = referenceStats();

  it('every min/max reads as a value of its column type, min <= max, and bounds only widen', () => {
    let count = 0;
    const types = new Set<string>();
    for (const { table, schema, stats } of all) {
      for (const [p, type, rawMin, rawMax] of leaves(schema, stats.minValues, stats.maxValues)) {
        const min = statsValueToScalar(rawMin, type);
        const max = statsValueToScalar(rawMax, type);
        expect(min, `${table} ${p} min ${String(rawMin)}`).toBeDefined();
        expect(max, `${table} ${p} max ${String(rawMax)}`).toBeDefined();
        expect(compare(min!, max!), `${table} ${p}`).toBeLessThanOrEqual(0);
        const bounds = statsBoundsFor(type, rawMin, rawMax);
        expect(compare(bounds.min!, min!)).toBeLessThanOrEqual(0);
        expect(compare(bounds.max!, max!)).toBeGreaterThanOrEqual(0);
        types.add(type.type);
        count++;
      }
    }
    expect(count).toBeGreaterThan(300);
    expect([...types].sort()).toEqual(
      expect.arrayContaining([
        'byte',
        'date',
        'decimal',
        'double',
        'float',
        'integer',
        'long',
        'short',
        'string',
        'timestamp',
        'timestamp_ntz',
      ]),
    );
  });

  it('reads dat-all_primitive_types', () => {
    const { stats } = all.find((s) => s.table === 'dat-all_primitive_types')!;
    const min = stats.minValues!;
    const max = stats.maxValues!;
    expect(statsValueToScalar(min.int64, T('long'))).toBe(0n);
    expect(statsValueToScalar(max.int32, T('integer'))).toBe(4);
    expect(statsValueToScalar(max.float32, T('float'))).toBe(4);
    expect(statsValueToScalar(min.decimal, { type: 'decimal', precision: 5, scale: 3 })).toBe(10_000n);
    expect(statsValueToScalar(max.date32, T('date'))).toBe(4);
    expect(statsValueToScalar(max.timestamp, T('timestamp'))).toBe(14_400_000_000n);
    expect(statsValueToScalar(max.timestamp, T('timestamp'), 'max')).toBe(14_400_000_999n);
    expect(statsValueToScalar(max.utf8, T('string'))).toBe('4');
  });

  it('reads golden-decimal-various-scale-precision exactly', () => {
    const { stats } = all.find((s) => s.table === 'golden-decimal-various-scale-precision')!;
    const d = (p: number, s: number): DataType => ({ type: 'decimal', precision: p, scale: s });
    expect(statsValueToScalar(stats.minValues!.decimal_38_36, d(38, 36))).toBe(-29_546_424_000_000_000_000n);
    expect(statsValueToScalar(stats.minValues!.decimal_25_12, d(25, 12))).toBe(-31_661n);
    expect(statsValueToScalar(stats.minValues!.decimal_35_30, d(35, 30))).toBe(
      -32_805_309_000_000_000_000_000_000_000_000_000n,
    );
  });

  it('the widened timestamp_ntz max covers the real max that millisecond stats cut off', () => {
    const files = all.filter(
      (s) => s.table === 'golden-data-reader-timestamp_ntz' && s.stats.maxValues?.tsNtz !== undefined,
    );
    const trueMax = 1_637_202_600_123_456n; // '2021-11-18 02:30:00.123456', per EXPECTED.md
    const raw = files.map((s) => s.stats.maxValues!.tsNtz).find((v) => String(v).startsWith('2021'))!;
    expect(raw).toBe('2021-11-18T02:30:00.123');
    expect(statsValueToScalar(raw, T('timestamp_ntz'))).toBe(1_637_202_600_123_000n);
    const widened = statsValueToScalar(raw, T('timestamp_ntz'), 'max') as bigint;
    expect(widened).toBe(1_637_202_600_123_999n);
    expect(widened >= trueMax).toBe(true);
  });
});

describe('statsValueToScalar', () => {
  it('reads integers from numbers, bigints and numeric strings, within range', () => {
    expect(statsValueToScalar(9_223_372_036_854_775_807n, T('long'))).toBe(9_223_372_036_854_775_807n);
    expect(statsValueToScalar('-9223372036854775808', T('long'))).toBe(-9_223_372_036_854_775_808n);
    expect(statsValueToScalar(3, T('long'))).toBe(3n);
    expect(statsValueToScalar('12', T('short'))).toBe(12);
    expect(statsValueToScalar(128, T('byte'))).toBeUndefined();
    expect(statsValueToScalar(1.5, T('integer'))).toBeUndefined();
    expect(statsValueToScalar('x', T('long'))).toBeUndefined();
  });

  it('reads floats as float32 / double, never NaN', () => {
    expect(statsValueToScalar(0.1, T('float'))).toBe(Math.fround(0.1));
    expect(statsValueToScalar('0.1', T('double'))).toBe(0.1);
    expect(statsValueToScalar('NaN', T('double'))).toBeUndefined();
    expect(statsValueToScalar(true, T('double'))).toBeUndefined();
  });

  it('reads decimals from numbers, exact text and exponent forms, rounding outward as a bound', () => {
    const d = (p: number, s: number): DataType => ({ type: 'decimal', precision: p, scale: s });
    expect(statsValueToScalar(1, d(10, 2))).toBe(100n);
    expect(statsValueToScalar(1e-7, d(10, 8))).toBe(10n);
    expect(statsValueToScalar('12345678.9012345678', d(18, 10))).toBe(123_456_789_012_345_678_000n / 1000n);
    expect(statsValueToScalar(1.25, d(5, 1))).toBeUndefined();
    expect(statsValueToScalar(1.25, d(5, 1), 'min')).toBe(12n);
    expect(statsValueToScalar(1.25, d(5, 1), 'max')).toBe(13n);
    expect(statsValueToScalar(10n ** 20n, d(10, 0))).toBeUndefined();
  });

  it('reads dates and timestamps', () => {
    expect(statsValueToScalar('2021-11-18', T('date'))).toBe(18_949);
    expect(statsValueToScalar(18_949, T('date'))).toBe(18_949);
    expect(statsValueToScalar('2021-11-18', T('timestamp'))).toBe(1_637_193_600_000_000n);
    expect(statsValueToScalar('1970-01-01T01:00:00.001+01:00', T('timestamp'))).toBe(1000n);
    expect(statsValueToScalar('1970-01-01T00:00:00.000001Z', T('timestamp'), 'max')).toBe(1n);
    expect(statsValueToScalar('1970-01-01T00:00:00.000Z', T('timestamp'), 'min')).toBe(0n);
    expect(statsValueToScalar('1970-01-01T00:00:00.000Z', T('timestamp_ntz'))).toBe(0n);
    expect(statsValueToScalar('1970-01-01T00:00:00.000+02:00', T('timestamp_ntz'))).toBeUndefined();
    expect(statsValueToScalar('yesterday', T('timestamp'))).toBeUndefined();
  });

  it('widens a string max to cover truncated prefixes', () => {
    const max = statsValueToScalar('abc', T('string'), 'max') as string;
    expect(max).toBe(`abc${STRING_MAX_SUFFIX}`);
    for (const v of ['abc', 'abcz', 'abc\uFFFD', 'abc\u{1F600}', 'abc\u{10FFFE}'])
      expect(compareUtf8(v, max), v).toBeLessThan(0);
    expect(compareUtf8('abd', max)).toBeGreaterThan(0);
    expect(statsValueToScalar('abc', T('string'), 'min')).toBe('abc');
  });

  it('gives undefined for missing values and types without min/max', () => {
    expect(statsValueToScalar(null, T('long'))).toBeUndefined();
    expect(statsValueToScalar(undefined, T('long'))).toBeUndefined();
    expect(statsValueToScalar('AAEC', T('binary'))).toBeUndefined();
    expect(statsValueToScalar({ a: 1 }, { type: 'struct', fields: [] })).toBeUndefined();
    expect(statsValueToScalar(true, T('boolean'))).toBe(true);
    expect(statsBoundsFor(T('long'), undefined, 5)).toEqual({ max: 5n });
  });
});

describe('compareUtf8', () => {
  it('orders by code point, unlike JS string comparison', () => {
    expect('\uFFFD' > '\u{1F600}').toBe(true); // UTF-16 order
    expect(compareUtf8('\uFFFD', '\u{1F600}')).toBeLessThan(0); // code point order
    expect(compareUtf8('a', 'b')).toBeLessThan(0);
    expect(compareUtf8('ab', 'a')).toBeGreaterThan(0);
    expect(compareUtf8('é', 'é')).toBe(0);
    const sorted = ['\u{10FFFF}', '\uE000', '\uD7FF', 'z', '\u{10000}', ''].sort(compareUtf8);
    expect(sorted).toEqual(['', 'z', '\uD7FF', '\uE000', '\u{10000}', '\u{10FFFF}']);
    const bytes = (s: string) => Array.from(new TextEncoder().encode(s));
    const byByteOrder = [...sorted].sort((a, b) => {
      const x = bytes(a);
      const y = bytes(b);
      for (let i = 0; i < Math.min(x.length, y.length); i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
      return x.length - y.length;
    });
    expect(byByteOrder).toEqual(sorted);
  });
});
