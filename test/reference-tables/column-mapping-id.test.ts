/**
 * Column mapping 'id' mode (PROTOCOL.md "Column Mapping"): readers resolve data-file columns by
 * Parquet field id, not by name. The Spark-written golden-table-with-columnmapping-mode-name
 * carries field ids in its data files; a copy switched to 'id' mode with every physical name in
 * the schema changed (top level and nested) must still read its expected rows, which only
 * resolution by id can find. A column whose id no file has reads as nulls.
 */
import {
  chmodSync,
  cpSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadSnapshot } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { rowsOf } from '../support/reference-table-checks.js';
import { canonicalRows, expectedVersions, readExpectedRows, tableDir } from '../support/reference-tables.js';

const NAME = 'golden-table-with-columnmapping-mode-name';
const COMMIT = path.join('_delta_log', '00000000000000000000.json');

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

/** Renames every physical name in a schema (nested structs included) with `rename`. */
function renamePhysical(node: unknown, rename: (name: string) => string): void {
  if (Array.isArray(node)) {
    for (const n of node) renamePhysical(n, rename);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Json;
  const meta = obj.metadata as Json | undefined;
  if (meta && typeof meta['delta.columnMapping.physicalName'] === 'string') {
    meta['delta.columnMapping.physicalName'] = rename(meta['delta.columnMapping.physicalName'] as string);
  }
  for (const v of Object.values(obj)) renamePhysical(v, rename);
}

/** A copy in 'id' mode; `edit` changes the parsed schema before it is written back. */
function idModeCopy(edit: (schema: Json) => void): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'weir-cm-id-'));
  dirs.push(dir);
  cpSync(tableDir(NAME), dir, { recursive: true });
  for (const entry of readdirSync(dir, { recursive: true }) as string[]) {
    const p = path.join(dir, entry);
    chmodSync(p, statSync(p).isDirectory() ? 0o755 : 0o644);
  }
  const file = path.join(dir, COMMIT);
  const lines = readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);
  for (const action of lines) {
    const meta = action.metaData as Json | undefined;
    if (!meta) continue;
    (meta.configuration as Json)['delta.columnMapping.mode'] = 'id';
    const schema = JSON.parse(meta.schemaString as string) as Json;
    edit(schema);
    meta.schemaString = JSON.stringify(schema);
  }
  writeFileSync(file, `${lines.map((l) => JSON.stringify(l)).join('\n')}\n`);
  return dir;
}

describe("column mapping 'id' mode", () => {
  it('resolves columns by field id when the physical names no longer match the files', async () => {
    const expected = expectedVersions(NAME)[0]!;
    const dir = idModeCopy((schema) => renamePhysical(schema, (n) => `renamed-${n}`));
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    expect(snapshot.configuration['delta.columnMapping.mode']).toBe('id');
    const got = canonicalRows(await rowsOf(store, snapshot));
    const want = canonicalRows(readExpectedRows(expected.files, snapshot.schema));
    expect(got).toEqual(want);
    // Not vacuous: the rows have values in every top-level column.
    const rows = await rowsOf(store, snapshot);
    for (const f of snapshot.schema.fields)
      expect(
        rows.some((r) => r[f.name] !== null),
        f.name,
      ).toBe(true);
  });

  it('a column whose field id no data file has reads as nulls (added after the files)', async () => {
    const dir = idModeCopy((schema) => {
      const fields = schema.fields as Json[];
      const first = fields[0]!;
      // Same name and physical name as before, a new id: the files do not hold this column.
      (first.metadata as Json)['delta.columnMapping.id'] = 9999;
    });
    const store = new LocalStore(dir);
    const snapshot = await loadSnapshot(store);
    const column = snapshot.schema.fields[0]!.name;
    const rows = await rowsOf(store, snapshot);
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r[column] === null)).toBe(true);
  });
});
