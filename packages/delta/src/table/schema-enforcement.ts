/**
 * Schema enforcement and evolution for writes. `reconcileSchema` (pure) decides whether an
 * input Arrow schema fits the table schema — and, with `mergeSchema`, what the evolved table
 * schema is (new nullable columns, new nested struct fields, safe type widening) — or throws a
 * typed error naming the column and both types. `conformForWrite` then shapes each input batch
 * to the (evolved) table schema: every column in table order with the table's Arrow types,
 * absent nullable columns as nulls, nulls in non-nullable columns refused.
 *
 * Inputs may be narrower than the table without evolution (int32 into long, float into double,
 * any timestamp unit): that is a lossless cast, not a schema change. Widening the table itself
 * (an integer column receiving long data) needs `mergeSchema` and records the change in the
 * field's `delta.typeChanges` metadata (the typeWidening feature).
 */

import { WeirError } from '@weir/storage';
import {
  type DataType as ArrowType,
  type Data,
  Field,
  makeData,
  RecordBatch,
  Schema,
  Struct,
} from 'apache-arrow';
import { nullData } from '../scan/arrow-kernels.js';
import { conformData, findChildIndex } from '../scan/conform.js';
import { arrowTypeToDelta, deltaTypeToArrow } from '../schema/arrow.js';
import { typeToString } from '../schema/parse.js';
import type { DataType, PrimitiveTypeName, StructField, StructType } from '../schema/types.js';

export interface ReconcileResult {
  schema: StructType;
  /** Whether `schema` differs from the table's (a metaData action is needed). */
  changed: boolean;
  /** Whether a column type was widened (needs the typeWidening table feature). */
  widened: boolean;
}

const INTEGER_RANK: Partial<Record<PrimitiveTypeName, number>> = { byte: 1, short: 2, integer: 3, long: 4 };

/** Whether values of `input` fit `target` losslessly without changing the table. */
export function fitsWithoutChange(input: DataType, target: DataType): boolean {
  if (input.type === 'struct' || target.type === 'struct') return false;
  if (input.type === target.type) {
    if (input.type === 'decimal' && target.type === 'decimal') {
      return input.scale === target.scale && input.precision <= target.precision;
    }
    if (input.type === 'array' && target.type === 'array')
      return (
        fitsWithoutChange(input.elementType, target.elementType) ||
        sameType(input.elementType, target.elementType)
      );
    if (input.type === 'map' && target.type === 'map') {
      return (
        (sameType(input.keyType, target.keyType) || fitsWithoutChange(input.keyType, target.keyType)) &&
        (sameType(input.valueType, target.valueType) || fitsWithoutChange(input.valueType, target.valueType))
      );
    }
    return true;
  }
  const ri = INTEGER_RANK[input.type as PrimitiveTypeName];
  const rt = INTEGER_RANK[target.type as PrimitiveTypeName];
  if (ri !== undefined && rt !== undefined) return ri <= rt;
  if (input.type === 'float' && target.type === 'double') return true;
  if (ri !== undefined && ri <= 3 && target.type === 'double') return true;
  return false;
}

/** Widenings the typeWidening feature allows a table column to undergo. */
function canWidenTable(from: DataType, to: DataType): boolean {
  const rf = INTEGER_RANK[from.type as PrimitiveTypeName];
  const rt = INTEGER_RANK[to.type as PrimitiveTypeName];
  if (rf !== undefined && rt !== undefined) return rf < rt;
  if (from.type === 'float' && to.type === 'double') return true;
  if (rf !== undefined && rf <= 3 && to.type === 'double') return true;
  if (from.type === 'date' && to.type === 'timestamp_ntz') return true;
  return false;
}

function sameType(a: DataType, b: DataType): boolean {
  return typeToString(a) === typeToString(b);
}

function mismatch(
  table: string,
  column: string,
  tableType: string,
  inputType: string,
  hint: string,
): WeirError {
  return new WeirError(
    'SCHEMA_MISMATCH',
    `${table}: column ${column} has type ${tableType} in the table but ${inputType} in the data${hint ? `; ${hint}` : ''}`,
    { details: { table, column, tableType, inputType } },
  );
}

interface Ctx {
  table: string;
  mergeSchema: boolean;
  widened: boolean;
  changed: boolean;
}

