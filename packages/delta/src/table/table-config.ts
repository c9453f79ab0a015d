/**
 * Table properties Weir understands (validated on create and on property changes) and the
 * protocol a table needs for its schema and properties. Pure.
 *
 * Weir writes protocol (1, 2) unless the table needs more: `timestamp_ntz` columns need the
 * timestampNtz feature (3, 7); column mapping needs (2, 5); a widened column type needs the
 * typeWidening feature (3, 7). Unknown `delta.*` properties are refused (as Spark does) so a
 * typo never silently does nothing.
 */
import { WeirError } from '@weir/storage';
import type { ProtocolAction } from '../actions/types.js';
import { parseIntervalMs } from '../log/checkpoint-writer.js';
import type { DataType, StructType } from '../schema/types.js';

type Validator = (value: string) => boolean;

const isPositiveInt: Validator = (v) => /^\d+$/.test(v) && Number(v) > 0;
const isBool: Validator = (v) => v === 'true' || v === 'false';
const isInterval: Validator = (v) => parseIntervalMs(v) !== undefined;

export const KNOWN_PROPERTIES: Readonly<Record<string, Validator>> = {
  'delta.checkpointInterval': isPositiveInt,
  'delta.logRetentionDuration': isInterval,
  'delta.deletedFileRetentionDuration': isInterval,
  'delta.appendOnly': isBool,
  'delta.targetFileSize': isPositiveInt,
  'delta.dataSkippingNumIndexedCols': (v) => /^-?\d+$/.test(v) && Number(v) >= -1,
  'delta.dataSkippingStatsColumns': (v) => v.trim().length > 0,
  'delta.enableExpiredLogCleanup': isBool,
  'delta.checkpoint.writeStatsAsJson': isBool,
  'delta.checkpoint.writeStatsAsStruct': isBool,
  'delta.columnMapping.mode': (v) => v === 'none' || v === 'name' || v === 'id',
  'delta.columnMapping.maxColumnId': (v) => /^\d+$/.test(v),
  'delta.enableChangeDataFeed': isBool,
  'delta.compatibility.symlinkFormatManifest.enabled': isBool,
  'delta.isolationLevel': (v) => v === 'Serializable' || v === 'WriteSerializable',
};

export function validateProperties(table: string, properties: Readonly<Record<string, string>>): void {
  for (const [key, value] of Object.entries(properties)) {
    if (!key.startsWith('delta.')) continue;
    const validate = KNOWN_PROPERTIES[key];
    if (!validate) {
      throw new WeirError(
        'UNKNOWN_TABLE_PROPERTY',
        `${table}: unknown table property ${key} (known: ${Object.keys(KNOWN_PROPERTIES).join(', ')})`,
        {
          details: { table, property: key },
        },
      );
    }
    if (!validate(value)) {
      throw new WeirError(
        'INVALID_TABLE_PROPERTY',
        `${table}: invalid value ${JSON.stringify(value)} for ${key}`,
        {
          details: { table, property: key, value },
        },
      );
    }
  }
}

export function checkpointInterval(configuration: Readonly<Record<string, string>>): number {
  const v = Number(configuration['delta.checkpointInterval'] ?? '10');
  return Number.isInteger(v) && v > 0 ? v : 10;
}

function typeUses(t: DataType, name: string): boolean {
  switch (t.type) {
    case 'struct':
      return t.fields.some((f) => typeUses(f.type, name));
    case 'array':
      return typeUses(t.elementType, name);
    case 'map':
      return typeUses(t.keyType, name) || typeUses(t.valueType, name);
    default:
      return t.type === name;
  }
}

function hasTypeChanges(t: DataType): boolean {
  if (t.type !== 'struct') return false;
  return t.fields.some((f) => f.metadata['delta.typeChanges'] !== undefined || hasTypeChanges(f.type));
}

/**
 * The protocol a table with this schema and configuration needs, never lower than `current`
 * (protocols only go up).
 */
