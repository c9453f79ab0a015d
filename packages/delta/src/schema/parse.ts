/**
 * The Delta schema JSON (PROTOCOL.md "Schema Serialization Format") <-> the `StructType` model,
 * and small helpers over the model (path lookup, printing, equality).
 *
 * Invariants:
 * - `parseSchema(serializeSchema(s))` deep-equals `s`, and `serializeSchema` writes the protocol's
 *   key order ({type, fields}; {name, type, nullable, metadata}; {type, elementType, containsNull};
 *   {type, keyType, valueType, valueContainsNull}) with decimals as "decimal(p,s)".
 * - Field metadata is kept verbatim, in its order; an integer beyond 2^53 is kept as a bigint and
 *   written back exactly.
 * - A malformed schema is `WeirError('INVALID_SCHEMA')`; a type name this model does not know
 *   (e.g. 'void', 'interval', a UDT) is `WeirError('UNSUPPORTED_TYPE')`; both name the field path.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import { parseJsonExact, stringifyJsonExact } from '../actions/codec.js';
import type {
  ArrayType,
  DataType,
  DecimalType,
  MapType,
  PrimitiveType,
  PrimitiveTypeName,
  StructField,
  StructType,
} from './types.js';

/** Where a schema came from, for error messages. */
export interface SchemaLocation {
  table?: string;
  file?: string;
  version?: number;
}

const PRIMITIVE_NAMES: ReadonlySet<string> = new Set<PrimitiveTypeName>([
  'string',
  'long',
  'integer',
  'short',
  'byte',
  'float',
  'double',
  'boolean',
  'binary',
  'date',
  'timestamp',
  'timestamp_ntz',
  'variant',
]);

const DECIMAL_PATTERN = /^decimal\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)$/;
export const MAX_DECIMAL_PRECISION = 38;

function locate(where: SchemaLocation): string {
  const parts: string[] = [];
  if (where.table !== undefined) parts.push(where.table);
  if (where.file !== undefined) parts.push(where.file);
  if (where.version !== undefined) parts.push(`version ${where.version}`);
  return parts.length ? `${parts.join(' ')}: ` : '';
}

function invalid(where: SchemaLocation, path: string, message: string): WeirError {
  const field = path === '' ? 'schema' : `field ${path}`;
  return new WeirError('INVALID_SCHEMA', `${locate(where)}${field}: ${message}`, {
    details: { ...where, field: path },
  });
}

function unsupported(
  where: SchemaLocation,
  path: string,
  typeName: string,
  why = 'is not supported',
): WeirError {
  return new WeirError(
    'UNSUPPORTED_TYPE',
    `${locate(where)}field ${path || '<root>'}: type '${typeName}' ${why}`,
    {
      details: { ...where, field: path, type: typeName },
    },
  );
}

