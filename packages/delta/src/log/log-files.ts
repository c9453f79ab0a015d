/**
 * Names of the files under `_delta_log/` and what they say (PROTOCOL.md "Delta Log Entries",
 * "Checkpoints"). Pure: classifies keys, never touches storage.
 *
 * - `00000000000000000010.json`                                   commit
 * - `00000000000000000010.checkpoint.parquet`                     classic checkpoint
 * - `00000000000000000010.checkpoint.0000000001.0000000003.parquet` one part of a multi-part checkpoint
 * - `00000000000000000010.checkpoint.<uuid>.json|parquet`         V2 checkpoint (top-level file)
 * Everything else (`.crc`, `_last_checkpoint`, compacted logs, `_sidecars/`, `_staged_commits/`,
 * hidden `.x.crc` files) is not part of the version sequence.
 */

export const LOG_DIR = '_delta_log/';
export const LAST_CHECKPOINT_KEY = '_delta_log/_last_checkpoint';
export const SIDECAR_DIR = '_delta_log/_sidecars/';

export interface LogFile {
  key: string;
  version: number;
  size: number;
  lastModified: number;
}

export type CheckpointKind = 'classic' | 'multipart' | 'v2';

export interface CheckpointFile extends LogFile {
  kind: CheckpointKind;
  /** 1-based part number and number of parts, for multi-part checkpoints. */
  part?: number;
  parts?: number;
  format: 'parquet' | 'json';
}

export type ClassifiedLogKey =
  | { type: 'commit'; version: number }
  | {
      type: 'checkpoint';
      version: number;
      kind: CheckpointKind;
      part?: number;
      parts?: number;
      format: 'parquet' | 'json';
    }
  | { type: 'other' };

const COMMIT_RE = /^(\d{20})\.json$/;
const CLASSIC_RE = /^(\d{20})\.checkpoint\.parquet$/;
const MULTIPART_RE = /^(\d{20})\.checkpoint\.(\d{10})\.(\d{10})\.parquet$/;
const V2_RE = /^(\d{20})\.checkpoint\.[0-9a-fA-F-]{36}\.(json|parquet)$/;

/** Classifies a full key (with the `_delta_log/` prefix). */
export function classifyLogKey(key: string): ClassifiedLogKey {
  if (!key.startsWith(LOG_DIR)) return { type: 'other' };
  const name = key.slice(LOG_DIR.length);
  let m = COMMIT_RE.exec(name);
  if (m) return { type: 'commit', version: Number(m[1]) };
  m = CLASSIC_RE.exec(name);
  if (m) return { type: 'checkpoint', version: Number(m[1]), kind: 'classic', format: 'parquet' };
  m = MULTIPART_RE.exec(name);
  if (m) {
    return {
      type: 'checkpoint',
      version: Number(m[1]),
      kind: 'multipart',
      part: Number(m[2]),
      parts: Number(m[3]),
      format: 'parquet',
    };
  }
  m = V2_RE.exec(name);
  if (m) return { type: 'checkpoint', version: Number(m[1]), kind: 'v2', format: m[2] as 'json' | 'parquet' };
  return { type: 'other' };
}

export function versionPrefix(version: number): string {
  return String(version).padStart(20, '0');
}

export function commitKey(version: number): string {
  return `${LOG_DIR}${versionPrefix(version)}.json`;
}

export function classicCheckpointKey(version: number): string {
  return `${LOG_DIR}${versionPrefix(version)}.checkpoint.parquet`;
}
