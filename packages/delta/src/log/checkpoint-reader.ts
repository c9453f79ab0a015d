/**
 * Reads checkpoints into actions: classic and multi-part Parquet checkpoints, and V2
 * checkpoints (a Parquet or JSON top-level file whose `sidecar` actions point at Parquet files
 * under `_delta_log/_sidecars/`). Stats come as the JSON string (`add.stats`) and/or as a
 * struct (`add.stats_parsed`); both are kept. A checkpoint that cannot be decoded is a typed
 * error naming the file and version.
 */

import { type ObjectStore, WeirError } from '@weir/storage';
import { type RecordBatch, Type, type Vector } from 'apache-arrow';
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
      const statsParsed = name === 'add' ? column.getChild('stats_parsed') : null;
      for (let i = 0; i < batch.numRows; i++) {
        if (!column.isValid(i)) continue;
        const plain = toPlain(column, i) as Record<string, unknown>;
        // A null struct row can still be "valid" in some writers' files: require the key field.
        if (name === 'add' || name === 'remove' || name === 'sidecar') {
          if (typeof plain.path !== 'string') continue;
        }
        if (name === 'add') {
          delete plain.stats_parsed;
          delete plain.partitionValues_parsed;
        }
        const action = parseAction(
          { [name]: plain },
          { file: where.file, version: where.version, line: i + 1 },
        );
        if (!action) continue;
        if (statsParsed && 'add' in action && statsParsed.isValid(i)) {
          const stats = statsFromStruct(statsParsed, i);
          if (stats) (action.add as { statsParsed?: FileStats }).statsParsed = stats;
        }
        out.push(action);
      }
    }
  }
  return out;
}

function statsFromStruct(vector: Vector, index: number): FileStats | undefined {
  if (vector.type.typeId !== Type.Struct) return undefined;
  const plain = toPlain(vector, index);
  if (plain === null || typeof plain !== 'object' || Array.isArray(plain)) return undefined;
  return plain as FileStats;
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
  if (checkpoint.kind !== 'v2') return actions;
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
        throw corrupt(table, key, checkpoint.version, err);
      }
      return actionsFromCheckpointParquet(bytes, { table, file: key, version: checkpoint.version });
    }),
  );
  for (const list of sidecarActions) withoutSidecars.push(...list);
  return withoutSidecars;
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
    throw corrupt(table, file.key, file.version, err);
  }
  if (file.format === 'json') {
    return parseCommitFile(new TextDecoder().decode(bytes), { file: file.key, version: file.version });
  }
  return actionsFromCheckpointParquet(bytes, { table, file: file.key, version: file.version });
}
