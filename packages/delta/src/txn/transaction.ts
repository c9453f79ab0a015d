/**
 * A Delta transaction: started from a snapshot, it collects actions and commits them as the
 * next version with `putIfAbsent(_delta_log/<version>.json)` — the only way a version comes
 * into being. On losing the race it reads the winning commit, applies the conflict rules, and
 * either rebases onto it (tries the next version) or fails with a `CommitConflictError`.
 *
 * Invariants:
 * - a commit's bytes are fixed when `commit()` starts (same txnId, same commitInfo), so a
 *   retried write is byte-identical and a store can resolve an ambiguous PUT by comparison;
 * - a commit whose response was lost is recognised by its txnId when read back — never
 *   written twice, never reported as failed;
 * - data files written for a transaction that fails stay unreferenced (vacuum removes them);
 * - checkpoints and other post-commit work never fail or undo a commit.
 */
import { randomUUID } from 'node:crypto';
import { AlreadyExistsError, type ObjectStore, WeirError } from '@weir/storage';
import { parseCommitFile, parseStats, serializeCommit } from '../actions/codec.js';
import type {
  Action,
  AddAction,
  CommitInfoAction,
  DomainMetadataAction,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
} from '../actions/types.js';
import type { BoundPredicate } from '../expr/bind.js';
import { commitKey } from '../log/log-files.js';
import { columnMappingMode, physicalSchema } from '../schema/column-mapping.js';
import { parseSchema } from '../schema/parse.js';
import { fileIdentity } from '../snapshot/replay.js';
import type { Snapshot } from '../snapshot/snapshot.js';
import { type Conflict, findConflict, type TransactionFootprint } from './conflict-checker.js';
import { ENGINE_INFO } from './engine-info.js';

export interface TransactionOptions {
  /** commitInfo.operation, e.g. 'WRITE', 'CREATE TABLE', 'OPTIMIZE', 'STREAMING UPDATE'. */
  operation: string;
  operationParameters?: Record<string, unknown>;
  /** commitInfo.operationMetrics added to (and overriding) the generic ones (values as strings, like Spark). */
  operationMetrics?: Record<string, string>;
  /** Attempts (writes of a commit file) before giving up when other writers keep winning. */
  maxAttempts?: number;
  /** Base delay of the jittered backoff after an ambiguous store failure (ms). */
  backoffMs?: number;
  now?: () => number;
}

export interface CommitResult {
  version: number;
  txnId: string;
  /** How many commit files this transaction tried to write (1 = no contention). */
  attempts: number;
  /** Versions committed by others that this transaction was rebased onto. */
  rebasedOver: number[];
  /** The commit's timestamp (commitInfo.timestamp), ms. */
  timestamp: number;
  actions: readonly Action[];
}

/** A commit lost against a concurrent one whose changes it cannot be rebased onto. */
export class CommitConflictError extends WeirError {
  readonly reason: Conflict['reason'];
  readonly winningVersion: number;
  constructor(table: string, conflict: Conflict, winningVersion: number, readVersion: number) {
    super(
      'COMMIT_CONFLICT',
      `${table}: commit conflicts with version ${winningVersion} (${conflict.reason}): ${conflict.description}; this transaction read version ${readVersion}`,
      {
        details: {
          table,
          reason: conflict.reason,
          winningVersion,
          readVersion,
          ...(conflict.subject !== undefined ? { subject: conflict.subject } : {}),
        },
      },
    );
    this.name = 'CommitConflictError';
    this.reason = conflict.reason;
    this.winningVersion = winningVersion;
  }
}

/** Store errors after which the commit file may or may not have been written. */
function isAmbiguous(err: unknown): boolean {
  return err instanceof WeirError ? err.retryable || err.code === 'IO_ERROR' : true;
}

export class Transaction {
  /** The snapshot read; undefined for a transaction creating a table (committing version 0). */
  readonly snapshot: Snapshot | undefined;
  readonly table: string;
  /** The version read (-1 for a new table). */
  readonly readVersion: number;
  readonly txnId = randomUUID();
  private readonly store: ObjectStore;
  private readonly options: TransactionOptions;
  private readonly adds: AddAction[] = [];
  private readonly removes: RemoveAction[] = [];
  private readonly others: Action[] = [];
  private metadata: MetadataAction | undefined;
  private protocol: ProtocolAction | undefined;
  private readWholeTable = false;
  private readonly readPredicates: BoundPredicate[] = [];
  private readonly readFiles = new Set<string>();
  private readonly appIds = new Set<string>();
  private readonly domains = new Set<string>();
  private committed = false;

  constructor(store: ObjectStore, snapshot: Snapshot | undefined, options: TransactionOptions) {
    this.store = store;
    this.snapshot = snapshot;
    this.table = snapshot?.table ?? store.root;
    this.readVersion = snapshot?.version ?? -1;
    this.options = options;
  }

