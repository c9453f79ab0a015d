/**
 * Small read helpers over any ObjectStore for suites that write tables (local or S3): all rows
 * of a version as JSON, a table downloaded into a local directory, the commit versions a
 * `_delta_log/` listing holds, one commit's actions and what it says about itself (txnId, adds
 * with their stats), and a bounded-parallel map for reading many commits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  type Action,
  batchToJsonRows,
  type JsonValue,
  loadSnapshot,
  parseCommitFile,
  parseStats,
  scanSnapshot,
} from '@weir/delta';
import { listAll, type ObjectStore } from '@weir/storage';

/** Every row of the table at `version` (default latest). */
export async function readAll(store: ObjectStore, version?: number): Promise<Record<string, JsonValue>[]> {
  const snapshot = await loadSnapshot(store, version === undefined ? {} : { version });
  const rows: Record<string, JsonValue>[] = [];
  for await (const b of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(b));
  return rows;
}

/** Copies every object of `store` into `dir` under its key (keys are '/'-separated paths). */
export async function downloadTable(store: ObjectStore, dir: string): Promise<string[]> {
  const keys = (await listAll(store, '')).map((m) => m.key);
  for (const key of keys) {
    const file = path.join(dir, ...key.split('/'));
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, await store.get(key));
  }
  return keys;
}

/** Versions of the JSON commits in `_delta_log/`, ascending. */
export async function commitVersions(store: ObjectStore): Promise<number[]> {
  return (await listAll(store, '_delta_log/'))
    .map((m) => /^_delta_log\/(\d{20})\.json$/.exec(m.key)?.[1])
    .filter((v): v is string => v !== undefined)
    .map(Number)
    .sort((a, b) => a - b);
}

/** The actions of the JSON commit at `version`. */
export async function readCommit(store: ObjectStore, version: number): Promise<Action[]> {
  const key = `_delta_log/${String(version).padStart(20, '0')}.json`;
  return parseCommitFile(new TextDecoder().decode(await store.get(key)), { file: key, version });
}

export interface CommitAdd {
  path: string;
  numRecords?: number;
  min?: Readonly<Record<string, unknown>>;
  max?: Readonly<Record<string, unknown>>;
}

/** What a commit says about itself: its txnId, its adds, and each add's parsed stats. */
export function commitSummary(actions: readonly Action[]): {
  txnId: string | undefined;
  adds: CommitAdd[];
} {
  let txnId: string | undefined;
  const adds: CommitAdd[] = [];
  for (const a of actions) {
    if ('commitInfo' in a) txnId = a.commitInfo.txnId;
    if ('add' in a) {
      const stats = parseStats(a.add.stats);
      adds.push({
        path: a.add.path,
        ...(stats?.numRecords !== undefined ? { numRecords: stats.numRecords } : {}),
        ...(stats?.minValues !== undefined ? { min: stats.minValues } : {}),
        ...(stats?.maxValues !== undefined ? { max: stats.maxValues } : {}),
      });
    }
  }
  return { txnId, adds };
}

/** `fn` over `items` with at most `limit` calls in flight; results in input order. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!, i);
    }),
  );
  return out;
}