function reconcileStruct(ctx: Ctx, target: StructType, input: StructType, prefix: string): StructType {
  const fields: StructField[] = target.fields.map((f) => ({ ...f }));
  for (const inField of input.fields) {
    const path = prefix ? `${prefix}.${inField.name}` : inField.name;
    const lower = inField.name.toLowerCase();
    const idx = fields.findIndex((f) => f.name === inField.name);
    const ci = idx >= 0 ? idx : fields.findIndex((f) => f.name.toLowerCase() === lower);
    if (ci < 0) {
      if (!ctx.mergeSchema) {
        throw new WeirError(
          'SCHEMA_MISMATCH',
          `${ctx.table}: column ${path} (${typeToString(inField.type)}) is not in the table; write with mergeSchema to add it`,
          { details: { table: ctx.table, column: path, inputType: typeToString(inField.type) } },
        );
      }
      fields.push({ name: inField.name, type: inField.type, nullable: true, metadata: {} });
      ctx.changed = true;
      continue;
    }
    const tf = fields[ci]!;
    // reconcileType may record a type change in tf.metadata: compute it before copying tf.
    const type = reconcileType(ctx, tf, tf.type, inField.type, path);
    fields[ci] = { ...tf, type };
  }
  return { type: 'struct', fields };
}

function reconcileType(
  ctx: Ctx,
  field: StructField,
  target: DataType,
  input: DataType,
  path: string,
): DataType {
  if (target.type === 'struct' && input.type === 'struct') return reconcileStruct(ctx, target, input, path);
  if (target.type === 'array' && input.type === 'array') {
    const element = reconcileType(ctx, field, target.elementType, input.elementType, `${path}.element`);
    return element === target.elementType ? target : { ...target, elementType: element };
  }
  if (target.type === 'map' && input.type === 'map') {
    const keyType = reconcileType(ctx, field, target.keyType, input.keyType, `${path}.key`);
    const valueType = reconcileType(ctx, field, target.valueType, input.valueType, `${path}.value`);
    return keyType === target.keyType && valueType === target.valueType
      ? target
      : { ...target, keyType, valueType };
  }
  if (sameType(target, input) || fitsWithoutChange(input, target)) return target;
  if (canWidenTable(target, input)) {
    if (!ctx.mergeSchema) {
      throw mismatch(
        ctx.table,
        path,
        typeToString(target),
        typeToString(input),
        'write with mergeSchema to widen the column',
      );
    }
    ctx.changed = true;
    ctx.widened = true;
    const changes = Array.isArray(field.metadata['delta.typeChanges'])
      ? (field.metadata['delta.typeChanges'] as unknown[])
      : [];
    (field as { metadata: Record<string, unknown> }).metadata = {
      ...field.metadata,
      'delta.typeChanges': [...changes, { fromType: typeToString(target), toType: typeToString(input) }],
    };
    return input;
  }
  throw mismatch(ctx.table, path, typeToString(target), typeToString(input), '');
}

/** Checks an input schema against the table's; with mergeSchema, evolves it. Pure. */
export function reconcileSchema(
  table: string,
  tableSchema: StructType,
  input: Schema,
  options: { mergeSchema?: boolean } = {},
): ReconcileResult {
  const inputDelta: StructType = {
    type: 'struct',
    fields: input.fields.map((f) => ({
      name: f.name,
      type: arrowTypeToDelta(f.type, f.name),
      nullable: f.nullable,
      metadata: {},
    })),
  };
  const ctx: Ctx = { table, mergeSchema: options.mergeSchema ?? false, widened: false, changed: false };
  const schema = reconcileStruct(ctx, tableSchema, inputDelta, '');
  return { schema: ctx.changed ? schema : tableSchema, changed: ctx.changed, widened: ctx.widened };
}

/** Shapes a batch to the table schema (all columns, table order, table types). */
export function conformForWrite(batch: RecordBatch, schema: StructType, table: string): RecordBatch {
  const fields: Field[] = [];
  const children: Data<ArrowType>[] = [];
  for (const f of schema.fields) {
    const type = deltaTypeToArrow(f.type);
    const idx = findChildIndex(batch.schema.fields, f.name);
    let data: Data<ArrowType>;
    if (idx < 0) {
      if (!f.nullable) {
        throw new WeirError(
          'SCHEMA_MISMATCH',
          `${table}: the data has no value for non-nullable column ${f.name}`,
          {
            details: { table, column: f.name },
          },
        );
      }
      data = nullData(type, batch.numRows);
    } else {
      // A RecordBatch column is always a single Data chunk.
      const source = batch.getChildAt(idx)!.data[0] as Data<ArrowType>;
      data = conformData(source, f.type, type, { table, file: '(input)', column: f.name });
      if (!f.nullable && data.nullCount > 0) {
        throw new WeirError(
          'NULL_IN_NON_NULLABLE_COLUMN',
          `${table}: column ${f.name} is NOT NULL but ${data.nullCount} input row(s) have no value`,
          { details: { table, column: f.name, nullRows: data.nullCount } },
        );
      }
    }
    fields.push(new Field(f.name, type, f.nullable));
    children.push(data);
  }
  const struct = makeData({ type: new Struct(fields), length: batch.numRows, nullCount: 0, children });
  return new RecordBatch(new Schema(fields), struct);
}