function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function child(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function parsePrimitive(name: string, path: string, where: SchemaLocation): PrimitiveType | DecimalType {
  if (PRIMITIVE_NAMES.has(name)) return { type: name as PrimitiveTypeName };
  if (name === 'decimal') return { type: 'decimal', precision: 10, scale: 0 };
  const m = DECIMAL_PATTERN.exec(name);
  if (m) {
    const precision = Number(m[1]);
    const scale = Number(m[2]);
    if (precision < 1 || precision > MAX_DECIMAL_PRECISION || scale < 0 || scale > precision) {
      throw unsupported(
        where,
        path,
        name,
        `is out of range (precision 1..${MAX_DECIMAL_PRECISION}, scale 0..precision)`,
      );
    }
    return { type: 'decimal', precision, scale };
  }
  throw unsupported(where, path, name);
}

function requireBool(o: Record<string, unknown>, key: string, path: string, where: SchemaLocation): boolean {
  const v = o[key];
  if (typeof v !== 'boolean')
    throw invalid(where, path, `'${key}' must be a boolean, got ${JSON.stringify(v)}`);
  return v;
}

function parseField(raw: unknown, parentPath: string, index: number, where: SchemaLocation): StructField {
  if (!isObj(raw)) throw invalid(where, child(parentPath, `[${index}]`), 'a struct field must be an object');
  const name = raw.name;
  if (typeof name !== 'string')
    throw invalid(where, child(parentPath, `[${index}]`), "a struct field needs a string 'name'");
  const path = child(parentPath, name);
  const metadata = raw.metadata ?? {};
  if (!isObj(metadata)) throw invalid(where, path, "'metadata' must be an object");
  return {
    name,
    type: parseType(raw.type, path, where),
    nullable: requireBool(raw, 'nullable', path, where),
    metadata,
  };
}

function parseType(raw: unknown, path: string, where: SchemaLocation): DataType {
  if (typeof raw === 'string') return parsePrimitive(raw, path, where);
  if (!isObj(raw))
    throw invalid(where, path, `a type must be a name or an object, got ${JSON.stringify(raw)}`);
  switch (raw.type) {
    case 'struct': {
      if (!Array.isArray(raw.fields)) throw invalid(where, path, "a struct needs a 'fields' array");
      return { type: 'struct', fields: raw.fields.map((f, i) => parseField(f, path, i, where)) };
    }
    case 'array':
      return {
        type: 'array',
        elementType: parseType(raw.elementType, child(path, 'element'), where),
        containsNull: requireBool(raw, 'containsNull', path, where),
      };
    case 'map':
      return {
        type: 'map',
        keyType: parseType(raw.keyType, child(path, 'key'), where),
        valueType: parseType(raw.valueType, child(path, 'value'), where),
        valueContainsNull: requireBool(raw, 'valueContainsNull', path, where),
      };
    default:
      if (typeof raw.type === 'string') throw unsupported(where, path, raw.type);
      throw invalid(where, path, "a type object needs a 'type' of struct, array or map");
  }
}

/** Parses `metaData.schemaString`. The top level must be a struct. */
export function parseSchema(schemaString: string, where: SchemaLocation = {}): StructType {
  let raw: unknown;
  try {
    raw = parseJsonExact(schemaString);
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new WeirError('INVALID_SCHEMA', `${locate(where)}schemaString is not valid JSON (${reason})`, {
      cause: err,
      details: { ...where },
    });
  }
  const t = parseType(raw, '', where);
  if (t.type !== 'struct') throw invalid(where, '', `the top level must be a struct, got ${typeToString(t)}`);
  return t as StructType;
}

function serializeType(t: DataType): string {
  switch (t.type) {
    case 'struct':
      return serializeStruct(t as StructType);
    case 'array': {
      const a = t as ArrayType;
      return `{"type":"array","elementType":${serializeType(a.elementType)},"containsNull":${a.containsNull}}`;
    }
    case 'map': {
      const m = t as MapType;
      return `{"type":"map","keyType":${serializeType(m.keyType)},"valueType":${serializeType(
        m.valueType,
      )},"valueContainsNull":${m.valueContainsNull}}`;
    }
    default:
      return JSON.stringify(typeToString(t));
  }
}

function serializeStruct(s: StructType): string {
  const fields = s.fields.map(
    (f) =>
      `{"name":${JSON.stringify(f.name)},"type":${serializeType(f.type)},"nullable":${f.nullable},"metadata":${stringifyJsonExact(
        f.metadata,
      )}}`,
  );
  return `{"type":"struct","fields":[${fields.join(',')}]}`;
}

/** The protocol JSON of a schema, compact, as Spark writes it into `schemaString`. */
export function serializeSchema(s: StructType): string {
  return serializeStruct(s);
}

/** True for primitive and decimal types (not struct, array or map). */
export function isPrimitive(t: DataType): t is PrimitiveType | DecimalType {
  return t.type !== 'struct' && t.type !== 'array' && t.type !== 'map';
}

/** A short readable form for messages: 'long', 'decimal(10,2)', 'array<long>', 'struct<a:integer>'. */
export function typeToString(t: DataType): string {
  switch (t.type) {
    case 'decimal': {
      const d = t as DecimalType;
      return `decimal(${d.precision},${d.scale})`;
    }
    case 'array':
      return `array<${typeToString((t as ArrayType).elementType)}>`;
    case 'map': {
      const m = t as MapType;
      return `map<${typeToString(m.keyType)},${typeToString(m.valueType)}>`;
    }
    case 'struct':
      return `struct<${(t as StructType).fields.map((f) => `${f.name}:${typeToString(f.type)}`).join(',')}>`;
    default:
      return t.type;
  }
}

export interface TypesEqualOptions {
  /** Ignore field nullability, containsNull and valueContainsNull (default false). */
  ignoreNullability?: boolean;
  /** Also compare field metadata (default false: types only). */
  compareMetadata?: boolean;
}

function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a as object);
  const kb = Object.keys(b as object);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => jsonEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Structural equality: names, types and (unless ignored) nullability; metadata when asked. */
export function typesEqual(a: DataType, b: DataType, options: TypesEqualOptions = {}): boolean {
  if (a.type !== b.type) return false;
  const nulls = !options.ignoreNullability;
  switch (a.type) {
    case 'decimal': {
      const x = a as DecimalType;
      const y = b as DecimalType;
      return x.precision === y.precision && x.scale === y.scale;
    }
    case 'array': {
      const x = a as ArrayType;
      const y = b as ArrayType;
      return (
        (!nulls || x.containsNull === y.containsNull) && typesEqual(x.elementType, y.elementType, options)
      );
    }
    case 'map': {
      const x = a as MapType;
      const y = b as MapType;
      return (
        (!nulls || x.valueContainsNull === y.valueContainsNull) &&
        typesEqual(x.keyType, y.keyType, options) &&
        typesEqual(x.valueType, y.valueType, options)
      );
    }
    case 'struct': {
      const x = (a as StructType).fields;
      const y = (b as StructType).fields;
      if (x.length !== y.length) return false;
      return x.every((f, i) => {
        const g = y[i]!;
        return (
          f.name === g.name &&
          (!nulls || f.nullable === g.nullable) &&
          (!options.compareMetadata || jsonEqual(f.metadata, g.metadata)) &&
          typesEqual(f.type, g.type, options)
        );
      });
    }
    default:
      return true;
  }
}

/**
 * The field at `path` (names through nested structs), or undefined. Each step matches the exact
 * name first, then case-insensitively (Delta column names are unique regardless of case).
 */
export function fieldAtPath(schema: StructType, path: readonly string[]): StructField | undefined {
  let current: StructType = schema;
  let found: StructField | undefined;
  for (let i = 0; i < path.length; i++) {
    const name = path[i]!;
    const lower = name.toLowerCase();
    found =
      current.fields.find((f) => f.name === name) ??
      current.fields.find((f) => f.name.toLowerCase() === lower);
    if (!found) return undefined;
    if (i < path.length - 1) {
      if (found.type.type !== 'struct') return undefined;
      current = found.type as StructType;
    }
  }
  return found;
}
