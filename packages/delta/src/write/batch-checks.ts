/**
 * Checks a batch handed to the data file writer before any of it is buffered, so bad input fails
 * with an error naming the table and column instead of a Parquet encoder error (or a file that
 * breaks the table's NOT NULL constraints).
 *
 * Invariants:
 * - The batch has exactly the schema's columns, by name (case-insensitive) and in order, with the
 *   Arrow type family (`typeId`) `deltaSchemaToArrow` gives them: `SCHEMA_MISMATCH` otherwise.
 * - A non-nullable field has no null where its enclosing struct is present; array elements
 *   (containsNull = false) and map values (valueContainsNull = false) likewise, and map keys are
 *   never null: `NULL_CONSTRAINT_VIOLATED` otherwise, naming the column path and the row count.
 * - Costs nothing for columns without nulls (Arrow's null count is checked first).
 * Pure and synchronous.
 */
import { WeirError } from '@weir/storage';
import type { DataType as ArrowType, Data, RecordBatch } from 'apache-arrow';
import { deltaTypeToArrow } from '../schema/arrow.js';
import type { DataType, StructType } from '../schema/types.js';

type AnyData = Data<ArrowType>;

function nullRows(data: AnyData, parent: Uint8Array | undefined): { count: number; valid?: Uint8Array } {
  const bitmap = data.nullBitmap;
  if (!bitmap || bitmap.length === 0 || data.nullCount === 0)
    return parent ? { count: 0, valid: parent } : { count: 0 };
  const valid = new Uint8Array(data.length);
  let count = 0;
  for (let i = 0; i < data.length; i++) {
    const pos = data.offset + i;
    const present = ((bitmap[pos >> 3]! >> (pos & 7)) & 1) === 1;
    const parentPresent = parent === undefined || parent[i] === 1;
    valid[i] = present && parentPresent ? 1 : 0;
    if (!present && parentPresent) count++;
  }
  return { count, valid };
}

function violation(table: string, column: string, rows: number, what: string): WeirError {
  return new WeirError(
    'NULL_CONSTRAINT_VIOLATED',
    `${table}: ${what} ${column} is NOT NULL but ${rows} value(s) are null`,
    { details: { table, column, nullRows: rows } },
  );
}

function childRange(data: AnyData): AnyData {
  const child = data.children[0] as AnyData;
  const offsets = data.valueOffsets as Int32Array;
  const start = offsets[0]!;
  const end = offsets[data.length]!;
  return start === 0 && end === child.length ? child : child.slice(start, end - start);
}

function checkNested(
  table: string,
  data: AnyData,
  type: DataType,
  valid: Uint8Array | undefined,
  path: string,
): void {
  switch (type.type) {
    case 'struct':
      (type as StructType).fields.forEach((f, i) => {
        checkValue(
          table,
          data.children[i] as AnyData,
          f.type,
          f.nullable,
          valid,
          `${path}.${f.name}`,
          'field',
        );
      });
      return;
    case 'array': {
      if (data.length === 0) return;
      checkValue(
        table,
        childRange(data),
        type.elementType,
        type.containsNull,
        undefined,
        `${path}.element`,
        'element of',
      );
      return;
    }
    case 'map': {
      if (data.length === 0) return;
      const entries = childRange(data);
      checkValue(
        table,
        entries.children[0] as AnyData,
        type.keyType,
        false,
        undefined,
        `${path}.key`,
        'key of',
      );
      checkValue(
        table,
        entries.children[1] as AnyData,
        type.valueType,
        type.valueContainsNull,
        undefined,
        `${path}.value`,
        'value of',
      );
      return;
    }
    default:
  }
}

function checkValue(
  table: string,
  data: AnyData,
  type: DataType,
  nullable: boolean,
  parent: Uint8Array | undefined,
  path: string,
  what: string,
): void {
  const { count, valid } = nullRows(data, parent);
  if (!nullable && count > 0) throw violation(table, path, count, what);
  if (type.type === 'struct' || type.type === 'array' || type.type === 'map') {
    checkNested(table, data, type, valid, path);
  }
}

/** Throws unless `batch` has the schema's columns and respects its NOT NULL constraints. */
export function checkBatch(batch: RecordBatch, schema: StructType, table: string): void {
  const fields = batch.schema.fields;
  const mismatch = (why: string, column?: string) =>
    new WeirError('SCHEMA_MISMATCH', `${table}: the batch does not match the table schema: ${why}`, {
      details: { table, ...(column === undefined ? {} : { column }) },
    });
  if (fields.length !== schema.fields.length) {
    throw mismatch(`${fields.length} columns, the table has ${schema.fields.length}`);
  }
  schema.fields.forEach((f, i) => {
    const bf = fields[i]!;
    if (bf.name.toLowerCase() !== f.name.toLowerCase())
      throw mismatch(`column ${i} is ${bf.name}, the table's is ${f.name}`, f.name);
    if (bf.type.typeId !== deltaTypeToArrow(f.type).typeId)
      throw mismatch(`column ${f.name} has Arrow type ${String(bf.type)}`, f.name);
    checkValue(table, batch.data.children[i] as AnyData, f.type, f.nullable, undefined, f.name, 'column');
  });
}
