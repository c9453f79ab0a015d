/**
 * Access to the shared reference tables (`../shared/reference-tables` beside the repo): the
 * catalog, each table's expected versions and expected rows, and the canonical row form both
 * sides are compared in (JSON text of each row with sorted keys, the rows sorted).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  batchToJsonRows,
  conformBatchToSchema,
  type JsonValue,
  readParquetTable,
  type StructType,
} from '@weir/delta';

const here = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(here, '../..');
export const REFERENCE_ROOT = path.resolve(REPO_ROOT, '../shared/reference-tables');

export interface CatalogEntry {
  name: string;
  writer: string;
  deltaVersions: number;
  features: string[];
}

export function loadCatalog(): CatalogEntry[] {
  const text = readFileSync(path.join(REFERENCE_ROOT, 'CATALOG.tsv'), 'utf8');
  const [header, ...lines] = text.trim().split('\n');
  const cols = header!.split('\t');
  return lines.map((line) => {
    const cells = line.split('\t');
    const get = (name: string) => cells[cols.indexOf(name)] ?? '';
    return {
      name: get('name'),
      writer: get('writer'),
      deltaVersions: Number(get('delta_versions')),
      features: get('features').split(',').filter(Boolean),
    };
  });
}

export function tableDir(name: string): string {
  return path.join(REFERENCE_ROOT, name, 'delta');
}

export interface ExpectedVersion {
  label: string;
  /** Undefined for the latest version. */
  version?: number;
  files: string[];
  metadata?: {
    version: number;
    properties: Record<string, string>;
    min_reader_version: number;
    min_writer_version: number;
  };
}

function parquetFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.parquet'))
    .sort()
    .map((f) => path.join(dir, f));
}

/** Expected data shipped with the table: DAT per-version folders, or golden `expected/*.parquet`. */
export function expectedVersions(name: string): ExpectedVersion[] {
  const dir = path.join(REFERENCE_ROOT, name, 'expected');
  if (!existsSync(dir)) return [];
  const top = parquetFilesIn(dir);
  if (top.length > 0) return [{ label: 'latest', files: top }];
  const out: ExpectedVersion[] = [];
  for (const label of readdirSync(dir).sort()) {
    const content = path.join(dir, label, 'table_content');
    if (!existsSync(content)) continue;
    const metaPath = path.join(dir, label, 'table_version_metadata.json');
    const metadata = existsSync(metaPath) ? JSON.parse(readFileSync(metaPath, 'utf8')) : undefined;
    const m = /^v(\d+)$/.exec(label);
    out.push({
      label,
      ...(m ? { version: Number(m[1]) } : {}),
      files: parquetFilesIn(content),
      ...(metadata ? { metadata } : {}),
    });
  }
  return out;
}

/** Reads expected Parquet files and converts them to the table's logical types, as JSON rows. */
export function readExpectedRows(files: string[], schema: StructType): Record<string, JsonValue>[] {
  const rows: Record<string, JsonValue>[] = [];
  for (const file of files) {
    const table = readParquetTable(new Uint8Array(readFileSync(file)));
    for (const batch of table.batches)
      rows.push(...batchToJsonRows(conformBatchToSchema(batch, schema, { table: 'expected', file })));
  }
  return rows;
}

function sortKeys(v: JsonValue): JsonValue {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v !== null && typeof v === 'object') {
    const out: Record<string, JsonValue> = {};
    for (const k of Object.keys(v).sort()) out[k] = sortKeys(v[k]!);
    return out;
  }
  return v;
}

/** Rows as sorted canonical JSON strings: order-insensitive, exact values. */
export function canonicalRows(rows: readonly Record<string, JsonValue>[]): string[] {
  return rows.map((r) => JSON.stringify(sortKeys(r))).sort();
}
