/**
 * Property tests with a small seeded generator (no fast-check): random files of rows, random
 * predicates (as text, so the parser and binder are exercised too), then
 * - soundness of data skipping: a row satisfying the predicate => mayMatchStats is true;
 * - negation normal form preserves row semantics;
 * - filterBatch agrees with evaluateOnValues row by row on random Arrow encodings.
 */
import {
  Binary,
  Bool,
  type Data,
  DateDay,
  Decimal,
  Float64,
  Int32,
  Int64,
  LargeUtf8,
  makeData,
  makeVector,
  Null,
  RecordBatch,
  Timestamp,
  TimeUnit,
  Utf8,
  type Vector,
  vectorFromArray,
} from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import type { DataType, StructField, StructType } from '../schema/types.js';
import { vectorReader } from './arrow-values.js';
import type { BoundExpr, ScalarValue } from './ast.js';
import { bindPredicate } from './bind.js';
import {
  evaluateOnValues,
  filterBatch,
  mayMatchStats,
  type StatsAccessor,
  toNegationNormalForm,
} from './evaluate.js';
import { parsePredicate } from './parse.js';
import { compareScalars } from './values.js';

const isVector = (v: Vector | ScalarValue): v is Vector =>
  v !== null && typeof v === 'object' && !(v instanceof Uint8Array);

// -- seeded generator ----------------------------------------------------------------------------

class Rng {
  constructor(private state: number) {}
  /** mulberry32 */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) | 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.next() * (hi - lo + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)]!;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// -- schema and values -----------------------------------------------------------------------------

type Kind =
  | 'long'
  | 'integer'
  | 'double'
  | 'string'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'decimal';

const COLUMNS: readonly { name: string; kind: Kind }[] = [
  { name: 'id', kind: 'long' },
  { name: 'id2', kind: 'long' },
  { name: 'i', kind: 'integer' },
  { name: 'd', kind: 'double' },
  { name: 'name', kind: 'string' },
  { name: 'part', kind: 'string' },
  { name: 'flag', kind: 'boolean' },
  { name: 'bin', kind: 'binary' },
  { name: 'day', kind: 'date' },
  { name: 'ts', kind: 'timestamp' },
  { name: 'price', kind: 'decimal' },
  { name: 'st.x', kind: 'integer' },
];

const COMPARABLE_PAIRS: readonly [string, string][] = [
  ['id', 'id2'],
  ['id', 'i'],
  ['i', 'd'],
  ['name', 'part'],
  ['st.x', 'i'],
  ['d', 'id2'],
];

const field = (name: string, type: DataType): StructField => ({ name, type, nullable: true, metadata: {} });
const prim = (type: string) => ({ type }) as DataType;

const SCHEMA: StructType = {
  type: 'struct',
  fields: [
    field('id', prim('long')),
    field('id2', prim('long')),
    field('i', prim('integer')),
    field('d', prim('double')),
    field('name', prim('string')),
    field('part', prim('string')),
    field('flag', prim('boolean')),
    field('bin', prim('binary')),
    field('day', prim('date')),
    field('ts', prim('timestamp')),
    field('price', { type: 'decimal', precision: 10, scale: 2 }),
    field('st', { type: 'struct', fields: [field('x', prim('integer'))] }),
  ],
};

const STRING_PARTS = ['a', 'b', 'é', '\uFFFD', '😀', 'z', 'ab'];
const DOUBLES = [-1.5, -0, 0, 0.25, 1, 2.5, Number.NaN, Infinity, -Infinity];
const BYTES = [0, 1, 0x7f, 0x80, 0xff];
const TS_BASE = 1609459200000000n;

