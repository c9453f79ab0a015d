/**
 * Delta's optimistic-concurrency conflict rules, pure and synchronous: given what a
 * transaction read and wrote, and the actions of one commit that won the race for a version,
 * decide whether the transaction may be rebased onto it or must fail.
 *
 * The rules (WriteSerializable, Delta's default):
 * - a winning protocol or metaData change conflicts with everyone;
 * - a winning add with dataChange=true conflicts when this transaction read data that the file
 *   could belong to (its read predicates may match the file's partition values / stats, or it
 *   read the whole table); blind appends read nothing, so appends never conflict with appends,
 *   and compaction output (dataChange=false) never conflicts;
 * - a winning remove of a file this transaction read or also removes conflicts (whatever its
 *   dataChange: the file is gone either way);
 * - a winning txn for an appId this transaction read or sets conflicts (exactly-once sinks);
 * - a winning domainMetadata for a domain this transaction writes conflicts.
 */

import { parseStats } from '../actions/codec.js';
import type { Action, AddAction } from '../actions/types.js';
import type { BoundPredicate } from '../expr/bind.js';
import { mayMatchStats } from '../expr/stats.js';
import { parsePartitionValue, type ScalarValue } from '../schema/partition-values.js';
import { statsValueToScalar } from '../schema/stats-values.js';
import type { DataType, StructType } from '../schema/types.js';
import { fileIdentity } from '../snapshot/replay.js';

export type ConflictReason =
  | 'PROTOCOL_CHANGED'
  | 'METADATA_CHANGED'
  | 'CONCURRENT_APPEND'
  | 'CONCURRENT_DELETE_READ'
  | 'CONCURRENT_DELETE_DELETE'
  | 'CONCURRENT_TRANSACTION'
  | 'CONCURRENT_DOMAIN_UPDATE';

export interface Conflict {
  reason: ConflictReason;
  /** What exactly collided: a file path, an appId, a domain. */
  subject?: string;
  description: string;
}

/** What a transaction depends on and changes, in the form the rules need. */
export interface TransactionFootprint {
  /** The transaction read every file (e.g. a full overwrite). */
  readWholeTable: boolean;
  /** Predicates whose matching files the transaction read (e.g. replaceWhere). */
  readPredicates: readonly BoundPredicate[];
  /** Identities (see `fileIdentity`) of files read. */
  readFiles: ReadonlySet<string>;
  /** Identities of files removed. */
  removedFiles: ReadonlySet<string>;
  /** appIds whose stored version the transaction read or sets. */
  appIds: ReadonlySet<string>;
  /** Domains the transaction writes. */
  domains: ReadonlySet<string>;
  /** Table schema and partition columns, to evaluate predicates on winning adds. */
  schema: StructType;
  partitionColumns: readonly string[];
  /** Physical partition column names by logical name (column mapping). */
  physicalPartitionNames?: ReadonlyMap<string, string>;
}

function addMayMatch(add: AddAction, predicate: BoundPredicate, fp: TransactionFootprint): boolean {
  const partitionValues = new Map<string, ScalarValue>();
  const types = new Map<string, DataType>(fp.schema.fields.map((f) => [f.name, f.type]));
  for (const col of fp.partitionColumns) {
    const physical = fp.physicalPartitionNames?.get(col) ?? col;
    const raw = add.partitionValues[physical] ?? add.partitionValues[col] ?? null;
    try {
      partitionValues.set(col, parsePartitionValue(raw, types.get(col)!, { column: col }));
    } catch {
      return true; // unparsable: assume it may match (conservative)
    }
  }
  const stats = add.statsParsed ?? parseStats(add.stats);
  const lookup = (obj: Readonly<Record<string, unknown>> | undefined, path: readonly string[]): unknown => {
    let cur: unknown = obj;
    for (const p of path) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
  const typeAt = (path: readonly string[]): DataType | undefined => {
    let t: DataType | undefined = types.get(path[0]!);
    for (const p of path.slice(1)) {
      if (t?.type !== 'struct') return undefined;
      t = t.fields.find((f) => f.name === p)?.type;
    }
    return t;
  };
  const bound = (
    values: Readonly<Record<string, unknown>> | undefined,
    path: readonly string[],
    which: 'min' | 'max',
  ) => {
    const raw = lookup(values, path);
    const type = typeAt(path);
    if (raw === undefined || raw === null || !type) return undefined;
    return statsValueToScalar(raw, type, which);
  };
  return mayMatchStats(predicate, {
    ...(stats?.numRecords !== undefined ? { numRecords: stats.numRecords } : {}),
    partitionValue: (path) =>
      path.length === 1 && partitionValues.has(path[0]!) ? partitionValues.get(path[0]!) : undefined,
    min: (path) => bound(stats?.minValues, path, 'min'),
    max: (path) => bound(stats?.maxValues, path, 'max'),
    nullCount: (path) => {
      const v = lookup(stats?.nullCount, path);
      return typeof v === 'number' ? v : undefined;
    },
  });
}

/** The first conflict between a transaction and one winning commit, or undefined. */
export function findConflict(fp: TransactionFootprint, winning: readonly Action[]): Conflict | undefined {
  for (const a of winning) {
    if ('protocol' in a) {
      return {
        reason: 'PROTOCOL_CHANGED',
        description: 'the table protocol was changed by a concurrent commit',
      };
    }
    if ('metaData' in a) {
      return {
        reason: 'METADATA_CHANGED',
        description:
          'the table metadata (schema, partitioning or properties) was changed by a concurrent commit',
      };
    }
  }
  for (const a of winning) {
    if ('txn' in a && fp.appIds.has(a.txn.appId)) {
      return {
        reason: 'CONCURRENT_TRANSACTION',
        subject: a.txn.appId,
        description: `a concurrent commit set application transaction ${a.txn.appId} to version ${a.txn.version}`,
      };
    }
    if ('domainMetadata' in a && fp.domains.has(a.domainMetadata.domain)) {
      return {
        reason: 'CONCURRENT_DOMAIN_UPDATE',
        subject: a.domainMetadata.domain,
        description: `a concurrent commit changed domain metadata ${a.domainMetadata.domain}`,
      };
    }
  }
  for (const a of winning) {
    if (!('remove' in a)) continue;
    const id = fileIdentity(a.remove.path, a.remove.deletionVector);
    if (fp.removedFiles.has(id)) {
      return {
        reason: 'CONCURRENT_DELETE_DELETE',
        subject: a.remove.path,
        description: `file ${a.remove.path} was removed by a concurrent commit that this transaction also removes`,
      };
    }
    if (fp.readFiles.has(id) || (fp.readWholeTable && a.remove.dataChange)) {
      return {
        reason: 'CONCURRENT_DELETE_READ',
        subject: a.remove.path,
        description: `file ${a.remove.path}, which this transaction read, was removed by a concurrent commit`,
      };
    }
  }
  if (fp.readWholeTable || fp.readPredicates.length > 0) {
    for (const a of winning) {
      if (!('add' in a) || !a.add.dataChange) continue;
      const hit = fp.readWholeTable || fp.readPredicates.some((p) => addMayMatch(a.add, p, fp));
      if (hit) {
        return {
          reason: 'CONCURRENT_APPEND',
          subject: a.add.path,
          description: `a concurrent commit added ${a.add.path}, which matches data this transaction read`,
        };
      }
    }
  }
  return undefined;
}