export function requiredProtocol(
  schema: StructType,
  configuration: Readonly<Record<string, string>>,
  current?: ProtocolAction,
): ProtocolAction {
  const readerFeatures = new Set(current?.readerFeatures ?? []);
  const writerFeatures = new Set(current?.writerFeatures ?? []);
  let reader = current?.minReaderVersion ?? 1;
  let writer = current?.minWriterVersion ?? 2;
  const mapping = configuration['delta.columnMapping.mode'];
  const needsFeatures: string[] = [];
  if (typeUses(schema, 'timestamp_ntz')) needsFeatures.push('timestampNtz');
  if (hasTypeChanges(schema)) needsFeatures.push('typeWidening');
  if (needsFeatures.length > 0 || reader === 3) {
    if (mapping && mapping !== 'none') needsFeatures.push('columnMapping');
    reader = 3;
    writer = 7;
    for (const f of needsFeatures) {
      readerFeatures.add(f);
      writerFeatures.add(f);
    }
    if (configuration['delta.appendOnly'] === 'true') writerFeatures.add('appendOnly');
    // Features implied by the legacy versions the table had must be listed once at 3/7.
    if ((current?.minWriterVersion ?? 2) >= 2 && (current?.minWriterVersion ?? 2) < 7) {
      writerFeatures.add('appendOnly');
      writerFeatures.add('invariants');
    }
  } else if (mapping && mapping !== 'none') {
    reader = Math.max(reader, 2);
    writer = Math.max(writer, 5);
  }
  return {
    minReaderVersion: reader,
    minWriterVersion: writer,
    ...(reader === 3 ? { readerFeatures: [...readerFeatures].sort() } : {}),
    ...(writer === 7 ? { writerFeatures: [...writerFeatures].sort() } : {}),
  };
}

const WRITABLE_FEATURES = new Set([
  'appendOnly',
  'invariants',
  'checkConstraints',
  'changeDataFeed',
  'generatedColumns',
  'identityColumns',
  'columnMapping',
  'timestampNtz',
  'typeWidening',
  'deletionVectors',
  'domainMetadata',
  'vacuumProtocolCheck',
]);

function fieldMetadataKeys(t: DataType, out: Set<string>): Set<string> {
  if (t.type === 'struct') {
    for (const f of t.fields) {
      for (const k of Object.keys(f.metadata)) out.add(k);
      fieldMetadataKeys(f.type, out);
    }
  } else if (t.type === 'array') fieldMetadataKeys(t.elementType, out);
  else if (t.type === 'map') {
    fieldMetadataKeys(t.keyType, out);
    fieldMetadataKeys(t.valueType, out);
  }
  return out;
}

/**
 * Refuses to write to tables whose protocol asks writers for things Weir does not do
 * (constraints, generated or identity columns, row tracking, change data for deletes, ...):
 * writing anyway would break the table for every other engine.
 */
export function assertWritable(
  table: string,
  protocol: ProtocolAction,
  schema: StructType,
  configuration: Readonly<Record<string, string>>,
  options: { deletesData: boolean },
): void {
  const refuse = (what: string) => {
    throw new WeirError('UNSUPPORTED_WRITE_FEATURE', `${table}: Weir cannot write to this table: ${what}`, {
      details: { table, feature: what },
    });
  };
  if (protocol.minWriterVersion > 7) refuse(`writer version ${protocol.minWriterVersion}`);
  if (protocol.minWriterVersion === 7) {
    const unknown = (protocol.writerFeatures ?? []).filter((f) => !WRITABLE_FEATURES.has(f));
    if (unknown.length > 0) refuse(`writer feature${unknown.length > 1 ? 's' : ''} ${unknown.join(', ')}`);
  }
  const keys = fieldMetadataKeys(schema, new Set());
  if (keys.has('delta.invariants')) refuse('column invariants (delta.invariants) are not enforced by Weir');
  if (keys.has('delta.generationExpression')) refuse('generated columns');
  if ([...keys].some((k) => k.startsWith('delta.identity.'))) refuse('identity columns');
  if (Object.keys(configuration).some((k) => k.startsWith('delta.constraints.'))) refuse('CHECK constraints');
  if (options.deletesData && configuration['delta.enableChangeDataFeed'] === 'true') {
    refuse(
      'deleting data from a table with the change data feed enabled (Weir does not write change data files)',
    );
  }
}