function randomValue(rng: Rng, kind: Kind): Exclude<ScalarValue, null> {
  switch (kind) {
    case 'long':
      return rng.chance(0.2)
        ? rng.pick([1n, -1n]) * (2n ** 60n + BigInt(rng.int(-2, 2)))
        : BigInt(rng.int(-5, 5));
    case 'integer':
      return rng.int(-5, 5);
    case 'double':
      return rng.pick(DOUBLES);
    case 'string':
      return Array.from({ length: rng.int(0, 3) }, () => rng.pick(STRING_PARTS)).join('');
    case 'boolean':
      return rng.chance(0.5);
    case 'binary':
      return Uint8Array.from({ length: rng.int(0, 2) }, () => rng.pick(BYTES));
    case 'date':
      return rng.int(18620, 18630);
    case 'timestamp':
      return TS_BASE + BigInt(rng.int(-4, 4)) * 400n + BigInt(rng.pick([0, 1, 998, 999]));
    case 'decimal':
      return BigInt(rng.int(-30, 30)) * BigInt(rng.pick([1, 7, 10]));
  }
}

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

function literalText(kind: Kind, v: ScalarValue): string {
  if (v === null) return 'NULL';
  switch (kind) {
    case 'long':
    case 'integer':
      return String(v);
    case 'double': {
      const x = v as number;
      if (Number.isNaN(x)) return "'NaN'";
      if (!Number.isFinite(x)) return x > 0 ? "'Infinity'" : "'-Infinity'";
      return String(x);
    }
    case 'string':
      return `'${(v as string).replaceAll("'", "''")}'`;
    case 'boolean':
      return v ? 'TRUE' : 'FALSE';
    case 'binary':
      return `X'${Array.from(v as Uint8Array, (b) => b.toString(16).padStart(2, '0')).join('')}'`;
    case 'date':
      return `DATE '${new Date((v as number) * 86_400_000).toISOString().slice(0, 10)}'`;
    case 'timestamp': {
      const micros = v as bigint;
      const ms = micros / 1000n - (micros % 1000n < 0n ? 1n : 0n);
      const frac = ((micros % 1_000_000n) + 1_000_000n) % 1_000_000n;
      const d = new Date(Number(ms));
      const text = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}:${pad2(d.getUTCSeconds())}.${String(frac).padStart(6, '0')}`;
      return `TIMESTAMP '${text}'`;
    }
    case 'decimal': {
      const u = v as bigint;
      const abs = u < 0n ? -u : u;
      return `${u < 0n ? '-' : ''}${abs / 100n}.${String(abs % 100n).padStart(2, '0')}`;
    }
  }
}

type Row = Record<string, ScalarValue>;

function randomRows(rng: Rng, n: number, partValue: ScalarValue | undefined): Row[] {
  const nullP = rng.pick([0, 0.1, 0.3, 0.9]);
  return Array.from({ length: n }, () => {
    const row: Row = {};
    for (const c of COLUMNS) row[c.name] = rng.chance(nullP) ? null : randomValue(rng, c.kind);
    if (partValue !== undefined) row.part = partValue;
    return row;
  });
}

// -- predicates -------------------------------------------------------------------------------------

function literalFor(rng: Rng, kind: Kind, name: string, rows: readonly Row[]): string {
  if (rng.chance(0.05)) return 'NULL';
  const seen = rows.map((r) => r[name]).filter((v) => v !== null);
  const v = seen.length > 0 && rng.chance(0.6) ? rng.pick(seen)! : randomValue(rng, kind);
  return literalText(kind, v);
}

const OPS = ['=', '!=', '<>', '<', '<=', '>', '>='];

function randomLeaf(rng: Rng, rows: readonly Row[]): string {
  const c = rng.pick(COLUMNS);
  const lit = () => literalFor(rng, c.kind, c.name, rows);
  const r = rng.next();
  if (r < 0.35)
    return rng.chance(0.8) ? `${c.name} ${rng.pick(OPS)} ${lit()}` : `${lit()} ${rng.pick(OPS)} ${c.name}`;
  if (r < 0.45) return `${c.name} ${rng.chance(0.3) ? 'NOT ' : ''}BETWEEN ${lit()} AND ${lit()}`;
  if (r < 0.62) {
    const items = Array.from({ length: rng.pick([1, 2, 3, 5, 10, 12]) }, lit);
    return `${c.name} ${rng.chance(0.4) ? 'NOT ' : ''}IN (${items.join(', ')})`;
  }
  if (r < 0.72) return `${c.name} IS ${rng.chance(0.5) ? 'NOT ' : ''}NULL`;
  if (r < 0.85) {
    const [x, y] = rng.pick(COMPARABLE_PAIRS);
    return rng.chance(0.5) ? `${x} ${rng.pick(OPS)} ${y}` : `${y} ${rng.pick(OPS)} ${x}`;
  }
  if (r < 0.95) return rng.chance(0.5) ? 'flag' : 'NOT flag';
  return rng.pick(['TRUE', 'FALSE', 'NULL', '1 = 1', 'id = NULL']);
}

function randomPredicate(rng: Rng, rows: readonly Row[], depth = 0): string {
  const r = rng.next();
  if (depth >= 3 || r < 0.45) return randomLeaf(rng, rows);
  if (r < 0.6) return `NOT (${randomPredicate(rng, rows, depth + 1)})`;
  const parts = Array.from({ length: rng.int(2, 3) }, () => `(${randomPredicate(rng, rows, depth + 1)})`);
  return parts.join(r < 0.8 ? ' AND ' : ' OR ');
}

const bind = (text: string): BoundExpr => bindPredicate(parsePredicate(text), SCHEMA);
const getter = (row: Row) => (path: readonly string[]) => row[path.join('.')];

// -- stats --------------------------------------------------------------------------------------------

interface BuiltStats {
  accessor: StatsAccessor;
  truncatedStringMax: boolean;
}

function buildStats(rng: Rng, rows: readonly Row[]): BuiltStats {
  const min = new Map<string, ScalarValue>();
  const max = new Map<string, ScalarValue>();
  const nulls = new Map<string, number>();
  const truncatedStringMax = rng.chance(0.2);
  for (const c of COLUMNS) {
    const values = rows.map((r) => r[c.name]!).filter((v) => v !== null);
    nulls.set(c.name, rows.length - values.length);
    if (values.length === 0) continue;
    let lo = values[0]!;
    let hi = values[0]!;
    for (const v of values) {
      if (compareScalars(v, lo) < 0) lo = v;
      if (compareScalars(v, hi) > 0) hi = v;
    }
    if (c.kind === 'timestamp') {
      // Spark writes timestamp stats truncated to milliseconds
      const trunc = (v: bigint) => (v / 1000n - (v % 1000n < 0n ? 1n : 0n)) * 1000n;
      lo = trunc(lo as bigint);
      hi = trunc(hi as bigint);
    }
    if (c.kind === 'string') {
      // prefixes are valid lower bounds; a truncated max needs the flag
      if (rng.chance(0.3)) lo = (lo as string).slice(0, rng.int(0, 2));
      if (truncatedStringMax && rng.chance(0.6)) hi = (hi as string).slice(0, rng.int(0, 2));
    }
    if (!rng.chance(0.1)) min.set(c.name, lo);
    if (!rng.chance(0.1)) max.set(c.name, hi);
  }
  for (const c of COLUMNS) if (rng.chance(0.1)) nulls.delete(c.name);
  const accessor: StatsAccessor = {
    ...(rng.chance(0.9) ? { numRecords: rows.length } : {}),
    min: (p) => min.get(p.join('.')),
    max: (p) => max.get(p.join('.')),
    nullCount: (p) => nulls.get(p.join('.')),
  };
  return { accessor, truncatedStringMax };
}

describe('property: data skipping is sound', () => {
  it('a file with a matching row is never skipped (4000 files)', () => {
    const rng = new Rng(20240601);
    let skipped = 0;
    let matching = 0;
    for (let n = 0; n < 4000; n++) {
      const partitioned = rng.chance(0.3);
      const partValue = partitioned ? (rng.chance(0.2) ? null : randomValue(rng, 'string')) : undefined;
      const rows = randomRows(rng, rng.int(0, 8), partValue);
      const text = randomPredicate(rng, rows);
      const expr = bind(text);
      const { accessor, truncatedStringMax } = buildStats(rng, rows);
      const pv = partitioned
        ? (p: readonly string[]) => (p.join('.') === 'part' ? partValue : undefined)
        : undefined;
      const may = mayMatchStats(expr, accessor, pv, { stringMaxMayBeTruncated: truncatedStringMax });
      const matches = rows.some((row) => evaluateOnValues(expr, getter(row)) === true);
      if (matches) matching++;
      if (!may) skipped++;
      if (matches && !may) {
        throw new Error(
          `unsound skip for ${text}\nrows: ${JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v))}`,
        );
      }
    }
    // not vacuous: some files match, and skipping does happen
    expect(matching).toBeGreaterThan(800);
    expect(skipped).toBeGreaterThan(800);
  });

  it('partition pruning with only partition values known is sound (evaluateOnValues !== false)', () => {
    const rng = new Rng(77);
    for (let n = 0; n < 2000; n++) {
      const partValue = rng.chance(0.2) ? null : randomValue(rng, 'string');
      const rows = randomRows(rng, rng.int(1, 6), partValue);
      const expr = bind(randomPredicate(rng, rows));
      const pruned =
        evaluateOnValues(expr, (p) => (p.join('.') === 'part' ? partValue : undefined)) === false;
      if (pruned) expect(rows.some((row) => evaluateOnValues(expr, getter(row)) === true)).toBe(false);
    }
  });

  it('negation normal form preserves row semantics', () => {
    const rng = new Rng(4242);
    for (let n = 0; n < 2000; n++) {
      const rows = randomRows(rng, 3, undefined);
      const expr = bind(randomPredicate(rng, rows));
      const nnf = toNegationNormalForm(expr);
      const neg = toNegationNormalForm(expr, true);
      for (const row of rows) {
        const r = evaluateOnValues(expr, getter(row));
        expect(evaluateOnValues(nnf, getter(row))).toBe(r);
        expect(evaluateOnValues(neg, getter(row))).toBe(r === null ? null : !r);
      }
    }
  });
});

// -- Arrow batches --------------------------------------------------------------------------------

function bitmapOf(valid: readonly boolean[]): { nullBitmap?: Uint8Array; nullCount: number } {
  const nullCount = valid.filter((v) => !v).length;
  if (nullCount === 0) return { nullCount: 0 };
  const nullBitmap = new Uint8Array((valid.length + 7) >> 3);
  valid.forEach((v, i) => {
    if (v) nullBitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullBitmap, nullCount };
}

function fixedWidth(
  type: Int64 | Int32 | DateDay | Timestamp | Float64,
  values: readonly ScalarValue[],
): Vector {
  const valid = values.map((v) => v !== null);
  let data: BigInt64Array | Int32Array | Float64Array;
  if (type instanceof Int64 || type instanceof Timestamp)
    data = BigInt64Array.from(values, (v) => (v ?? 0n) as bigint);
  else if (type instanceof Float64) data = Float64Array.from(values, (v) => (v ?? 0) as number);
  else data = Int32Array.from(values, (v) => (v ?? 0) as number);
  return makeVector(makeData({ type, length: values.length, data, ...bitmapOf(valid) } as never));
}

function decimalOf(values: readonly ScalarValue[]): Vector {
  const data = new Uint32Array(values.length * 4);
  values.forEach((v, i) => {
    let u = BigInt.asUintN(128, (v ?? 0n) as bigint);
    for (let k = 0; k < 4; k++) {
      data[i * 4 + k] = Number(u & 0xffffffffn);
      u >>= 32n;
    }
  });
  return makeVector(
    makeData({
      type: new Decimal(2, 10, 128),
      length: values.length,
      data,
      ...bitmapOf(values.map((v) => v !== null)),
    }),
  );
}

function vectorOf(rng: Rng, kind: Kind, values: readonly ScalarValue[]): Vector {
  switch (kind) {
    case 'long':
      return fixedWidth(new Int64(), values);
    case 'integer':
      return fixedWidth(new Int32(), values);
    case 'double':
      return fixedWidth(new Float64(), values);
    case 'date':
      return fixedWidth(new DateDay(), values);
    case 'timestamp':
      return fixedWidth(new Timestamp(TimeUnit.MICROSECOND, 'UTC'), values);
    case 'decimal':
      return decimalOf(values);
    case 'string': {
      const encoding = rng.pick(['utf8', 'large', 'dict'] as const);
      const strings = values as (string | null)[];
      if (encoding === 'dict') return vectorFromArray(strings);
      return vectorFromArray(strings, encoding === 'utf8' ? new Utf8() : new LargeUtf8());
    }
    case 'boolean':
      return vectorFromArray(values as (boolean | null)[], new Bool());
    case 'binary':
      return vectorFromArray(values as (Uint8Array | null)[], new Binary());
  }
}

/** The rows' column as a vector: padded then sliced (non-zero offsets), sometimes in two chunks. */
function encodeColumn(rng: Rng, kind: Kind, values: readonly ScalarValue[]): Vector {
  const left = rng.int(0, 9);
  const right = rng.int(0, 3);
  const padded = [
    ...Array.from({ length: left }, () => (rng.chance(0.3) ? null : randomValue(rng, kind))),
    ...values,
    ...Array.from({ length: right }, () => randomValue(rng, kind)),
  ];
  const v = vectorOf(rng, kind, padded).slice(left, left + values.length);
  if (values.length > 2 && rng.chance(0.3)) {
    const k = rng.int(1, values.length - 1);
    return makeVector([v.slice(0, k).data[0]!, v.slice(k).data[0]!] as Data[]);
  }
  return v;
}

describe('property: filterBatch agrees with evaluateOnValues', () => {
  it('on random batches, encodings and predicates (600 batches x 6 predicates)', () => {
    const rng = new Rng(99);
    for (let n = 0; n < 600; n++) {
      const constantPart = rng.chance(0.3);
      const partValue = constantPart ? (rng.chance(0.2) ? null : randomValue(rng, 'string')) : undefined;
      const rows = randomRows(rng, rng.int(0, 40), partValue);
      const columns = new Map<string, Vector | ScalarValue>();
      for (const c of COLUMNS) {
        if (c.name === 'part' && constantPart) columns.set('part', partValue!);
        else
          columns.set(
            c.name,
            encodeColumn(
              rng,
              c.kind,
              rows.map((r) => r[c.name]!),
            ),
          );
      }
      // the Arrow readers return exactly the values the rows were built from
      for (const [name, col] of columns) {
        if (!isVector(col)) continue;
        const read = vectorReader(col);
        rows.forEach((row, i) => {
          const got = read(i);
          const want = row[name]!;
          const same =
            got === null || want === null
              ? got === want
              : typeof got === typeof want && compareScalars(got, want) === 0;
          if (!same) expect.fail(`column ${name} row ${i}: read ${String(got)}, built ${String(want)}`);
        });
      }
      const batch = new RecordBatch({ _: makeData({ type: new Null(), length: rows.length }) });
      for (let k = 0; k < 6; k++) {
        const text = randomPredicate(rng, rows);
        const expr = bind(text);
        const mask = filterBatch(expr, batch, (p) => columns.get(p.join('.'))!);
        const expected = rows.map((row) => (evaluateOnValues(expr, getter(row)) === true ? 1 : 0));
        if (Array.from(mask).join() !== expected.join()) {
          expect.fail(`mismatch for ${text}: got ${Array.from(mask).join('')}, want ${expected.join('')}`);
        }
      }
    }
  });
});
