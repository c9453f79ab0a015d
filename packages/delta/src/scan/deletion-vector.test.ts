import { readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  isWeirError,
  LocalStore,
  NotFoundError,
  type ObjectMeta,
  type ObjectStore,
  type WeirError,
} from '@weir/storage';
import { type Table, tableFromIPC } from 'apache-arrow';
import { initSync, readParquet } from 'parquet-wasm/esm';
import { beforeAll, describe, expect, it } from 'vitest';
import type { AddAction, DeletionVectorDescriptor, RemoveAction } from '../actions/types.js';
import { z85EncodeUuid } from '../util/z85.js';
import {
  absoluteDvPath,
  DeletedRows,
  decodeDeletionVector,
  decodeDvFileEntry,
  dvUniqueId,
  encodeDeletionVector,
  encodeDvFile,
  inlineDeletionVector,
  loadDeletionVector,
} from './deletion-vector.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const TABLES = path.resolve(here, '../../../../../shared/reference-tables');

// ------------------------------------------------------------------------------------------------
// Stores: reference tables through LocalStore; a counting in-memory store for IO assertions.

class MapStore implements ObjectStore {
  readonly objects = new Map<string, Uint8Array>();
  reads = 0;
  constructor(readonly root = 'memory://dv-test') {}
  async get(key: string): Promise<Uint8Array> {
    this.reads++;
    const bytes = this.objects.get(key);
    if (bytes === undefined) throw new NotFoundError(key);
    return bytes.slice();
  }
  async getRange(key: string, offset: number, length: number): Promise<Uint8Array> {
    return (await this.get(key)).slice(offset, offset + length);
  }
  head(): Promise<ObjectMeta> {
    throw new Error('not needed');
  }
  async put(key: string, data: Uint8Array | AsyncIterable<Uint8Array>): Promise<void> {
    this.objects.set(key, (data as Uint8Array).slice());
  }
  putIfAbsent(key: string, data: Uint8Array): Promise<void> {
    return this.put(key, data);
  }
  // biome-ignore lint/correctness/useYield: not needed by these tests
  async *list(): AsyncIterable<ObjectMeta> {
    throw new Error('not needed');
  }
  async delete(key: string): Promise<void> {
    this.objects.delete(key);
  }
}

/** Fails the test on any IO: inline and empty DVs must not touch the store. */
const NO_IO_STORE: ObjectStore = new Proxy({ root: 'memory://no-io' } as ObjectStore, {
  get(target, prop) {
    if (prop === 'root') return target.root;
    return () => {
      throw new Error(`unexpected IO: ${String(prop)}`);
    };
  },
});

function tableStore(name: string): ObjectStore {
  return new LocalStore(path.join(TABLES, name, 'delta'));
}

// ------------------------------------------------------------------------------------------------
// Helpers over the reference tables (JSON commits only; checkpoints are not needed here).

interface LogFile {
  add?: AddAction;
  remove?: RemoveAction;
}

function commits(name: string): { version: number; actions: LogFile[] }[] {
  const dir = path.join(TABLES, name, 'delta', '_delta_log');
  return readdirSync(dir)
    .filter((f) => /^\d{20}\.json$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 20)),
      actions: readFileSync(path.join(dir, f), 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as LogFile),
    }));
}

/** Live adds after replaying every JSON commit, keyed by (path, DV unique id) as the protocol says. */
function liveAdds(name: string): AddAction[] {
  const live = new Map<string, AddAction>();
  const keyOf = (p: string, dv: DeletionVectorDescriptor | undefined) =>
    `${p}\u0000${dv ? dvUniqueId(dv) : ''}`;
  for (const { actions } of commits(name)) {
    for (const a of actions) {
      if (a.remove) live.delete(keyOf(a.remove.path, a.remove.deletionVector));
      if (a.add) live.set(keyOf(a.add.path, a.add.deletionVector), a.add);
    }
  }
  return [...live.values()];
}

function readParquetFile(file: string): Table {
  return tableFromIPC(readParquet(new Uint8Array(readFileSync(file))).intoIPCStream());
}

