/**
 * SQL over every reference table in ../shared/reference-tables/CATALOG.tsv (none skipped):
 * `queryTables('select * from t')` returns the same rows as Weir's scan, and the expected rows
 * where the table ships them (per version through `t@N`). Tables whose data files the shared copy
 * lacks fail with the scan's typed MISSING_DATA_FILE naming one of them; tables that must not
 * load fail with the same code as loadSnapshot. The result's columns are the table's, in order.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { batchToJsonRows, type JsonValue, loadSnapshot, type Snapshot, scanSnapshot } from '@weir/delta';
import { queryTables } from '@weir/sql';
import { LocalStore } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { NEGATIVE } from '../reference-tables/facts.js';
import {
  canonicalRows,
  expectedVersions,
  loadCatalog,
  readExpectedRows,
  tableDir,
} from '../support/reference-tables.js';

const catalog = loadCatalog();

async function scanRows(store: LocalStore, snapshot: Snapshot): Promise<Record<string, JsonValue>[]> {
  const rows: Record<string, JsonValue>[] = [];
  for await (const batch of scanSnapshot(store, snapshot)) rows.push(...batchToJsonRows(batch));
  return rows;
}

function missingFiles(snapshot: Snapshot, dir: string): string[] {
  return snapshot
    .files()
    .map((f) => decodeURIComponent(f.path))
    .filter((p) => !existsSync(path.join(dir, p)));
}

async function expectMissing(read: Promise<unknown>, missing: string[]): Promise<void> {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toMatchObject({ code: 'MISSING_DATA_FILE' });
  expect(missing).toContain((err as { details: { file: string } }).details.file);
}

describe('SQL over the reference tables', () => {
  it('covers the whole catalog', () => {
    expect(catalog.length).toBeGreaterThanOrEqual(30);
  });

  for (const entry of catalog) {
    const name = entry.name;
    const dir = tableDir(name);
    const store = new LocalStore(dir);

    if (NEGATIVE[name]) {
      it(`${name}: fails like loadSnapshot (${NEGATIVE[name]})`, async () => {
        await expect(queryTables('select * from t', { t: store })).rejects.toMatchObject({
          code: NEGATIVE[name],
        });
      });
      continue;
    }

    it(`${name}: select * equals the scan and the expected rows`, async () => {
      const snapshot = await loadSnapshot(store);
      const missing = missingFiles(snapshot, dir);
      if (missing.length > 0) {
        await expectMissing(queryTables('select * from t', { t: store }), missing);
        await expectMissing(scanRows(store, snapshot), missing);
        return;
      }
      const result = await queryTables('select * from t', { t: store });
      expect(result.schema.fields.map((f) => f.name)).toEqual(snapshot.schema.fields.map((f) => f.name));
      const sql = canonicalRows(result.rows());
      expect(sql).toEqual(canonicalRows(await scanRows(store, snapshot)));
      const latest = expectedVersions(name).find((ev) => ev.version === undefined);
      if (latest) expect(sql).toEqual(canonicalRows(readExpectedRows(latest.files, snapshot.schema)));
      expect(result.tables).toHaveLength(1);
      expect(result.tables[0]).toMatchObject({ name: 't', version: snapshot.version });
      expect(result.tables[0]!.filesRead).toBe(snapshot.files().length);
      const dv = snapshot.files().some((f) => f.deletionVector);
      expect(result.tables[0]!.mode).toBe(dv ? 'weir-scan' : 'duckdb');
    });

    for (const ev of expectedVersions(name).filter((e) => e.version !== undefined)) {
      it(`${name}: t@${ev.version} equals the expected rows of ${ev.label}`, async () => {
        const snapshot = await loadSnapshot(store, { version: ev.version! });
        const missing = missingFiles(snapshot, dir);
        const query = queryTables(`select * from t@${ev.version}`, { t: store });
        if (missing.length > 0) {
          await expectMissing(query, missing);
          return;
        }
        const result = await query;
        expect(result.tables[0]).toMatchObject({ name: `t@${ev.version}`, version: ev.version });
        expect(canonicalRows(result.rows())).toEqual(
          canonicalRows(readExpectedRows(ev.files, snapshot.schema)),
        );
      });
    }
  }
});
