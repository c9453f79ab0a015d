import { tableFromArrays, tableToIPC } from 'apache-arrow';
import { describe, expect, it } from 'vitest';
import { openParquetBlob, parquetModule, readParquetTable } from './wasm.js';

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
});
