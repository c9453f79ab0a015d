/**
 * Reads checkpoints into actions: classic and multi-part Parquet checkpoints, and V2
 * checkpoints (a Parquet or JSON top-level file whose `sidecar` actions point at Parquet files
 * under `_delta_log/_sidecars/`). Stats come as the JSON string (`add.stats`) and/or as a
 * struct (`add.stats_parsed`); both are kept. A checkpoint that cannot be decoded is a typed
 * error naming the file and version.
 */

import { type ObjectStore, WeirError } from '@weir/storage';
import {
  type Data,
  DataType,
  makeVector,
  type RecordBatch,
  type Struct,
  Type,
  type Vector,
} from 'apache-arrow';
import { parseAction, parseCommitFile } from '../actions/codec.js';
import type { Action, FileStats } from '../actions/types.js';
import { readParquetBatches } from '../parquet/wasm.js';
import { toPlain } from './arrow-plain.js';
import { type CheckpointFile, SIDECAR_DIR } from './log-files.js';
import type { CompleteCheckpoint } from './log-segment.js';

const ACTION_COLUMNS = [
  'txn',
  'add',
  'remove',
  'metaData',
  'protocol',
  'domainMetadata',
  'checkpointMetadata',
  'sidecar',
] as const;

export interface CheckpointRead {
  actions: Action[];
}

function corrupt(table: string, file: string, version: number, cause: unknown): WeirError {
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new WeirError(
    'CORRUPT_CHECKPOINT',
    `${table}: cannot read checkpoint ${file} (version ${version}): ${reason}`,
    {
      cause,
      details: { table, file, version },
    },
  );
}

/** Decodes the action rows of checkpoint (or sidecar) Parquet bytes. */
export function actionsFromCheckpointParquet(
  bytes: Uint8Array,
  where: { table: string; file: string; version: number },
): Action[] {
  let batches: RecordBatch[];
  try {
    batches = readParquetBatches(bytes);
  } catch (err) {
    throw corrupt(where.table, where.file, where.version, err);
  }
  const out: Action[] = [];
  for (const batch of batches) {
    for (const name of ACTION_COLUMNS) {
      const column = batch.getChild(name);
      if (!column) continue;
      // The parsed stats / partition values are read separately (or not at all), not as add fields.
      const read = rowReader(column, name === 'add' ? ADD_SKIPPED_FIELDS : undefined);
      const statsParsed = name === 'add' ? column.getChild('stats_parsed') : null;
      const readStats = statsParsed?.type.typeId === Type.Struct ? rowReader(statsParsed) : undefined;
      for (let i = 0; i < batch.numRows; i++) {
        const plain = read(i) as Record<string, unknown> | null;
        if (plain === null) continue;
        // A null struct row can still be "valid" in some writers' files: require the key field.
        if (name === 'add' || name === 'remove' || name === 'sidecar') {
          if (typeof plain.path !== 'string') continue;
        }
        const action = parseAction(
          { [name]: plain },
          { file: where.file, version: where.version, line: i + 1 },
        );
        if (!action) continue;
        if (readStats && 'add' in action) {
          const stats = readStats(i);
          if (stats !== null && typeof stats === 'object' && !Array.isArray(stats)) {
            (action.add as { statsParsed?: FileStats }).statsParsed = stats as FileStats;
          }
        }
        out.push(action);
      }
    }
  }
  return out;
}

const ADD_SKIPPED_FIELDS: ReadonlySet<string> = new Set(['stats_parsed', 'partitionValues_parsed']);

type RowReader = (index: number) => unknown;

/**
 * `toPlain` for one column, with the per-row work hoisted: struct children and map key/value
 * vectors are resolved once per column instead of once per row (apache-arrow builds a new child
 * Vector on every `getChild`), validity is a direct bitmap test, and the common leaves (strings,
 * 32/64-bit integers, booleans) skip the generic dispatch. Checkpoint decoding spent most of
 * its time in those lookups. Same values as `toPlain(vector, i)`; other types still go through
 * `toPlain`. `skip` leaves top-level struct fields out.
 */
