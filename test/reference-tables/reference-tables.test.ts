/**
 * Compatibility suite: every table in ../shared/reference-tables/CATALOG.tsv is read through
 * the public API and compared with its expected rows (per version where the table ships
 * expected data per version), with the facts in facts.ts, and — where the files can be read
 * directly (no deletion vectors, no column mapping) — with DuckDB reading the same live files.
 * A new table is one catalog line (plus, if it ships no expected data, one facts entry).
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
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { duckdbRows } from '../support/duckdb.js';
import {
  canonicalRows,
  expectedVersions,
  loadCatalog,
  readExpectedRows,
  tableDir,
} from '../support/reference-tables.js';
import { FACTS, NEGATIVE } from './facts.js';

async function rowsOf(
  store: LocalStore,
  snapshot: Snapshot,
  options: { where?: string; columns?: string[] } = {},
): Promise<Record<string, JsonValue>[]> {
  const rows: Record<string, JsonValue>[] = [];
  for await (const batch of scanSnapshot(store, snapshot, options)) rows.push(...batchToJsonRows(batch));
  return rows;
}

const catalog = loadCatalog();

/**
 * Data files the log references that this copy of the table does not ship (decoded
 * independently of the reader). Reading rows must then fail with a typed error naming one.
 */
function missingFiles(snapshot: Snapshot, dir: string): string[] {
  return snapshot
    .files()
    .map((f) => decodeURIComponent(f.path))
    .filter((p) => !existsSync(path.join(dir, p)));
}

async function expectMissingFileError(read: Promise<unknown>, missing: string[]): Promise<void> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'MISSING_DATA_FILE' });
  expect(missing).toContain((err as { details: { file: string } }).details.file);
}

describe('reference tables', () => {
  it('the catalog lists every table folder', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(30);
  });

  for (const entry of catalog) {
    const name = entry.name;
    describe(name, () => {
      const store = new LocalStore(tableDir(name));

      if (NEGATIVE[name]) {
        it(`fails with ${NEGATIVE[name]}`, async () => {
          await expect(loadSnapshot(store)).rejects.toMatchObject({ code: NEGATIVE[name] });
        });
        return;
      }

      const expected = expectedVersions(name);
      for (const ev of expected) {
        it(`matches expected rows at ${ev.label}`, async () => {
          const snapshot = await loadSnapshot(store, ev.version !== undefined ? { version: ev.version } : {});
          if (ev.metadata) {
            expect(snapshot.version).toBe(ev.metadata.version);
            expect(snapshot.protocol.minReaderVersion).toBe(ev.metadata.min_reader_version);
            expect(snapshot.protocol.minWriterVersion).toBe(ev.metadata.min_writer_version);
            for (const [k, v] of Object.entries(ev.metadata.properties))
              expect(snapshot.configuration[k]).toBe(v);
          }
          const missing = missingFiles(snapshot, tableDir(name));
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
          // A table with neither is still checked against DuckDB below, but say so loudly.
          expect.soft(name, 'add facts for this table in facts.ts').toBe('');
        });
      }

      it('agrees with DuckDB reading the same live files (non-partition columns)', async () => {
        const snapshot = await loadSnapshot(store);
        const missing = missingFiles(snapshot, tableDir(name));
        if (missing.length > 0) {
          await expectMissingFileError(rowsOf(store, snapshot), missing);
          return;
        }
        const direct =
          snapshot.files().every((f) => !f.deletionVector) &&
          (snapshot.configuration['delta.columnMapping.mode'] ?? 'none') === 'none';
        if (!direct || snapshot.files().length === 0) {
          // DuckDB's read_parquet cannot apply deletion vectors or column mapping; those tables
          // are covered by expected rows and facts above.
          expect(snapshot.files().length === 0 || !direct).toBe(true);
          return;
        }
        const columns = snapshot.schema.fields
          .map((f) => f.name)
          .filter((c) => !snapshot.partitionColumns.includes(c));
        const ours = canonicalRows(await rowsOf(store, snapshot, { columns }));
        const theirs = canonicalRows(await duckdbRows(store.directory, snapshot, columns));
        expect(ours).toEqual(theirs);
      });
    });
  }
});
