/**
 * The Delta schema model (PROTOCOL.md "Schema Serialization Format"). Primitive types are
 * their protocol names ('long', 'timestamp_ntz', 'decimal(10,2)', ...); nested types are the
 * protocol's JSON objects. Values are immutable.
 */

export type PrimitiveTypeName =
  | 'string'
  | 'long'
  | 'integer'
  | 'short'
  | 'byte'
  | 'float'
  | 'double'
  | 'boolean'
  | 'binary'
  | 'date'
  | 'timestamp'
  | 'timestamp_ntz'
  | 'variant';

export interface DecimalType {
  type: 'decimal';
  precision: number;
  scale: number;
}

export interface PrimitiveType {
  type: PrimitiveTypeName;
}

export interface ArrayType {
  type: 'array';
  elementType: DataType;
  containsNull: boolean;
}

export interface MapType {
  type: 'map';
  keyType: DataType;
  valueType: DataType;
  valueContainsNull: boolean;
}

export interface StructField {
  name: string;
  type: DataType;
  nullable: boolean;
  metadata: Readonly<Record<string, unknown>>;
}

export interface StructType {
  type: 'struct';
  fields: readonly StructField[];
}

export type DataType = PrimitiveType | DecimalType | ArrayType | MapType | StructType;

export const COLUMN_MAPPING_ID_KEY = 'delta.columnMapping.id';
export const COLUMN_MAPPING_PHYSICAL_NAME_KEY = 'delta.columnMapping.physicalName';
