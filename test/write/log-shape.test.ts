/**
 * The log Weir writes has the shape Spark writes: for every action kind, the field names Weir
 * uses are ones Spark uses (no invented fields), the fields every Spark commit has are present,
 * and each field's JSON type agrees; per-file stats use the same structure and value formats
 * (timestamps `...T..:..:..SSSZ`, dates `YYYY-MM-DD`, decimals as JSON numbers); data files are
 * named `part-<uuid>.<codec>.parquet` and partition directories are Hive-style.
 * The reference is every JSON commit of the Spark-written reference tables.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseSchema, RecordBatchBuilder, writeTable } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCatalog, REFERENCE_ROOT } from '../support/reference-tables.js';

type Json = Record<string, unknown>;

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** field -> set of JSON types seen, per action kind, over Spark-written commits. */
function sparkShapes(): Map<string, Map<string, Set<string>>> {
  const shapes = new Map<string, Map<string, Set<string>>>();
  for (const entry of loadCatalog()) {
    if (!entry.writer.startsWith('spark')) continue;
    const log = path.join(REFERENCE_ROOT, entry.name, 'delta', '_delta_log');
    for (const file of readdirSync(log).filter((f) => /^\d{20}\.json$/.test(f))) {
      for (const line of readFileSync(path.join(log, file), 'utf8').split('\n')) {
        if (!line.trim()) continue;
        const obj = JSON.parse(line) as Json;
        for (const [kind, action] of Object.entries(obj)) {
          const fields = shapes.get(kind) ?? new Map<string, Set<string>>();
          shapes.set(kind, fields);
          for (const [k, v] of Object.entries(action as Json)) {
            const types = fields.get(k) ?? new Set<string>();
            types.add(jsonType(v));
            fields.set(k, types);
          }
        }
      }
    }
  }
  return shapes;
}

const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-shape-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const f = (name: string, type: unknown) => ({ name, type, nullable: true, metadata: {} });
const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      f('id', 'long'),
      f('amount', 'decimal(5,3)'),
      f('name', 'string'),
      f('day', 'date'),
      f('at', 'timestamp'),
      f('ok', 'boolean'),
      f('raw', 'binary'),
      f('loc', { type: 'struct', fields: [f('lat', 'double'), f('lon', 'double')] }),
      f('country', 'string'),
    ],
  }),
);

async function weirCommits(): Promise<Json[][]> {
  const store = new LocalStore(dir);
  const b = new RecordBatchBuilder(schema);
  for (let i = 0; i < 5; i++) {
    b.append({
      id: i,
      amount: `${10 + i}.000`,
      name: `${i}`,
      day: `1970-01-0${i + 1}`,
      at: i * 3_600_000,
      ok: i % 2 === 0,
      raw: Buffer.alloc(i).toString('base64'),
      loc: { lat: i, lon: -i },
      country: i % 2 ? 'DE' : 'FR',
    });
  }
  await writeTable(store, b.flush(), { partitionBy: ['country'] });
  for (let i = 0; i < 5; i++) b.append({ id: 100 + i, country: 'DE' });
  await writeTable(store, b.flush(), { mode: 'overwrite' });
  const log = path.join(dir, '_delta_log');
  return readdirSync(log)
    .filter((x) => /^\d{20}\.json$/.test(x))
    .sort()
    .map((x) =>
      readFileSync(path.join(log, x), 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Json),
    );
}

describe('the log Weir writes has Spark’s shape', async () => {
  const spark = sparkShapes();
  const commits = await weirCommits();
  const actions = commits.flat();

  it('uses only fields Spark uses, with the same JSON types', () => {
    for (const obj of actions) {
      for (const [kind, action] of Object.entries(obj)) {
        const known = spark.get(kind);
        expect(known, `action kind ${kind}`).toBeDefined();
        for (const [k, v] of Object.entries(action as Json)) {
          expect(known!.has(k), `${kind}.${k} is not a field Spark writes`).toBe(true);
          expect([...known!.get(k)!], `${kind}.${k} JSON type`).toContain(jsonType(v));
        }
      }
    }
  });

  it('writes every field Spark always writes for add, remove, metaData, protocol and commitInfo', () => {
    const required: Record<string, string[]> = {
      add: ['path', 'partitionValues', 'size', 'modificationTime', 'dataChange', 'stats'],
      remove: ['path', 'deletionTimestamp', 'dataChange', 'extendedFileMetadata', 'partitionValues', 'size'],
      metaData: ['id', 'format', 'schemaString', 'partitionColumns', 'configuration', 'createdTime'],
      protocol: ['minReaderVersion', 'minWriterVersion'],
      commitInfo: [
        'timestamp',
        'operation',
        'operationParameters',
        'isolationLevel',
        'isBlindAppend',
        'operationMetrics',
        'engineInfo',
        'txnId',
      ],
    };
    for (const [kind, fields] of Object.entries(required)) {
      const mine = actions.filter((a) => kind in a).map((a) => a[kind] as Json);
      expect(mine.length, `Weir wrote no ${kind}`).toBeGreaterThan(0);
      for (const a of mine) for (const field of fields) expect(a, `${kind}.${field}`).toHaveProperty(field);
    }
  });

  it('commit 0 starts with commitInfo, then protocol and metaData, like Spark', () => {
    expect(commits[0]!.map((a) => Object.keys(a)[0]).slice(0, 3)).toEqual([
      'commitInfo',
      'protocol',
      'metaData',
    ]);
    const info = commits[0]![0]!.commitInfo as Json;
    expect(info.engineInfo).toMatch(/^weir\/\d+\.\d+\.\d+$/);
    expect(Object.values(info.operationMetrics as Json).every((v) => typeof v === 'string')).toBe(true);
    expect(info.operationParameters).toMatchObject({ partitionBy: '["country"]' });
  });

  it('stats have Spark’s structure and value formats', () => {
    const adds = actions.filter((a) => 'add' in a).map((a) => a.add as Json);
    const stats = JSON.parse(
      adds.find((a) => (a.partitionValues as Json).country === 'FR')!.stats as string,
    ) as Json;
    expect(Object.keys(stats).sort()).toEqual([
      'maxValues',
      'minValues',
      'nullCount',
      'numRecords',
      'tightBounds',
    ]);
    const min = stats.minValues as Json;
    expect(min.at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(min.day).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(typeof min.amount).toBe('number');
    expect(min.loc).toEqual({ lat: 0, lon: -4 });
    // Like Spark: no min/max for booleans and binary, but null counts for every column.
    expect(min).not.toHaveProperty('ok');
    expect(min).not.toHaveProperty('raw');
    expect(Object.keys(stats.nullCount as Json).sort()).toEqual([
      'amount',
      'at',
      'day',
      'id',
      'loc',
      'name',
      'ok',
      'raw',
    ]);
    expect((stats.nullCount as Json).loc).toEqual({ lat: 0, lon: 0 });
    // The exact decimal text survives (Spark writes 10.000, not 10).
    expect(adds[0]!.stats as string).toMatch(/"amount":1\d\.000/);
    // Partition columns are never in the data-file stats.
    expect(min).not.toHaveProperty('country');
  });

  it('names files part-<uuid>.<codec>.parquet under Hive-style partition directories', () => {
    for (const a of actions.filter((x) => 'add' in x).map((x) => x.add as Json)) {
      expect(a.path).toMatch(
        /^country=(DE|FR)\/part-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.zstd\.parquet$/,
      );
    }
  });
});
