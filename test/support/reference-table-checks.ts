/**
 * The per-table checks of the reference-table compatibility suite, independent of where the
 * table lives: the local suite runs them on LocalStores over ../shared/reference-tables, the S3
 * suite on S3Stores over a bucket holding an upload of the same folders. For each catalog table:
 * it fails with the stated error (NEGATIVE), matches its expected rows at every shipped version
 * (with the version metadata), agrees with the facts in facts.ts, and, where the log references
 * data files this copy does not ship, fails with MISSING_DATA_FILE naming one of them.
 *
 * Which data files are missing is decided from the local folder (what was uploaded), decoding
 * add.path independently of the reader; so a reader that maps a path to the wrong store key
 * fails the row comparison instead of being excused as "missing".
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import {
  batchToJsonRows,
  type JsonValue,
  loadSnapshot,
  planScan,
  type Snapshot,
  scanSnapshot,
} from '@weir/delta';
import type { ObjectStore } from '@weir/storage';
import { expect, it } from 'vitest';
import { FACTS, NEGATIVE } from '../reference-tables/facts.js';
import { canonicalRows, expectedVersions, readExpectedRows, tableDir } from './reference-tables.js';

export async function rowsOf(
  store: ObjectStore,
  snapshot: Snapshot,
  options: { where?: string; columns?: string[] } = {},
): Promise<Record<string, JsonValue>[]> {
  const rows: Record<string, JsonValue>[] = [];
  for await (const batch of scanSnapshot(store, snapshot, options)) rows.push(...batchToJsonRows(batch));
  return rows;
}

/**
 * Data files the log references that the shipped copy of table `name` does not hold (decoded
 * independently of the reader). Reading rows must then fail with a typed error naming one.
 */
export function missingFiles(snapshot: Snapshot, name: string): string[] {
  const dir = tableDir(name);
  return snapshot
    .files()
    .map((f) => decodeURIComponent(f.path))
    .filter((p) => !existsSync(path.join(dir, p)));
}

export async function expectMissingFileError(read: Promise<unknown>, missing: string[]): Promise<void> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'MISSING_DATA_FILE' });
  expect(missing).toContain((err as { details: { file: string } }).details.file);
}

/**
 * Registers the checks for catalog table `name` in the current describe block. `storeOf` is
 * called inside the tests (an S3 store only exists once the bucket is set up). Returns whether
 * the table is a negative one (no further checks make sense for it).
 */
export function referenceTableChecks(name: string, storeOf: () => ObjectStore): { negative: boolean } {
  const negative = NEGATIVE[name];
  if (negative) {
    it(`fails with ${negative}`, async () => {
      await expect(loadSnapshot(storeOf())).rejects.toMatchObject({ code: negative });
    });
    return { negative: true };
  }

  const expected = expectedVersions(name);
  for (const ev of expected) {
    it(`matches expected rows at ${ev.label}`, async () => {
      const store = storeOf();
      const snapshot = await loadSnapshot(store, ev.version !== undefined ? { version: ev.version } : {});
      if (ev.metadata) {
        expect(snapshot.version).toBe(ev.metadata.version);
        expect(snapshot.protocol.minReaderVersion).toBe(ev.metadata.min_reader_version);
        expect(snapshot.protocol.minWriterVersion).toBe(ev.metadata.min_writer_version);
        for (const [k, v] of Object.entries(ev.metadata.properties))
          expect(snapshot.configuration[k]).toBe(v);
      }
      const missing = missingFiles(snapshot, name);
      if (missing.length > 0) {
        await expectMissingFileError(rowsOf(store, snapshot), missing);
        return;
      }
      const got = canonicalRows(await rowsOf(store, snapshot));
      const want = canonicalRows(readExpectedRows(ev.files, snapshot.schema));
      expect(got.length).toBe(want.length);
      expect(got).toEqual(want);
    });
  }

  const facts = FACTS[name];
  if (facts) {
    it('agrees with the facts stated upstream', async () => {
      const store = storeOf();
      const snapshot = await loadSnapshot(store);
      await facts({
        snapshot,
        rows: () => rowsOf(store, snapshot),
        scan: async ({ version, ...rest }) =>
          rowsOf(store, version === undefined ? snapshot : await loadSnapshot(store, { version }), rest),
        filesRead: async (where) => planScan(snapshot, { where }).files.length,
        snapshotAt: (version) => loadSnapshot(store, { version }),
      });
    });
  }

  if (expected.length === 0 && !facts) {
    it('has expected data or stated facts', () => {
      // A table with neither is still checked by the suite's generic checks, but say so loudly.
      expect.soft(name, 'add facts for this table in facts.ts').toBe('');
    });
  }
  return { negative: false };
}
