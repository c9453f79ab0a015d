/**
 * Bad input to the write path: each case is a typed error (code + details naming the column,
 * file, version or record) and leaves the table exactly as it was — no new version.
 */
import { appendFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTable, loadSnapshot, parseSchema, RecordBatchBuilder, writeTable } from '@weir/delta';
import { LocalStore } from '@weir/storage';
import { tableFromArrays } from 'apache-arrow';
import { afterEach, describe, expect, it } from 'vitest';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'weir-bad-'));
  dirs.push(dir);
  return dir;
}

const schema = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'name', type: 'string', nullable: true, metadata: {} },
    ],
  }),
);

async function table(): Promise<LocalStore> {
  const store = new LocalStore(tempDir());
  await createTable(store, { schema });
  await writeTable(store, tableFromArrays({ id: BigInt64Array.from([1n]), name: ['one'] }));
  return store;
}

async function expectUnchanged(store: LocalStore, version: number): Promise<void> {
  expect((await loadSnapshot(store)).version).toBe(version);
}

describe('bad input to writes', () => {
  it('a column of the wrong type names the column and both types', async () => {
    const store = await table();
    const err = await writeTable(store, tableFromArrays({ id: ['not a number'], name: ['x'] })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'id', tableType: 'long', inputType: 'string' },
    });
    await expectUnchanged(store, 1);
  });

  it('a missing non-nullable column is refused', async () => {
    const store = await table();
    await expect(writeTable(store, tableFromArrays({ name: ['x'] }))).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'id' },
    });
    await expectUnchanged(store, 1);
  });

  it('nulls in a non-nullable column are refused', async () => {
    const store = await table();
    const b = new RecordBatchBuilder(
      parseSchema(
        JSON.stringify({
          type: 'struct',
          fields: [{ name: 'id', type: 'long', nullable: true, metadata: {} }],
        }),
      ),
    );
    b.append({ id: 1 });
    b.append({ id: null });
    await expect(writeTable(store, b.flush())).rejects.toMatchObject({
      code: 'NULL_IN_NON_NULLABLE_COLUMN',
      details: { column: 'id', nullRows: 1 },
    });
    await expectUnchanged(store, 1);
  });

  it('an extra column needs mergeSchema', async () => {
    const store = await table();
    await expect(
      writeTable(store, tableFromArrays({ id: BigInt64Array.from([2n]), extra: Float64Array.from([1]) })),
    ).rejects.toMatchObject({
      code: 'SCHEMA_MISMATCH',
      details: { column: 'extra' },
    });
    await expectUnchanged(store, 1);
  });

  it('a record that does not fit the schema names the record and field', () => {
    const b = new RecordBatchBuilder(schema, { table: 'events' });
    expect(() => b.append({ id: 'twelve' }, { recordIndex: 41 })).toThrow(
      expect.objectContaining({
        code: 'INVALID_RECORD',
        details: expect.objectContaining({ recordIndex: 41, field: 'id' }),
      }),
    );
    expect(b.numRows).toBe(0);
  });

  it('a corrupt commit in the log fails the write with the file and version named', async () => {
    const store = await table();
    appendFileSync(
      path.join(store.directory, '_delta_log', '00000000000000000001.json'),
      '{"add": {"path": 12\n',
    );
    const err = await writeTable(store, tableFromArrays({ id: BigInt64Array.from([2n]) })).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'CORRUPT_LOG', details: { version: 1 } });
    expect(JSON.stringify((err as { details: unknown }).details)).toContain('00000000000000000001.json');
  });

  it('a folder with other files but no Delta log is not adopted', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, 'data'));
    writeFileSync(path.join(dir, 'data', 'foreign.parquet'), 'PAR1');
    const store = new LocalStore(dir);
    await expect(writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }))).rejects.toMatchObject({
      code: 'NOT_A_DELTA_TABLE',
      details: { example: 'data/foreign.parquet' },
    });
    await expect(createTable(store, { schema })).rejects.toMatchObject({ code: 'NOT_A_DELTA_TABLE' });
    await expect(loadSnapshot(store)).rejects.toMatchObject({ code: 'NOT_A_DELTA_TABLE' });
  });

  it('hidden objects (another writer probing conditional writes, _SUCCESS markers) do not block creating the table', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, '_weir_conditional_write_check'));
    writeFileSync(path.join(dir, '_weir_conditional_write_check', '0f0e0d0c'), 'probe');
    writeFileSync(path.join(dir, '_SUCCESS'), '');
    const store = new LocalStore(dir);
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }));
    expect((await loadSnapshot(store)).files()).toHaveLength(1);
  });

  it('orphan data files of a create that crashed do not block creating the table', async () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'part-0f0e0d0c-0b0a-4908-8706-050403020100.zstd.parquet'), 'partial');
    const store = new LocalStore(dir);
    await writeTable(store, tableFromArrays({ id: Int32Array.from([1]) }));
    expect((await loadSnapshot(store)).files()).toHaveLength(1);
  });

  it('unknown or invalid table properties are refused at creation', async () => {
    await expect(
      createTable(new LocalStore(tempDir()), { schema, properties: { 'delta.checkpointIntervall': '5' } }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_TABLE_PROPERTY',
      details: { property: 'delta.checkpointIntervall' },
    });
    await expect(
      createTable(new LocalStore(tempDir()), { schema, properties: { 'delta.checkpointInterval': 'often' } }),
    ).rejects.toMatchObject({ code: 'INVALID_TABLE_PROPERTY' });
  });

  it('partitioning by an unknown column, or a mismatching partitioning, is refused', async () => {
    await expect(
      createTable(new LocalStore(tempDir()), { schema, partitionColumns: ['nope'] }),
    ).rejects.toMatchObject({
      code: 'UNKNOWN_COLUMN',
    });
    const store = await table();
    await expect(
      writeTable(store, tableFromArrays({ id: BigInt64Array.from([2n]) }), { partitionBy: ['name'] }),
    ).rejects.toMatchObject({ code: 'PARTITIONING_MISMATCH' });
  });

  it('creating an existing table is an error unless ifExists is ignore', async () => {
    const store = await table();
    await expect(createTable(store, { schema })).rejects.toMatchObject({
      code: 'TABLE_ALREADY_EXISTS',
      details: { version: 1 },
    });
    expect(await createTable(store, { schema, ifExists: 'ignore' })).toEqual({ version: 1, created: false });
  });

  it('tables needing writer features Weir does not implement are refused', async () => {
    const dir = tempDir();
    mkdirSync(path.join(dir, '_delta_log'));
    writeFileSync(
      path.join(dir, '_delta_log', '00000000000000000000.json'),
      `${[
        JSON.stringify({
          protocol: { minReaderVersion: 1, minWriterVersion: 7, writerFeatures: ['rowTracking'] },
        }),
        JSON.stringify({
          metaData: {
            id: 'x',
            format: { provider: 'parquet', options: {} },
            schemaString: JSON.stringify({
              type: 'struct',
              fields: [{ name: 'id', type: 'integer', nullable: true, metadata: {} }],
            }),
            partitionColumns: [],
            configuration: {},
          },
        }),
      ].join('\n')}\n`,
    );
    await expect(
      writeTable(new LocalStore(dir), tableFromArrays({ id: Int32Array.from([1]) })),
    ).rejects.toMatchObject({
      code: 'UNSUPPORTED_WRITE_FEATURE',
    });
  });
});
