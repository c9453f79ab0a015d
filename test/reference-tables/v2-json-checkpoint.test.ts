/**
 * V2 checkpoints with a JSON top-level file (PROTOCOL.md "V2 Spec"): the reference tables ship
 * only Parquet manifests, so these tests derive JSON ones from real tables and read them
 * through the public API with every older log file removed (the checkpoint is then the only
 * way to the version):
 * - a JSON manifest whose `sidecar` actions point at the Spark-written Parquet sidecars (built
 *   from the table's own `_last_checkpoint.v2Checkpoint`, independently of the reader);
 * - a JSON manifest holding the file actions inline (no sidecars), named with a UUID;
 * - a missing sidecar is CORRUPT_CHECKPOINT naming the sidecar file and the version.
 */
import { randomUUID } from 'node:crypto';
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSnapshot } from '@weir/delta';
import { LocalStore, type ObjectStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../support/reference-table-checks.js';
import { canonicalRows, tableDir } from '../support/reference-tables.js';

const LOG = '_delta_log';
const pad = (v: number) => String(v).padStart(20, '0');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function copyTable(name: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), `weir-v2json-${name}-`));
  dirs.push(dir);
  cpSync(tableDir(name), dir, { recursive: true });
  chmodSync(dir, 0o755);
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, entry);
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  }
  return dir;
}

/** Deletes every top-level log file of a version <= `version` (commits, checkpoints, crc) and _last_checkpoint. */
function dropLogUpTo(dir: string, version: number, keep: string): void {
  for (const name of readdirSync(path.join(dir, LOG))) {
    const m = /^(\d{20})\./.exec(name);
    if ((m && Number(m[1]) <= version && name !== keep) || name === '_last_checkpoint') {
      unlinkSync(path.join(dir, LOG, name));
    }
  }
}

/** A store that records the keys it was asked to read. */
class RecordingStore extends LocalStore {
  readonly reads: string[] = [];
  override async get(key: string): Promise<Uint8Array> {
    this.reads.push(key);
    return super.get(key);
  }
}

async function canonical(store: ObjectStore, version?: number): Promise<string[]> {
  const snapshot = await loadSnapshot(store, version !== undefined ? { version } : {});
  return canonicalRows(await rowsOf(store, snapshot));
}

describe('V2 checkpoints with a JSON manifest', () => {
  it('reads a JSON manifest whose sidecar actions point at Parquet sidecars', async () => {
    const name = 'krs-v2-checkpoints-parquet-with-sidecars';
    const want = await canonical(new LocalStore(tableDir(name)));
    const dir = copyTable(name);
    const hint = JSON.parse(readFileSync(path.join(dir, LOG, '_last_checkpoint'), 'utf8')) as {
      version: number;
      v2Checkpoint: { nonFileActions: object[]; sidecarFiles: object[] };
    };
    const { version } = hint;
    const { nonFileActions, sidecarFiles } = hint.v2Checkpoint;
    expect(sidecarFiles.length).toBeGreaterThan(1);
    const manifest = `${pad(version)}.checkpoint.${randomUUID()}.json`;
    const lines = [...nonFileActions, ...sidecarFiles.map((sidecar) => ({ sidecar }))];
    writeFileSync(path.join(dir, LOG, manifest), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    dropLogUpTo(dir, version, manifest);

    const store = new RecordingStore(dir);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.version).toBe(version);
    expect(store.reads).toContain(`${LOG}/${manifest}`);
    for (const s of sidecarFiles as { path: string }[])
      expect(store.reads).toContain(`${LOG}/_sidecars/${s.path}`);
    expect(canonicalRows(await rowsOf(store, snapshot))).toEqual(want);
  });

  it('reads a JSON manifest that holds the file actions inline', async () => {
    const name = 'dat-basic_append';
    const source = new LocalStore(tableDir(name));
    const latest = await loadSnapshot(source);
    const want = await canonical(source);
    const dir = copyTable(name);
    // The manifest: checkpointMetadata, protocol, metaData and one add per live file (as the
    // JSON log wrote them), under a UUID name.
    const lines: object[] = [
      { checkpointMetadata: { version: latest.version } },
      { protocol: latest.protocol },
      { metaData: latest.metadata },
    ];
    for (let v = 0; v <= latest.version; v++) {
      for (const line of readFileSync(path.join(dir, LOG, `${pad(v)}.json`), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const action = JSON.parse(line) as { add?: { path: string } };
        if (action.add && latest.files().some((f) => f.path === action.add!.path)) lines.push(action);
      }
    }
    expect(lines.length).toBe(3 + latest.files().length);
    const manifest = `${pad(latest.version)}.checkpoint.${randomUUID()}.json`;
    writeFileSync(path.join(dir, LOG, manifest), `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
    dropLogUpTo(dir, latest.version, manifest);

    const store = new RecordingStore(dir);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.version).toBe(latest.version);
    expect(store.reads).toEqual(expect.arrayContaining([`${LOG}/${manifest}`]));
    expect(store.reads.filter((k) => k.endsWith('.json') && k !== `${LOG}/${manifest}`)).toEqual([]);
    expect(snapshot.files().map((f) => f.path)).toEqual(latest.files().map((f) => f.path));
    expect(canonicalRows(await rowsOf(store, snapshot))).toEqual(want);
  });

  it('a missing sidecar is CORRUPT_CHECKPOINT naming the sidecar and the version', async () => {
    const dir = copyTable('krs-v2-checkpoints-parquet-with-sidecars');
    const hint = JSON.parse(readFileSync(path.join(dir, LOG, '_last_checkpoint'), 'utf8')) as {
      version: number;
      v2Checkpoint: { sidecarFiles: { path: string }[] };
    };
    const gone = hint.v2Checkpoint.sidecarFiles[0]!.path;
    unlinkSync(path.join(dir, LOG, '_sidecars', gone));
    const err = await loadSnapshot(new LocalStore(dir)).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'CORRUPT_CHECKPOINT',
      details: { file: `${LOG}/_sidecars/${gone}`, version: hint.version },
    });
  });
});
