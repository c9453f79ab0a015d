/**
 * The reference-table compatibility suite on S3: every catalog table's `delta/` folder is uploaded
 * (once, byte for byte, under `reference/<name>/`) to a radosgw bucket and read through an
 * S3Store with the same checks as the local suite (test/support/reference-table-checks.ts):
 * expected rows at every shipped version, the facts in facts.ts, the non-contiguous-versions
 * negative table, MISSING_DATA_FILE where the copy lacks data files. On top, each table reads the
 * same on S3 as from local disk (version, live files, rows).
 *
 * What this proves beyond the local suite: add.path is URI-decoded exactly once on the way to an
 * S3 key (`%252521` in the log -> key `_2=bar+%2521/...`; spaces and `%3A` in partition
 * directories; literal `%` in file names), log listing and `startAfter` work on S3's ordering,
 * and checkpoints (classic, multi-part, V2 with sidecars), DV files and ranged Parquet reads work
 * over HTTP.
 */
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { loadSnapshot, type Snapshot } from '@weir/delta';
import { LocalStore, listAll, type ObjectStore } from '@weir/storage';
import type { S3Store } from '@weir/storage-s3';
import { describeS3, uploadDirectory, useRgwBucket } from '@weir/storage-s3/testing';
import { beforeAll, describe, expect, it } from 'vitest';
import { missingFiles, referenceTableChecks, rowsOf } from '../support/reference-table-checks.js';
import { canonicalRows, loadCatalog, tableDir } from '../support/reference-tables.js';

const catalog = loadCatalog();
/** Tables uploaded at once (each uploads its files one at a time). */
const UPLOAD_PARALLELISM = 6;

/** Every file below `dir`, as '/'-separated relative paths (what uploadDirectory writes). */
function localFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

/** A snapshot's rows, or the code of the typed error reading them fails with. */
async function rowsOrError(store: ObjectStore, snapshot: Snapshot): Promise<string[] | { code: unknown }> {
  try {
    return canonicalRows(await rowsOf(store, snapshot));
  } catch (err) {
    return { code: (err as { code?: unknown }).code };
  }
}

describeS3('reference tables on S3 (radosgw)', () => {
  const rgw = useRgwBucket();
  const stores = new Map<string, S3Store>();
  const uploaded = new Map<string, string[]>();
  const storeOf = (name: string): S3Store => {
    let store = stores.get(name);
    if (store === undefined) {
      store = rgw.store(`reference/${name}`);
      stores.set(name, store);
    }
    return store;
  };

  beforeAll(async () => {
    const started = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: UPLOAD_PARALLELISM }, async () => {
        for (let i = next++; i < catalog.length; i = next++) {
          const name = catalog[i]!.name;
          uploaded.set(name, await uploadDirectory(tableDir(name), storeOf(name)));
        }
      }),
    );
    const files = [...uploaded.values()].reduce((n, keys) => n + keys.length, 0);
    console.info(
      `uploaded ${catalog.length} reference tables (${files} files) in ${Date.now() - started} ms`,
    );
  }, 180_000);

  it('every table folder is in the bucket, each file under its literal relative path', async () => {
    expect(uploaded.size).toBe(catalog.length);
    for (const { name } of catalog) {
      const want = localFiles(tableDir(name));
      expect(uploaded.get(name), name).toEqual(want);
      // Listed back from S3 (not just what the uploader says it wrote): no key was re-encoded.
      expect(
        (await listAll(storeOf(name), '')).map((m) => m.key),
        name,
      ).toEqual(want);
    }
    // The tables whose keys need care are really in the set.
    const escaped = uploaded.get('golden-data-reader-escaped-chars') ?? [];
    expect(escaped.some((k) => k.startsWith('_2=bar+%2521/part-'))).toBe(true);
    const spaced = uploaded.get('dat-multi_partitioned_2') ?? [];
    expect(spaced.some((k) => k.includes('time=1970-01-01 00%3A00%3A00/'))).toBe(true);
    const percent = uploaded.get('krs-v2-checkpoints-parquet-with-sidecars') ?? [];
    expect(percent.some((k) => k.startsWith('test%file%prefix-part-'))).toBe(true);
  });

  for (const entry of catalog) {
    const name = entry.name;
    describe(name, () => {
      if (referenceTableChecks(name, () => storeOf(name)).negative) return;

      it('reads the same on S3 as from local disk (version, live files, rows)', async () => {
        const local = new LocalStore(tableDir(name));
        const [onDisk, onS3] = await Promise.all([loadSnapshot(local), loadSnapshot(storeOf(name))]);
        expect(onS3.version).toBe(onDisk.version);
        expect(onS3.schema).toEqual(onDisk.schema);
        const paths = (s: Snapshot) =>
          s
            .files()
            .map((f) => f.path)
            .sort();
        expect(paths(onS3)).toEqual(paths(onDisk));
        const [want, got] = await Promise.all([rowsOrError(local, onDisk), rowsOrError(storeOf(name), onS3)]);
        expect(got).toEqual(want);
        // A table whose copy lacks data files fails the same way on both (checked in detail above).
        if (missingFiles(onDisk, name).length > 0) expect(got).toEqual({ code: 'MISSING_DATA_FILE' });
      });
    });
  }
});
