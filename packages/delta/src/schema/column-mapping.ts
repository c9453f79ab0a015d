/**
 * Column mapping (PROTOCOL.md "Column Mapping"): the table's mode, and the physical schema whose
 * names are the ones used in data files, partition values and stats.
 *
 * Invariants:
 * - Mode 'none' (or no `delta.columnMapping.mode`, or a protocol that does not support the
 *   `columnMapping` feature) leaves names unchanged: physical = logical.
 * - In 'name' and 'id' mode every field, nested ones included (inside structs, array elements and
 *   map keys/values), has a `delta.columnMapping.physicalName`; a missing one is
 *   `WeirError('INVALID_SCHEMA')` naming the field.
 * - `physicalSchema` keeps the logical schema's shape, order, types, nullability and metadata; only
 *   names change. Field i of a struct in the physical schema is field i of the logical one.
 * - 'id' mode: the protocol says to resolve Parquet columns by field id. Weir resolves them by
 *   physical name in both modes (Spark writes physical names as the Parquet names in both), which
 *   is correct for files written by Delta writers. The ids are still exposed (`columnMappingId`),
 *   parquet-wasm does surface Parquet field ids as the Arrow field metadata 'PARQUET:field_id',
 *   and `deltaSchemaToArrow(..., { parquetFieldIds: true })` writes them.
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import type { Configuration, ProtocolAction } from '../actions/types.js';
import {
  COLUMN_MAPPING_ID_KEY,
  COLUMN_MAPPING_PHYSICAL_NAME_KEY,
  type DataType,
  type StructField,
  type StructType,
} from './types.js';

export type ColumnMappingMode = 'none' | 'name' | 'id';

export const COLUMN_MAPPING_MODE_KEY = 'delta.columnMapping.mode';
export const COLUMN_MAPPING_MAX_ID_KEY = 'delta.columnMapping.maxColumnId';

/** Whether a protocol lets the column mapping table property take effect. */
export function protocolSupportsColumnMapping(protocol: ProtocolAction): boolean {
  if (protocol.minReaderVersion === 2) return true;
  if (protocol.minReaderVersion >= 3) return protocol.readerFeatures?.includes('columnMapping') ?? false;
  return false;
}

/**
 * The table's column mapping mode from `metaData.configuration` (case-insensitive). With a
 * protocol, a mode the protocol does not support is 'none' (the protocol says the property is
 * then not honored). An unknown mode is `WeirError('UNSUPPORTED_FEATURE')`.
 */
export function columnMappingMode(
  configuration: Configuration,
  protocol?: ProtocolAction,
): ColumnMappingMode {
  const raw = configuration[COLUMN_MAPPING_MODE_KEY];
  if (raw === undefined) return 'none';
  const mode = raw.trim().toLowerCase();
  if (mode !== 'none' && mode !== 'name' && mode !== 'id') {
    throw new WeirError(
      'UNSUPPORTED_FEATURE',
      `unknown column mapping mode '${raw}' (${COLUMN_MAPPING_MODE_KEY})`,
      {
        details: { key: COLUMN_MAPPING_MODE_KEY, value: raw },
      },
    );
  }
  if (protocol !== undefined && mode !== 'none' && !protocolSupportsColumnMapping(protocol)) return 'none';
  return mode;
}

/** The field's name in data files: its physical name in 'name'/'id' mode, else its name. */
export function physicalName(field: StructField, mode: ColumnMappingMode, path?: string): string {
  if (mode === 'none') return field.name;
  const v = field.metadata[COLUMN_MAPPING_PHYSICAL_NAME_KEY];
  if (typeof v !== 'string' || v === '') {
    const at = path ?? field.name;
    throw new WeirError(
      'INVALID_SCHEMA',
      `column mapping mode '${mode}' but field ${at} has no ${COLUMN_MAPPING_PHYSICAL_NAME_KEY}`,
      { details: { field: at, mode } },
    );
  }
  return v;
}

/** The field's column mapping id (`delta.columnMapping.id`), or undefined. */
export function columnMappingId(field: StructField): number | undefined {
  const v = field.metadata[COLUMN_MAPPING_ID_KEY];
  if (typeof v === 'number' && Number.isInteger(v)) return v;
  if (typeof v === 'string' && /^\d+$/.test(v)) return Number(v);
  return undefined;
}

function mapType(t: DataType, mode: ColumnMappingMode, path: string): DataType {
  switch (t.type) {
    case 'struct':
      return mapStruct(t as StructType, mode, path);
    case 'array': {
      const a = t as Extract<DataType, { type: 'array' }>;
      return { ...a, elementType: mapType(a.elementType, mode, `${path}.element`) };
    }
    case 'map': {
      const m = t as Extract<DataType, { type: 'map' }>;
      return {
        ...m,
        keyType: mapType(m.keyType, mode, `${path}.key`),
        valueType: mapType(m.valueType, mode, `${path}.value`),
      };
    }
    default:
      return t;
  }
}

function mapStruct(s: StructType, mode: ColumnMappingMode, path: string): StructType {
  return {
    type: 'struct',
    fields: s.fields.map((f) => {
      const at = path === '' ? f.name : `${path}.${f.name}`;
      return { ...f, name: physicalName(f, mode, at), type: mapType(f.type, mode, at) };
    }),
  };
}

/** The schema with physical names at every level (unchanged in mode 'none'). */
export function physicalSchema(logical: StructType, mode: ColumnMappingMode): StructType {
  return mode === 'none' ? logical : mapStruct(logical, mode, '');
}

/**
 * The physical path of a logical column path through nested structs (e.g. a stats or partition
 * key), or undefined when a name does not resolve to a struct field.
 */
export function physicalPath(
  logical: StructType,
  path: readonly string[],
  mode: ColumnMappingMode,
): string[] | undefined {
  const out: string[] = [];
  let current: StructType | undefined = logical;
  for (const name of path) {
    if (current === undefined) return undefined;
    const field: StructField | undefined = current.fields.find((f) => f.name === name);
    if (field === undefined) return undefined;
    out.push(physicalName(field, mode, path.slice(0, out.length + 1).join('.')));
    current = field.type.type === 'struct' ? (field.type as StructType) : undefined;
  }
  return out;
}