  /** A transaction that creates the table: it must set protocol and metadata, and commits version 0. */
  static forNewTable(store: ObjectStore, options: TransactionOptions): Transaction {
    return new Transaction(store, undefined, options);
  }

  /** Records that the transaction's result depends on every file of the snapshot. */
  readsWholeTable(): this {
    this.readWholeTable = true;
    for (const f of this.snapshot?.files() ?? []) this.readFiles.add(fileIdentity(f.path, f.deletionVector));
    return this;
  }

  /** Records files read through a predicate (e.g. replaceWhere): concurrent adds it may match conflict. */
  readsWhere(predicate: BoundPredicate, files: readonly AddAction[]): this {
    this.readPredicates.push(predicate);
    for (const f of files) this.readFiles.add(fileIdentity(f.path, f.deletionVector));
    return this;
  }

  readsFiles(files: readonly AddAction[]): this {
    for (const f of files) this.readFiles.add(fileIdentity(f.path, f.deletionVector));
    return this;
  }

  /** Reads an application transaction's version; a concurrent change of it will conflict. */
  readAppTransaction(appId: string): number | undefined {
    this.appIds.add(appId);
    return this.snapshot?.appTransactionVersion(appId);
  }

  setAppTransaction(appId: string, version: number): this {
    this.appIds.add(appId);
    this.others.push({ txn: { appId, version, lastUpdated: this.now() } });
    return this;
  }

  setDomainMetadata(domain: string, configuration: string, removed = false): this {
    this.domains.add(domain);
    const dm: DomainMetadataAction = { domain, configuration, removed };
    this.others.push({ domainMetadata: dm });
    return this;
  }

  addFiles(files: readonly AddAction[]): this {
    this.adds.push(...files);
    return this;
  }

  removeFiles(files: readonly RemoveAction[]): this {
    this.removes.push(...files);
    return this;
  }

  /** Removes live files (as `remove` actions built from their `add`s). */
  removeAdds(files: readonly AddAction[], dataChange = true): this {
    const now = this.now();
    for (const f of files) this.removes.push(removeFromAdd(f, now, dataChange));
    return this;
  }

  updateMetadata(metadata: MetadataAction): this {
    this.metadata = metadata;
    return this;
  }

  updateProtocol(protocol: ProtocolAction): this {
    this.protocol = protocol;
    return this;
  }

  get isBlindAppend(): boolean {
    return (
      this.removes.length === 0 &&
      !this.readWholeTable &&
      this.readPredicates.length === 0 &&
      this.readFiles.size === 0 &&
      this.metadata === undefined &&
      this.protocol === undefined
    );
  }

  private now(): number {
    return (this.options.now ?? Date.now)();
  }

  private footprint(): TransactionFootprint {
    const metadata = this.snapshot?.metadata ?? this.metadata;
    if (!metadata) {
      throw new WeirError(
        'INVALID_TRANSACTION',
        `${this.table}: a transaction creating a table must set its metadata`,
        {
          details: { table: this.table },
        },
      );
    }
    const schema = this.snapshot?.schema ?? parseSchema(metadata.schemaString, { table: this.table });
    const mode = columnMappingMode(metadata.configuration);
    const physical = physicalSchema(schema, mode);
    const physicalPartitionNames = new Map<string, string>();
    schema.fields.forEach((f, i) => {
      physicalPartitionNames.set(f.name, physical.fields[i]!.name);
    });
    return {
      readWholeTable: this.readWholeTable,
      readPredicates: this.readPredicates,
      readFiles: this.readFiles,
      removedFiles: new Set(this.removes.map((r) => fileIdentity(r.path, r.deletionVector))),
      appIds: this.appIds,
      domains: this.domains,
      schema,
      partitionColumns: metadata.partitionColumns,
      physicalPartitionNames,
    };
  }

  private checkInvariants(): void {
    const table = this.table;
    if (!this.snapshot && (!this.metadata || !this.protocol)) {
      throw new WeirError(
        'INVALID_TRANSACTION',
        `${table}: a transaction creating a table must set protocol and metadata`,
        {
          details: { table },
        },
      );
    }
    const config = (this.metadata ?? this.snapshot!.metadata).configuration;
    if (config['delta.appendOnly'] === 'true' && this.removes.some((r) => r.dataChange)) {
      throw new WeirError(
        'APPEND_ONLY_TABLE',
        `${table} is append-only (delta.appendOnly=true): this ${this.options.operation} would delete data`,
        { details: { table, operation: this.options.operation } },
      );
    }
    if (this.metadata) parseSchema(this.metadata.schemaString, { table });
  }