function caughtAsync(p: Promise<unknown>): Promise<WeirError> {
  return p.then(
    () => {
      throw new Error('expected an error');
    },
    (err: unknown) => {
      if (isWeirError(err)) return err;
      throw err;
    },
  );
}

beforeAll(() => {
  const require = createRequire(import.meta.url);
  initSync({ module: readFileSync(require.resolve('parquet-wasm/esm/parquet_wasm_bg.wasm')) });
});

// ------------------------------------------------------------------------------------------------

describe('dvUniqueId', () => {
  it('is storageType + pathOrInlineDv, plus @offset when there is one', () => {
    expect(
      dvUniqueId({
        storageType: 'u',
        pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^',
        offset: 4,
        sizeInBytes: 40,
        cardinality: 6,
      }),
    ).toBe('uab^-aqEH.-t@S}K{vb[*k^@4');
    expect(
      dvUniqueId({ storageType: 'i', pathOrInlineDv: 'wi5b=0000', sizeInBytes: 4, cardinality: 1 }),
    ).toBe('iwi5b=0000');
    expect(
      dvUniqueId({ storageType: 'u', pathOrInlineDv: 'x', offset: 0, sizeInBytes: 1, cardinality: 1 }),
    ).toBe('ux@0');
  });
});

describe('absoluteDvPath', () => {
  const u = (pathOrInlineDv: string): DeletionVectorDescriptor => ({
    storageType: 'u',
    pathOrInlineDv,
    offset: 1,
    sizeInBytes: 40,
    cardinality: 6,
  });
  const p = (pathOrInlineDv: string): DeletionVectorDescriptor => ({
    storageType: 'p',
    pathOrInlineDv,
    offset: 1,
    sizeInBytes: 40,
    cardinality: 6,
  });

  it('derives <prefix>/deletion_vector_<uuid>.bin for storageType u (PROTOCOL.md example 1)', () => {
    expect(absoluteDvPath(u('ab^-aqEH.-t@S}K{vb[*k^'), '')).toBe(
      'ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
    );
    expect(absoluteDvPath(u('ab^-aqEH.-t@S}K{vb[*k^'), 'warehouse/t1/')).toBe(
      'warehouse/t1/ab/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
    );
    expect(absoluteDvPath(u('vBn[lx{q8@P<9BNH/isA'), '')).toBe(
      'deletion_vector_61d16c75-6994-46b7-a15b-8b538852e50e.bin',
    );
  });

  it('rejects malformed u paths and inline descriptors', () => {
    expect(() => absoluteDvPath(u('short'), '')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_DELETION_VECTOR' }),
    );
    expect(() => absoluteDvPath(u('ab"-aqEH.-t@S}K{vb[*k^'), '')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_DELETION_VECTOR' }),
    );
    expect(() =>
      absoluteDvPath({ storageType: 'i', pathOrInlineDv: '', sizeInBytes: 0, cardinality: 0 }, ''),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => absoluteDvPath(u('../^-aqEH.-t@S}K{vb[*k^'), 't')).toThrow(
      expect.objectContaining({ code: 'CORRUPT_DELETION_VECTOR' }),
    );
  });

  it('turns a p URI under the table root into a key (PROTOCOL.md example 2)', () => {
    const example = p('s3://mytable/deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin');
    expect(absoluteDvPath(example, '', 's3://mytable')).toBe(
      'deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
    );
    expect(absoluteDvPath(example, '', 's3a://mytable/')).toBe(
      'deletion_vector_d2c639aa-8816-431a-aaf6-d3fe2512ff61.bin',
    );
    expect(absoluteDvPath(p('s3://bucket/wh/t%201/dv/x.bin'), 'wh/t 1', 's3://bucket')).toBe(
      'wh/t 1/dv/x.bin',
    );
    expect(absoluteDvPath(p('file:/data/t/deletion_vector_a.bin'), '', 'file:///data/t')).toBe(
      'deletion_vector_a.bin',
    );
    expect(absoluteDvPath(p('file:///data/t/deletion_vector_a.bin'), '', 'file:///data/t')).toBe(
      'deletion_vector_a.bin',
    );
    expect(absoluteDvPath(p('/data/t/deletion_vector_a.bin'), '', 'file:///data/t')).toBe(
      'deletion_vector_a.bin',
    );
  });

  it('refuses p paths outside the table root with UNSUPPORTED_DV_PATH', () => {
    const unsupported = expect.objectContaining({ code: 'UNSUPPORTED_DV_PATH' });
    expect(() => absoluteDvPath(p('s3://other/deletion_vector_a.bin'), '', 's3://mytable')).toThrow(
      unsupported,
    );
    expect(() => absoluteDvPath(p('s3://mytable/t2/x.bin'), 't1', 's3://mytable')).toThrow(unsupported);
    expect(() => absoluteDvPath(p('gs://mytable/x.bin'), '', 's3://mytable')).toThrow(unsupported);
    expect(() => absoluteDvPath(p('s3://mytable/../x.bin'), '', 's3://mytable')).toThrow(unsupported);
    expect(() => absoluteDvPath(p('relative/x.bin'), '', 's3://mytable')).toThrow(unsupported);
    expect(() => absoluteDvPath(p('s3://mytable/x.bin'), '')).toThrow(unsupported); // no store root given
  });
});

