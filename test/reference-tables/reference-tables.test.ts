/**
 * Compatibility suite: every table in ../shared/reference-tables/CATALOG.tsv is read through
 * the public API and compared with its expected rows (per version where the table ships
 * expected data per version), with the facts in facts.ts, and — where the files can be read
 * directly (no deletion vectors, no column mapping) — with DuckDB reading the same live files.
 * A new table is one catalog line (plus, if it ships no expected data, one facts entry).
 */
import { loadSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { duckdbRows } from '../support/duckdb.js';
import {
  expectMissingFileError,
  missingFiles,
  referenceTableChecks,
  rowsOf,
} from '../support/reference-table-checks.js';
import { canonicalRows, loadCatalog, tableDir } from '../support/reference-tables.js';

const catalog = loadCatalog();

describe('reference tables', () => {
  it('the catalog lists every table folder', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(30);
  });

  for (const entry of catalog) {
    const name = entry.name;
    describe(name, () => {
      const store = new LocalStore(tableDir(name));

      // Expected rows per version, facts, negative tables, missing data files (shared with the S3 suite).
      if (referenceTableChecks(name, () => store).negative) return;

      it('agrees with DuckDB reading the same live files (non-partition columns)', async () => {
        const snapshot = await loadSnapshot(store);
        const missing = missingFiles(snapshot, name);
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