  private buildActions(timestamp: number): Action[] {
    const commitInfo: CommitInfoAction = {
      timestamp,
      operation: this.options.operation,
      operationParameters: this.options.operationParameters ?? {},
      ...(this.readVersion >= 0 ? { readVersion: this.readVersion } : {}),
      isolationLevel: 'WriteSerializable',
      isBlindAppend: this.isBlindAppend,
      operationMetrics: {
        numFiles: String(this.adds.length),
        numOutputRows: String(sumRecords(this.adds)),
        numOutputBytes: String(this.adds.reduce((n, a) => n + a.size, 0)),
        numRemovedFiles: String(this.removes.length),
        ...this.options.operationMetrics,
      },
      engineInfo: ENGINE_INFO,
      txnId: this.txnId,
    };
    const actions: Action[] = [{ commitInfo }];
    if (this.protocol) actions.push({ protocol: this.protocol });
    if (this.metadata) actions.push({ metaData: this.metadata });
    actions.push(...this.others);
    for (const r of this.removes) actions.push({ remove: r });
    for (const a of this.adds) actions.push({ add: a });
    return actions;
  }

  /** Commits as the next version; see the module comment for the retry and conflict rules. */
  async commit(): Promise<CommitResult> {
    if (this.committed)
      throw new WeirError('TRANSACTION_COMMITTED', 'this transaction was already committed');
    this.committed = true;
    this.checkInvariants();
    const table = this.table;
    const timestamp = this.now();
    const actions = this.buildActions(timestamp);
    const bytes = new TextEncoder().encode(serializeCommit(actions));
    const footprint = this.footprint();
    const maxAttempts = this.options.maxAttempts ?? 10_000;
    const backoffMs = this.options.backoffMs ?? 50;
    const rebasedOver: number[] = [];
    let version = this.readVersion + 1;
    let attempts = 0;
    let ambiguousStreak = 0;
    while (attempts < maxAttempts) {
      attempts++;
      try {
        await this.store.putIfAbsent(commitKey(version), bytes);
        return { version, txnId: this.txnId, attempts, rebasedOver, timestamp, actions };
      } catch (err) {
        if (!(err instanceof AlreadyExistsError) && !isAmbiguous(err)) throw err;
        if (!(err instanceof AlreadyExistsError)) {
          // The write may or may not have landed: look before trying again.
          ambiguousStreak++;
          if (ambiguousStreak > 8) throw err;
          await sleep(backoffMs * 2 ** Math.min(ambiguousStreak, 6) * Math.random());
        }
        const winner = await this.readCommitIfPresent(version);
        if (winner === undefined) continue; // nothing there: retry the same version
        ambiguousStreak = 0;
        if (isOurs(winner, this.txnId)) {
          return { version, txnId: this.txnId, attempts, rebasedOver, timestamp, actions };
        }
        if (!this.snapshot) {
          throw new WeirError(
            'TABLE_ALREADY_EXISTS',
            `${table} was created by someone else at the same time`,
            {
              details: { table },
            },
          );
        }
        const conflict = findConflict(footprint, winner);
        if (conflict) throw new CommitConflictError(table, conflict, version, this.readVersion);
        rebasedOver.push(version);
        version++;
      }
    }
    throw new WeirError(
      'COMMIT_RETRIES_EXHAUSTED',
      `${table}: gave up committing after ${attempts} attempts (other writers kept winning; last tried version ${version})`,
      { retryable: true, details: { table, attempts, version } },
    );
  }

  private async readCommitIfPresent(version: number): Promise<Action[] | undefined> {
    let bytes: Uint8Array;
    try {
      bytes = await this.store.get(commitKey(version));
    } catch (err) {
      if (err instanceof WeirError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    return parseCommitFile(new TextDecoder().decode(bytes), { file: commitKey(version), version });
  }
}

function isOurs(actions: readonly Action[], txnId: string): boolean {
  return actions.some((a) => 'commitInfo' in a && a.commitInfo.txnId === txnId);
}

function sumRecords(adds: readonly AddAction[]): number {
  let n = 0;
  for (const a of adds) n += (a.statsParsed ?? parseStats(a.stats))?.numRecords ?? 0;
  return n;
}

export function removeFromAdd(add: AddAction, deletionTimestamp: number, dataChange: boolean): RemoveAction {
  return {
    path: add.path,
    deletionTimestamp,
    dataChange,
    extendedFileMetadata: true,
    partitionValues: add.partitionValues,
    size: add.size,
    ...(add.tags ? { tags: add.tags } : {}),
    ...(add.deletionVector ? { deletionVector: add.deletionVector } : {}),
    ...(add.baseRowId !== undefined ? { baseRowId: add.baseRowId } : {}),
    ...(add.defaultRowCommitVersion !== undefined
      ? { defaultRowCommitVersion: add.defaultRowCommitVersion }
      : {}),
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
