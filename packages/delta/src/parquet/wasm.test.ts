import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { type BlobSource, bytesSource, openParquetBlob, parquetModule, readParquetTable } from './wasm.js';

/** A Blob that counts the bytes parquet-wasm slices out of it. */
class CountingBlob extends Blob {
  sliced = 0;
  override slice(start?: number, end?: number, contentType?: string): Blob {
    const s = start ?? 0;
    const e = end ?? this.size;
    this.sliced += Math.max(0, Math.min(e, this.size) - s);
    return super.slice(start, end, contentType);
  }
}

function parquetOf(rows: number, rowGroupRows: number): Uint8Array {
  const pw = parquetModule();
  const id = Float64Array.from({ length: rows }, (_, i) => Math.sin(i) * 1e6);
  const name = Array.from({ length: rows }, (_, i) => `row-${i}-${Math.cos(i)}`);
  const table = pw.Table.fromIPCStream(tableToIPC(tableFromArrays({ id, name }), 'stream'));
  const props = new pw.WriterPropertiesBuilder().setMaxRowGroupSize(rowGroupRows).build();
  return pw.writeParquet(table, props);
}

describe('openParquetBlob', () => {
  it('reads the footer and one row group, not the whole file', async () => {
    const bytes = parquetOf(40_000, 5_000);
    const blob = new CountingBlob([bytes]);
    const reader = await openParquetBlob(blob);
    try {
      expect(reader.rowGroups).toHaveLength(8);
      const footerOnly = blob.sliced;
      expect(footerOnly).toBeGreaterThan(0);
      expect(footerOnly).toBeLessThan(bytes.byteLength / 4);
      const third = await reader.read(2);
      expect(third.numRows).toBe(5_000);
      expect(blob.sliced - footerOnly).toBeGreaterThan(0);
      expect(blob.sliced - footerOnly).toBeLessThan(bytes.byteLength / 4);
      // The same rows as decoding the whole file and taking that row group.
      const whole = readParquetTable(bytes, { rowGroups: [2] });
      expect(third.getChild('name')!.toArray()).toEqual(whole.getChild('name')!.toArray());
      expect((await reader.read()).numRows).toBe(40_000);
    } finally {
      reader.free();
    }
  });

  it('rejects bytes that are not Parquet', async () => {
    await expect(
      openParquetBlob(new Blob([new TextEncoder().encode('not parquet at all')])),
    ).rejects.toBeDefined();
  });

  it('reads bytes in memory through bytesSource, copying only the slices it asks for', async () => {
    const bytes = parquetOf(40_000, 5_000);
    let copied = 0;
    const counting = (inner: BlobSource): BlobSource => ({
      size: inner.size,
      slice: (a, b) => {
        const part = inner.slice(a, b);
        return {
          arrayBuffer: async () => {
            const buf = await part.arrayBuffer();
            copied += buf.byteLength;
            return buf;
          },
        };
      },
    });
    const reader = await openParquetBlob(counting(bytesSource(bytes)));
    try {
      const afterFooter = copied;
      expect(afterFooter).toBeLessThan(bytes.byteLength / 4);
      const fifth = await reader.read(4);
      expect(copied - afterFooter).toBeLessThan(bytes.byteLength / 4);
      const whole = readParquetTable(bytes, { rowGroups: [4] });
      expect(fifth.getChild('id')!.toArray()).toEqual(whole.getChild('id')!.toArray());
      expect(fifth.getChild('name')!.toArray()).toEqual(whole.getChild('name')!.toArray());
    } finally {
      reader.free();
    }
    // Slices of slices stay inside their parent and the file.
    const src = bytesSource(Uint8Array.from([1, 2, 3, 4, 5, 6]));
    const inner = (src.slice(1, 5) as unknown as BlobSource).slice(1, 10);
    expect([...new Uint8Array(await inner.arrayBuffer())]).toEqual([3, 4, 5]);
  });
});