describe('loadDeletionVector on reference tables', () => {
  it('krs-table-with-dv-small: the DV deletes rows 0 and 9 of 10, leaving values 1..8', async () => {
    const adds = liveAdds('krs-table-with-dv-small');
    expect(adds).toHaveLength(1);
    const add = adds[0] as AddAction;
    const dv = add.deletionVector as DeletionVectorDescriptor;
    expect(dv).toEqual({
      storageType: 'u',
      pathOrInlineDv: 'vBn[lx{q8@P<9BNH/isA',
      offset: 1,
      sizeInBytes: 36,
      cardinality: 2,
    });
    const store = tableStore('krs-table-with-dv-small');
    const deleted = await loadDeletionVector(store, dv, { tableRoot: '', dataFile: add.path });
    expect(deleted.cardinality).toBe(dv.cardinality);
    expect(Array.from(deleted.toSortedArray())).toEqual([0, 9]);
    // The scan's tableRoot is the table's location URI (store.root); it resolves to the same key.
    const viaUri = await loadDeletionVector(store, dv, { tableRoot: store.root, dataFile: add.path });
    expect(Array.from(viaUri.toSortedArray())).toEqual([0, 9]);

    const data = readParquetFile(
      path.join(TABLES, 'krs-table-with-dv-small', 'delta', decodeURIComponent(add.path)),
    );
    expect(data.numRows).toBe(10);
    const mask = deleted.selectionVector(data.numRows);
    expect([...mask]).toEqual([0, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
    const values = data.getChild('value')?.toArray() as Int32Array;
    expect(Array.from(values).filter((_, i) => mask[i] === 1)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('drs-table_with_deletion_logs: a later DV extends the earlier one', async () => {
    const store = tableStore('drs-table_with_deletion_logs');
    const dvs: { version: number; add: AddAction }[] = [];
    for (const { version, actions } of commits('drs-table_with_deletion_logs')) {
      for (const a of actions) if (a.add?.deletionVector) dvs.push({ version, add: a.add });
    }
    expect(dvs.map((d) => d.version)).toEqual([3, 4]);
    const loaded: DeletedRows[] = [];
    for (const { add } of dvs) {
      const dv = add.deletionVector as DeletionVectorDescriptor;
      const rows = await loadDeletionVector(store, dv, { tableRoot: '', dataFile: add.path });
      expect(rows.cardinality).toBe(dv.cardinality);
      expect(rows.maxRowIndex()).toBeLessThan(JSON.parse(add.stats as string).numRecords);
      loaded.push(rows);
    }
    const [v3, v4] = loaded as [DeletedRows, DeletedRows];
    expect(Array.from(v3.toSortedArray())).toEqual([2]);
    expect(Array.from(v4.toSortedArray())).toEqual([2, 79]);
  });

  it('golden-dv-partitioned-with-checkpoint: live files minus DV rows equal the expected scan', async () => {
    const name = 'golden-dv-partitioned-with-checkpoint';
    const store = tableStore(name);
    const got: string[] = [];
    let withDv = 0;
    for (const add of liveAdds(name)) {
      const data = readParquetFile(path.join(TABLES, name, 'delta', decodeURIComponent(add.path)));
      expect(data.numRows).toBe(JSON.parse(add.stats as string).numRecords);
      let deleted = DeletedRows.EMPTY;
      if (add.deletionVector) {
        withDv++;
        deleted = await loadDeletionVector(store, add.deletionVector, { tableRoot: '', dataFile: add.path });
        expect(deleted.cardinality).toBe(add.deletionVector.cardinality);
      }
      const mask = deleted.selectionVector(data.numRows);
      const col1 = data.getChild('col1')?.toArray() as Int32Array;
      const col2 = data.getChild('col2')?.toArray() as string[];
      for (let i = 0; i < data.numRows; i++) {
        if (mask[i] === 1) got.push(`${add.partitionValues.part}|${col1[i]}|${col2[i]}`);
      }
    }
    expect(withDv).toBeGreaterThan(0);
    const expected: string[] = [];
    const expectedDir = path.join(TABLES, name, 'expected');
    for (const f of readdirSync(expectedDir).filter((f) => f.endsWith('.parquet'))) {
      const t = readParquetFile(path.join(expectedDir, f));
      for (const row of t.toArray()) expected.push(`${row.part}|${row.col1}|${row.col2}`);
    }
    expect(expected).toHaveLength(35);
    expect(got.sort()).toEqual(expected.sort());
  });

  it('every DV file of the golden table has a valid version byte, sizes and checksums', () => {
    const dir = path.join(TABLES, 'golden-dv-partitioned-with-checkpoint', 'delta');
    const files = readdirSync(dir).filter((f) => /^deletion_vector_.*\.bin$/.test(f));
    expect(files).toHaveLength(15);
    for (const f of files) {
      const bytes = new Uint8Array(readFileSync(path.join(dir, f)));
      expect(bytes[0]).toBe(1);
      let p = 1;
      while (p < bytes.length) {
        const size = new DataView(bytes.buffer, bytes.byteOffset).getUint32(p, false);
        const cardinality = decodeDeletionVector(bytes.subarray(p + 4, p + 4 + size)).cardinality;
        const rows = decodeDvFileEntry(bytes.subarray(p), {
          storageType: 'u',
          pathOrInlineDv: f,
          sizeInBytes: size,
          cardinality,
        });
        expect(rows.cardinality).toBeGreaterThan(0);
        p += size + 8;
      }
      expect(p).toBe(bytes.length);
    }
  });
});

describe('loadDeletionVector from files Weir writes', () => {
  const uuid = '0c6cbaaf-5e04-4c9d-8959-1088814f58ef';
  const rowsA = [0, 5, 65536, 2 ** 32 + 1];
  const rowsB = Array.from({ length: 5000 }, (_, i) => i * 3);
  const bitmapA = encodeDeletionVector(rowsA);
  const bitmapB = encodeDeletionVector(rowsB, { runContainers: true });
  const file = encodeDvFile([bitmapA, bitmapB]);
  const key = `t/ab/deletion_vector_${uuid}.bin`;
  const [entryA, entryB] = file.entries as [
    { offset: number; sizeInBytes: number },
    { offset: number; sizeInBytes: number },
  ];
  const descriptor = (
    entry: { offset: number; sizeInBytes: number },
    cardinality: number,
  ): DeletionVectorDescriptor => ({
    storageType: 'u',
    pathOrInlineDv: `ab${z85EncodeUuid(uuid)}`,
    offset: entry.offset,
    sizeInBytes: entry.sizeInBytes,
    cardinality,
  });
  const dvA = descriptor(entryA, rowsA.length);
  const dvB = descriptor(entryB, rowsB.length);
  const opts = { tableRoot: 't', dataFile: 'part-00000.parquet' };

  function storeWith(bytes: Uint8Array): MapStore {
    const store = new MapStore();
    store.objects.set(key, bytes);
    return store;
  }

  it('reads each DV of a multi-DV file by offset', async () => {
    expect(entryA.offset).toBe(1);
    expect(entryB.offset).toBe(1 + bitmapA.length + 8);
    const store = storeWith(file.bytes);
    expect([...(await loadDeletionVector(store, dvA, opts))]).toEqual(rowsA);
    expect([...(await loadDeletionVector(store, dvB, opts))]).toEqual(rowsB);
    expect(store.reads).toBe(2);
    const uri = await loadDeletionVector(storeWith(file.bytes), dvA, {
      ...opts,
      tableRoot: 'memory://dv-test/t',
    });
    expect(uri.cardinality).toBe(rowsA.length);
  });

  it('reads p descriptors under the table root', async () => {
    const p: DeletionVectorDescriptor = {
      ...dvB,
      storageType: 'p',
      pathOrInlineDv: `memory://dv-test/t/ab/deletion_vector_${uuid}.bin`,
    };
    expect((await loadDeletionVector(storeWith(file.bytes), p, opts)).cardinality).toBe(rowsB.length);
    const outside: DeletionVectorDescriptor = {
      ...p,
      pathOrInlineDv: `memory://elsewhere/t/ab/deletion_vector_${uuid}.bin`,
    };
    const err = await caughtAsync(loadDeletionVector(storeWith(file.bytes), outside, opts));
    expect(err.code).toBe('UNSUPPORTED_DV_PATH');
    expect(err.message).toContain('part-00000.parquet');
  });

  async function corruption(bytes: Uint8Array, dv: DeletionVectorDescriptor): Promise<WeirError> {
    const err = await caughtAsync(loadDeletionVector(storeWith(bytes), dv, opts));
    expect(err.code).toBe('CORRUPT_DELETION_VECTOR');
    expect(err.message).toContain('part-00000.parquet');
    expect(err.message).toContain(key);
    expect(err.details).toMatchObject({ dataFile: 'part-00000.parquet', dvPath: key, dvOffset: dv.offset });
    return err;
  }

  it('detects a checksum mismatch', async () => {
    const bad = file.bytes.slice();
    const at = entryB.offset + 4 + 20;
    bad[at] = (bad[at] as number) ^ 0x01;
    expect((await corruption(bad, dvB)).details.reason).toBe('checksum-mismatch');
  });

  it('detects size mismatches: descriptor vs file, wrong offset, truncated file', async () => {
    expect((await corruption(file.bytes, { ...dvA, sizeInBytes: dvA.sizeInBytes + 1 })).details.reason).toBe(
      'size-mismatch',
    );
    expect(
      (await corruption(file.bytes, { ...dvB, offset: (dvB.offset as number) + 2 })).details.reason,
    ).toBe('size-mismatch');
    expect((await corruption(file.bytes.subarray(0, file.bytes.length - 3), dvB)).details.reason).toBe(
      'size-mismatch',
    );
  });

  it('detects a cardinality mismatch', async () => {
    const err = await corruption(file.bytes, { ...dvA, cardinality: 5 });
    expect(err.details.reason).toBe('cardinality-mismatch');
    expect(err.message).toContain('holds 4 rows');
  });

  it('detects a bad format version and a bad magic number', async () => {
    const badVersion = file.bytes.slice();
    badVersion[0] = 2;
    expect((await corruption(badVersion, dvA)).details.reason).toBe('bad-version');
    const badMagic = encodeDvFile([Uint8Array.of(1, 2, 3, 4, ...bitmapA.subarray(4))]);
    expect((await corruption(badMagic.bytes, dvA)).details.reason).toBe('bad-magic');
  });

  it('reports a missing DV file with the data file', async () => {
    const err = await caughtAsync(loadDeletionVector(new MapStore(), dvA, opts));
    expect(err.code).toBe('DELETION_VECTOR_NOT_FOUND');
    expect(err.message).toContain('part-00000.parquet');
    expect(err.details.dvPath).toBe(key);
  });

  it('rejects malformed descriptors', async () => {
    for (const bad of [
      { ...dvA, sizeInBytes: -1 },
      { ...dvA, cardinality: 1.5 },
      { ...dvA, offset: -3 },
    ]) {
      const err = await caughtAsync(loadDeletionVector(storeWith(file.bytes), bad, opts));
      expect(err.code).toBe('CORRUPT_DELETION_VECTOR');
    }
    const unknown = { ...dvA, storageType: 'x' } as unknown as DeletionVectorDescriptor;
    expect((await caughtAsync(loadDeletionVector(storeWith(file.bytes), unknown, opts))).details.reason).toBe(
      'unknown-storage-type',
    );
  });
});

describe('inline deletion vectors', () => {
  const opts = { tableRoot: '', dataFile: 'part-1.parquet' };

  it('decodes the PROTOCOL.md inline example without IO', async () => {
    const dv: DeletionVectorDescriptor = {
      storageType: 'i',
      pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L',
      sizeInBytes: 40,
      cardinality: 6,
    };
    expect([...(await loadDeletionVector(NO_IO_STORE, dv, opts))]).toEqual([3, 4, 7, 11, 18, 29]);
  });

  it('round-trips rows spanning containers and high buckets, with and without run containers', async () => {
    const rows = [
      ...Array.from({ length: 3000 }, (_, i) => i + 60_000), // crosses 65536
      ...Array.from({ length: 70 }, (_, i) => 2 ** 32 + i * 1000), // high bucket 1
      2 ** 40 + 17,
    ];
    for (const runContainers of [false, true]) {
      const dv = inlineDeletionVector(rows, { runContainers });
      expect(dv.storageType).toBe('i');
      expect(dv.offset).toBeUndefined();
      expect(dv.cardinality).toBe(rows.length);
      expect(dv.pathOrInlineDv.length).toBe(Math.ceil(dv.sizeInBytes / 4) * 5);
      const loaded = await loadDeletionVector(NO_IO_STORE, dv, opts);
      expect(Array.from(loaded.toSortedArray())).toEqual(rows);
    }
    expect(inlineDeletionVector(rows, { runContainers: true }).sizeInBytes).toBeLessThan(
      inlineDeletionVector(rows).sizeInBytes,
    );
  });

  it('handles sizes that are not a multiple of 4 (Z85 padding)', async () => {
    const dv = inlineDeletionVector([1, 2, 3]); // 12 + 4 + 8 + 4 + 4 + 6 = 38 bytes
    expect(dv.sizeInBytes % 4).not.toBe(0);
    expect([...(await loadDeletionVector(NO_IO_STORE, dv, opts))]).toEqual([1, 2, 3]);
  });

  it('rejects bad inline data', async () => {
    const dv = inlineDeletionVector([1, 2, 3]);
    const reason = async (d: DeletionVectorDescriptor) => {
      const err = await caughtAsync(loadDeletionVector(NO_IO_STORE, d, opts));
      expect(err.code).toBe('CORRUPT_DELETION_VECTOR');
      expect(err.message).toContain('part-1.parquet');
      return err.details.reason;
    };
    expect(await reason({ ...dv, cardinality: 4 })).toBe('cardinality-mismatch');
    expect(await reason({ ...dv, sizeInBytes: dv.sizeInBytes + 10 })).toBe('size-mismatch');
    expect(await reason({ ...dv, sizeInBytes: dv.sizeInBytes - 8 })).toBe('size-mismatch');
    expect(await reason({ ...dv, pathOrInlineDv: dv.pathOrInlineDv.slice(1) })).toBe('malformed');
    expect(await reason({ ...dv, pathOrInlineDv: `${dv.pathOrInlineDv.slice(0, -5)}"""""` })).toBe(
      'malformed',
    );
    expect(await reason({ ...dv, offset: 1 })).toBe('malformed');
  });

  it('returns the empty set for cardinality 0 without reading', async () => {
    const dv: DeletionVectorDescriptor = {
      storageType: 'u',
      pathOrInlineDv: 'vBn[lx{q8@P<9BNH/isA',
      offset: 1,
      sizeInBytes: 12,
      cardinality: 0,
    };
    expect(await loadDeletionVector(NO_IO_STORE, dv, opts)).toBe(DeletedRows.EMPTY);
  });
});