function rowReader(vector: Vector, skip?: ReadonlySet<string>): RowReader {
  if (vector.data.length !== 1) return (i) => toPlain(vector, i);
  const data = vector.data[0] as Data;
  const valid = validity(data);
  const type = vector.type;
  switch (type.typeId) {
    case Type.Struct: {
      const names: string[] = [];
      const readers: RowReader[] = [];
      for (const field of (type as Struct).children) {
        if (skip?.has(field.name)) continue;
        const child = vector.getChild(field.name);
        if (!child) continue;
        names.push(field.name);
        readers.push(rowReader(child));
      }
      return (i) => {
        if (valid !== undefined && !valid(i)) return null;
        const out: Record<string, unknown> = {};
        for (let f = 0; f < names.length; f++) {
          const v = readers[f]!(i);
          if (v !== null) out[names[f]!] = v;
        }
        return out;
      };
    }
    case Type.Map: {
      const entries = data.children[0];
      const keyData = entries?.children[0];
      const valueData = entries?.children[1];
      if (!keyData || !valueData) return (i) => toPlain(vector, i);
      const keys = valuesOf(keyData);
      const values = valuesOf(valueData);
      const offsets = data.valueOffsets;
      return (i) => {
        if (valid !== undefined && !valid(i)) return null;
        const out: Record<string, string | null> = {};
        const end = offsets[i + 1]!;
        for (let j = offsets[i]!; j < end; j++) {
          const v = values(j);
          out[String(keys(j))] = v === null || v === undefined ? null : String(v);
        }
        return out;
      };
    }
    case Type.Utf8: {
      const utf8 = utf8Reader(data);
      return (i) => (valid !== undefined && !valid(i) ? null : utf8(i));
    }
    case Type.Int: {
      if ((type as { bitWidth: number }).bitWidth === 64) {
        const ints = data.values as unknown as BigInt64Array;
        return (i) => (valid !== undefined && !valid(i) ? null : Number(ints[i]!));
      }
      return (i) => (valid !== undefined && !valid(i) ? null : vector.get(i));
    }
    case Type.Bool:
      return (i) => (valid !== undefined && !valid(i) ? null : vector.get(i));
    default:
      return (i) => toPlain(vector, i);
  }
}

/** Validity of a (non-union) Data's rows; undefined when every row is valid. */
function validity(data: Data): ((i: number) => boolean) | undefined {
  if (DataType.isUnion(data.type)) return (i) => data.getValid(i);
  const bitmap = data.nullCount > 0 ? data.nullBitmap : undefined;
  if (bitmap === undefined || bitmap.byteLength === 0) return undefined;
  const offset = data.offset;
  return (i) => {
    const pos = offset + i;
    return (bitmap[pos >> 3]! & (1 << (pos & 7))) !== 0;
  };
}

/** Row j of a map's keys or values, as `vector.get(j)` gives it (strings decoded directly). */
function valuesOf(data: Data): (j: number) => unknown {
  if (data.type.typeId === Type.Utf8) {
    const valid = validity(data);
    const utf8 = utf8Reader(data);
    return (j) => (valid !== undefined && !valid(j) ? null : utf8(j));
  }
  const vector = makeVector(data);
  return (j) => vector.get(j);
}

/** The string at a (valid) row of Utf8 data. */
function utf8Reader(data: Data): (i: number) => string {
  const offsets = data.valueOffsets as Int32Array;
  const bytes = data.values as Uint8Array;
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return (i) => buffer.toString('utf8', offsets[i]!, offsets[i + 1]!);
}

/** Reads every action of a complete checkpoint, following V2 sidecars. */
export async function readCheckpoint(
  store: ObjectStore,
  table: string,
  checkpoint: CompleteCheckpoint,
): Promise<Action[]> {
  const actions: Action[] = [];
  const parts = await Promise.all(checkpoint.files.map((file) => readCheckpointFile(store, table, file)));
  for (const part of parts) actions.push(...part);
  // V2 checkpoints may also carry a classic name: follow sidecars whatever the file name says.
  if (!actions.some((a) => 'sidecar' in a)) return actions;
  const sidecars: Action[] = [];
  const withoutSidecars: Action[] = [];
  for (const a of actions) {
    if ('sidecar' in a) sidecars.push(a);
    else withoutSidecars.push(a);
  }
  const sidecarActions = await Promise.all(
    sidecars.map(async (a) => {
      if (!('sidecar' in a)) return [];
      const key = sidecarKey(a.sidecar.path);
      let bytes: Uint8Array;
      try {
        bytes = await store.get(key);
      } catch (err) {
        throw readFailure(table, key, checkpoint.version, err);
      }
      return actionsFromCheckpointParquet(bytes, { table, file: key, version: checkpoint.version });
    }),
  );
  for (const list of sidecarActions) withoutSidecars.push(...list);
  return withoutSidecars;
}

/** A transient storage failure stays retryable as it is; anything else means the checkpoint is unusable. */
function readFailure(table: string, file: string, version: number, err: unknown): unknown {
  return err instanceof WeirError && err.retryable ? err : corrupt(table, file, version, err);
}

function sidecarKey(path: string): string {
  // Sidecar paths are file names relative to _delta_log/_sidecars/ (or, rarely, full URIs).
  const name = decodeURIComponent(path.includes('/') ? path.slice(path.lastIndexOf('/') + 1) : path);
  return `${SIDECAR_DIR}${name}`;
}

async function readCheckpointFile(
  store: ObjectStore,
  table: string,
  file: CheckpointFile,
): Promise<Action[]> {
  let bytes: Uint8Array;
  try {
    bytes = await store.get(file.key);
  } catch (err) {
    throw readFailure(table, file.key, file.version, err);
  }
  if (file.format === 'json') {
    return parseCommitFile(new TextDecoder().decode(bytes), { file: file.key, version: file.version });
  }
  return actionsFromCheckpointParquet(bytes, { table, file: file.key, version: file.version });
}
