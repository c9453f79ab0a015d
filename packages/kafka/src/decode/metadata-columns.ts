/**
 * Optional Kafka metadata columns kept beside each record: topic, partition, offset, key,
 * timestamp, headers — named `<prefix><name>` (default prefix `kafka_`, so they never collide
 * with a payload field called `offset` or `key`). Types follow Spark's Kafka source: key as
 * binary (keys are bytes), headers as an array of {key, value: binary}.
 */
import type { DataType, StructField } from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { SourceMessage } from '../source/message.js';

export type MetadataColumn = 'topic' | 'partition' | 'offset' | 'key' | 'timestamp' | 'headers';

export const METADATA_COLUMNS: readonly MetadataColumn[] = [
  'topic',
  'partition',
  'offset',
  'key',
  'timestamp',
  'headers',
];

export const DEFAULT_METADATA_PREFIX = 'kafka_';

const HEADER_TYPE: DataType = {
  type: 'array',
  containsNull: false,
  elementType: {
    type: 'struct',
    fields: [
      { name: 'key', type: { type: 'string' }, nullable: false, metadata: {} },
      { name: 'value', type: { type: 'binary' }, nullable: true, metadata: {} },
    ],
  },
};

const TYPES: Readonly<Record<MetadataColumn, { type: DataType; nullable: boolean }>> = {
  topic: { type: { type: 'string' }, nullable: false },
  partition: { type: { type: 'integer' }, nullable: false },
  offset: { type: { type: 'long' }, nullable: false },
  key: { type: { type: 'binary' }, nullable: true },
  timestamp: { type: { type: 'timestamp' }, nullable: true },
  headers: { type: HEADER_TYPE, nullable: true },
};

export function parseMetadataColumns(names: readonly string[]): MetadataColumn[] {
  const out: MetadataColumn[] = [];
  for (const raw of names) {
    const name = raw.trim();
    if (!(METADATA_COLUMNS as readonly string[]).includes(name)) {
      throw new WeirError(
        'INVALID_ARGUMENT',
        `unknown metadata column '${name}': choose from ${METADATA_COLUMNS.join(', ')}`,
        { details: { option: 'metadataColumns', value: name } },
      );
    }
    if (!out.includes(name as MetadataColumn)) out.push(name as MetadataColumn);
  }
  return out;
}

export function metadataFields(columns: readonly MetadataColumn[], prefix: string): StructField[] {
  return nameMetadataColumns(columns, prefix).map(({ column, name }) => ({
    name,
    ...TYPES[column],
    metadata: {},
  }));
}

/** A metadata column and the name of its table column. */
export interface NamedMetadataColumn {
  column: MetadataColumn;
  name: string;
}

/** The table column names of `columns`, made once: building them per message showed in profiles. */
export function nameMetadataColumns(
  columns: readonly MetadataColumn[],
  prefix: string,
): NamedMetadataColumn[] {
  return columns.map((column) => ({ column, name: `${prefix}${column}` }));
}

/** Adds the chosen metadata values to a decoded record (in place). */
export function addMetadata(
  record: Record<string, unknown>,
  message: SourceMessage,
  columns: readonly NamedMetadataColumn[],
): void {
  for (const { column, name } of columns) {
    switch (column) {
      case 'topic':
        record[name] = message.topic;
        break;
      case 'partition':
        record[name] = message.partition;
        break;
      case 'offset':
        record[name] = message.offset;
        break;
      case 'key':
        record[name] = message.key;
        break;
      case 'timestamp':
        record[name] =
          Number.isFinite(message.timestamp) && message.timestamp >= 0 ? message.timestamp : null;
        break;
      case 'headers': {
        const entries = Object.entries(message.headers);
        record[name] =
          entries.length === 0
            ? null
            : entries.map(([key, value]) => ({
                key,
                value: value === undefined ? null : typeof value === 'string' ? Buffer.from(value) : value,
              }));
        break;
      }
    }
  }
}
