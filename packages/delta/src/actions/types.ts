/**
 * Delta log actions as plain, immutable TypeScript values (PROTOCOL.md "Actions").
 * Field names are the protocol's JSON names. Optional fields are absent (never `undefined`)
 * when the log does not carry them. Unknown fields are dropped on read.
 */

export type Configuration = Readonly<Record<string, string>>;

export interface Format {
  provider: string;
  options: Readonly<Record<string, string>>;
}

export interface MetadataAction {
  id: string;
  name?: string;
  description?: string;
  format: Format;
  /** The table schema as the protocol's JSON string (parse with `parseSchema`). */
  schemaString: string;
  partitionColumns: readonly string[];
  configuration: Configuration;
  createdTime?: number;
}

export interface ProtocolAction {
  minReaderVersion: number;
  minWriterVersion: number;
  readerFeatures?: readonly string[];
  writerFeatures?: readonly string[];
}

/** `storageType` 'u' (relative/UUID path), 'i' (inline, z85) or 'p' (absolute path). */
export interface DeletionVectorDescriptor {
  storageType: 'u' | 'i' | 'p';
  pathOrInlineDv: string;
  offset?: number;
  sizeInBytes: number;
  cardinality: number;
}

/** Partition values as the log stores them: strings, `null` for a null partition value. */
export type PartitionValues = Readonly<Record<string, string | null>>;

export interface AddAction {
  /** URI-encoded relative path (or absolute URI), exactly as in the log. */
  path: string;
  partitionValues: PartitionValues;
  size: number;
  modificationTime: number;
  dataChange: boolean;
  /** Stats as a JSON string (see `parseStats`). */
  stats?: string;
  /** Stats already parsed (from a checkpoint's `stats_parsed`), same shape as the JSON. */
  statsParsed?: FileStats;
  tags?: Readonly<Record<string, string>>;
  deletionVector?: DeletionVectorDescriptor;
  baseRowId?: number;
  defaultRowCommitVersion?: number;
  clusteringProvider?: string;
}

export interface RemoveAction {
  path: string;
  deletionTimestamp?: number;
  dataChange: boolean;
  extendedFileMetadata?: boolean;
  partitionValues?: PartitionValues;
  size?: number;
  stats?: string;
  tags?: Readonly<Record<string, string>>;
  deletionVector?: DeletionVectorDescriptor;
  baseRowId?: number;
  defaultRowCommitVersion?: number;
}

export interface CdcAction {
  path: string;
  partitionValues: PartitionValues;
  size: number;
  dataChange: boolean;
  tags?: Readonly<Record<string, string>>;
}

export interface TxnAction {
  appId: string;
  version: number;
  lastUpdated?: number;
}

/** commitInfo is free-form in the protocol; known fields are typed, the rest kept as-is. */
export interface CommitInfoAction {
  timestamp?: number;
  inCommitTimestamp?: number;
  operation?: string;
  operationParameters?: Readonly<Record<string, unknown>>;
  operationMetrics?: Readonly<Record<string, unknown>>;
  engineInfo?: string;
  txnId?: string;
  isBlindAppend?: boolean;
  readVersion?: number;
  isolationLevel?: string;
  [key: string]: unknown;
}

export interface DomainMetadataAction {
  domain: string;
  configuration: string;
  removed: boolean;
}

export interface CheckpointMetadataAction {
  version: number;
  tags?: Readonly<Record<string, string>>;
}

export interface SidecarAction {
  path: string;
  sizeInBytes: number;
  modificationTime: number;
  tags?: Readonly<Record<string, string>>;
}

/** One action: exactly one key set, as in a log line. */
export type Action =
  | { metaData: MetadataAction }
  | { protocol: ProtocolAction }
  | { add: AddAction }
  | { remove: RemoveAction }
  | { cdc: CdcAction }
  | { txn: TxnAction }
  | { commitInfo: CommitInfoAction }
  | { domainMetadata: DomainMetadataAction }
  | { checkpointMetadata: CheckpointMetadataAction }
  | { sidecar: SidecarAction };

/** Per-file column statistics (PROTOCOL.md "Per-file Statistics"), nested like the schema. */
export interface FileStats {
  numRecords?: number;
  minValues?: Readonly<Record<string, unknown>>;
  maxValues?: Readonly<Record<string, unknown>>;
  nullCount?: Readonly<Record<string, unknown>>;
  tightBounds?: boolean;
}
