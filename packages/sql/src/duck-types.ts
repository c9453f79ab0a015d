/**
 * Delta types and values as DuckDB SQL text: identifier and string quoting, the DuckDB type of
 * each Delta type, and typed SQL literals for partition values.
 *
 * Mapping: string VARCHAR, long BIGINT, integer INTEGER, short SMALLINT, byte TINYINT, float
 * FLOAT, double DOUBLE, boolean BOOLEAN, binary BLOB, date DATE, timestamp TIMESTAMPTZ (the
 * session time zone is UTC), timestamp_ntz TIMESTAMP, decimal(p,s) DECIMAL(p,s), array T[],
 * map MAP(K, V), struct STRUCT("name" T, ...). `variant` has no counterpart (UNSUPPORTED_TYPE).
 *
 * Literals are exact: integers and decimals from their digits, floats through their shortest
 * round-trip text, dates as days added to the epoch, timestamps from their microseconds
 * (`make_timestamp`), binary from hex. Pure and synchronous.
 */
import { type DataType, type DecimalType, type ScalarValue, typeToString } from '@weir/delta';
import { WeirError } from '@weir/storage';

/** A double-quoted SQL identifier. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** A single-quoted SQL string literal. */
export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

const PRIMITIVES: Readonly<Record<string, string>> = {
  string: 'VARCHAR',
  long: 'BIGINT',
  integer: 'INTEGER',
  short: 'SMALLINT',
  byte: 'TINYINT',
  float: 'FLOAT',
  double: 'DOUBLE',
  boolean: 'BOOLEAN',
  binary: 'BLOB',
  date: 'DATE',
  timestamp: 'TIMESTAMPTZ',
  timestamp_ntz: 'TIMESTAMP',
};

/** The DuckDB type of a Delta type. */
export function duckType(t: DataType): string {
  switch (t.type) {
    case 'decimal': {
      const d = t as DecimalType;
      return `DECIMAL(${d.precision},${d.scale})`;
    }
    case 'array':
      return `${duckType(t.elementType)}[]`;
    case 'map':
      return `MAP(${duckType(t.keyType)}, ${duckType(t.valueType)})`;
    case 'struct':
      if (t.fields.length === 0) throw unsupported(t, 'DuckDB has no empty STRUCT');
      return `STRUCT(${t.fields.map((f) => `${quoteIdent(f.name)} ${duckType(f.type)}`).join(', ')})`;
    default: {
      const name = PRIMITIVES[t.type];
      if (name === undefined) throw unsupported(t, 'no DuckDB counterpart');
      return name;
    }
  }
}

function unsupported(t: DataType, why: string): WeirError {
  return new WeirError('UNSUPPORTED_TYPE', `type ${typeToString(t)} cannot be queried with SQL (${why})`, {
    details: { type: typeToString(t) },
  });
}

function floatText(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return 'Infinity';
  if (v === Number.NEGATIVE_INFINITY) return '-Infinity';
  if (Object.is(v, -0)) return '-0.0';
  return String(v);
}

function decimalText(unscaled: bigint, scale: number): string {
  if (scale === 0) return unscaled.toString();
  const negative = unscaled < 0n;
  const digits = (negative ? -unscaled : unscaled).toString().padStart(scale + 1, '0');
  return `${negative ? '-' : ''}${digits.slice(0, -scale)}.${digits.slice(-scale)}`;
}

function badValue(v: ScalarValue, t: DataType): WeirError {
  return new WeirError('INVALID_ARGUMENT', `value ${String(v)} is not a ${typeToString(t)}`, {
    details: { type: typeToString(t), value: String(v) },
  });
}

function integral(v: ScalarValue, t: DataType): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v)) return BigInt(v);
  throw badValue(v, t);
}

/** A typed SQL literal of a scalar (Weir's scalar representation, see @weir/delta). */
export function sqlLiteral(v: ScalarValue, t: DataType): string {
  const type = duckType(t);
  if (v === null) return `CAST(NULL AS ${type})`;
  switch (t.type) {
    case 'string':
      if (typeof v !== 'string') throw badValue(v, t);
      return `CAST(${sqlString(v)} AS VARCHAR)`;
    case 'boolean':
      if (typeof v !== 'boolean') throw badValue(v, t);
      return v ? 'TRUE' : 'FALSE';
    case 'byte':
    case 'short':
    case 'integer':
    case 'long':
      return `CAST(${integral(v, t)} AS ${type})`;
    case 'float':
    case 'double':
      if (typeof v !== 'number') throw badValue(v, t);
      return `CAST(${sqlString(floatText(v))} AS ${type})`;
    case 'decimal':
      return `CAST(${sqlString(decimalText(integral(v, t), (t as DecimalType).scale))} AS ${type})`;
    case 'date':
      if (typeof v !== 'number' || !Number.isSafeInteger(v)) throw badValue(v, t);
      return `CAST(DATE '1970-01-01' + CAST(${v} AS INTEGER) AS DATE)`;
    case 'timestamp':
      return `CAST(make_timestamp(CAST(${integral(v, t)} AS BIGINT)) AS TIMESTAMPTZ)`;
    case 'timestamp_ntz':
      return `make_timestamp(CAST(${integral(v, t)} AS BIGINT))`;
    case 'binary':
      if (!(v instanceof Uint8Array)) throw badValue(v, t);
      return `unhex(${sqlString(Buffer.from(v).toString('hex'))})`;
    default:
      throw unsupported(t, 'not a partition column type');
  }
}
