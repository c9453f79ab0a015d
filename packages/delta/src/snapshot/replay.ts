/**
 * Log replay (PROTOCOL.md "Action Reconciliation"), pure and synchronous: folds checkpoint
 * actions and then commits, in version order, into table state.
 *
 * Invariants: a logical file is identified by its URI-decoded path plus its deletion vector's
 * unique id; the latest protocol/metaData win; the latest `txn` per appId wins; a
 * domainMetadata with `removed: true` deletes its domain; a remove hides every earlier add with
 * the same identity and is kept as a tombstone until a later add of it.
 */
import type {
  Action,
  AddAction,
  DeletionVectorDescriptor,
  DomainMetadataAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
  TxnAction,
} from '../actions/types.js';

export interface TableState {
  version: number;
  protocol?: ProtocolAction;
  metadata?: MetadataAction;
  files: Map<string, AddAction>;
  tombstones: Map<string, RemoveAction>;
  txns: Map<string, TxnAction>;
  domains: Map<string, DomainMetadataAction>;
}

export function emptyState(): TableState {
  return { version: -1, files: new Map(), tombstones: new Map(), txns: new Map(), domains: new Map() };
}

export function cloneState(state: TableState): TableState {
  return {
    version: state.version,
    ...(state.protocol ? { protocol: state.protocol } : {}),
    ...(state.metadata ? { metadata: state.metadata } : {}),
    files: new Map(state.files),
    tombstones: new Map(state.tombstones),
    txns: new Map(state.txns),
    domains: new Map(state.domains),
  };
}

/** `add.path` and `remove.path` are URI-encoded in the log: decode exactly once. */
export function decodeLogPath(path: string): string {
  // Nothing to decode without a '%' (decodeURIComponent would return the same string).
  if (!path.includes('%')) return path;
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

export function dvUniqueId(dv: DeletionVectorDescriptor | undefined): string {
  if (!dv) return '';
  return dv.offset !== undefined
    ? `${dv.storageType}${dv.pathOrInlineDv}@${dv.offset}`
    : `${dv.storageType}${dv.pathOrInlineDv}`;
}

export function fileIdentity(path: string, dv: DeletionVectorDescriptor | undefined): string {
  const id = dvUniqueId(dv);
  return id ? `${decodeLogPath(path)}\u0000${id}` : decodeLogPath(path);
}

/**
 * Applies one commit's (or a checkpoint's) actions. Removes are applied before adds so that a
 * commit that replaces a file's deletion vector (remove old DV + add new DV) works whatever the
 * order of its lines.
 */
export function applyActions(state: TableState, actions: readonly Action[], version: number): void {
  for (const a of actions) {
    if ('remove' in a) {
      const id = fileIdentity(a.remove.path, a.remove.deletionVector);
      state.files.delete(id);
      state.tombstones.set(id, a.remove);
    }
  }
  for (const a of actions) {
    if ('add' in a) {
      const id = fileIdentity(a.add.path, a.add.deletionVector);
      state.files.set(id, a.add);
      state.tombstones.delete(id);
    } else if ('metaData' in a) {
      state.metadata = a.metaData;
    } else if ('protocol' in a) {
      state.protocol = a.protocol;
    } else if ('txn' in a) {
      state.txns.set(a.txn.appId, a.txn);
    } else if ('domainMetadata' in a) {
      if (a.domainMetadata.removed) state.domains.delete(a.domainMetadata.domain);
      else state.domains.set(a.domainMetadata.domain, a.domainMetadata);
    }
  }
  state.version = version;
}
