/**
 * Compacts one bin by stitching (parquet/stitch.ts): the inputs' row groups are copied into one
 * output file byte for byte, and its stats are merged from the inputs' (stats-merge.ts). It
 * costs a read and a write of the bytes, where a rewrite decodes and re-encodes every row: what
 * a streaming sink's auto-compaction can afford at 100K rows/s on a small machine.
 *
 * Invariants:
 * - Nothing is written unless every input passes `stitchRefusal`; a refusal (other schemas, row
 *   groups too small, deletion vectors, another codec than asked for...) is an answer, and the
 *   caller rewrites the bin instead.
 * - The output holds exactly the inputs' rows: the footers' row counts must match the inputs'
 *   numRecords (when the log has them), else it is an error and nothing is committed.
 * - Memory holds the footers plus one input at a time; the upload streams.
 * - A failure or an abort mid-upload leaves no object (a streamed put is atomic) or, at worst, an
 *   unreferenced one.
 */
import { type ObjectStore, WeirError } from '@weir/storage';
import PQueue from 'p-queue';
import { parseStats, serializeStats } from '../actions/codec.js';
import type { AddAction } from '../actions/types.js';
import { statsColumns } from '../log/checkpoint-schema.js';
import {
  footerCodec,
  footerRows,
  PARQUET_CODECS,
  type ParquetFooter,
  ParquetStitcher,
  parseParquetFooter,
  stitchRefusal,
} from '../parquet/stitch.js';
import type { ScanFile } from '../scan/scan-plan.js';
import { physicalSchema } from '../schema/column-mapping.js';
import { dataFileName, encodeAddPath } from '../write/data-file-path.js';
import type { ParquetCompression } from '../write/parquet-file.js';
import type { FileLayout } from './compaction-writer.js';
import { mergeFileStats } from './stats-merge.js';

/** Last bytes fetched first: a small file's footer and page indexes fit in one read. */
const TAIL_BYTES = 64 * 1024;
const FOOTER_READS = 8;

export interface StitchBinOptions {
  /** Mean compressed bytes per input row group below which the bin is rewritten instead. */
  minRowGroupBytes: number;
  /** The codec the output must use; inputs with another one are rewritten. */
  compression?: ParquetCompression;
  signal?: AbortSignal;
  now: () => number;
}

export type StitchOutcome = { add: AddAction; rows: number } | { refused: string };

async function readFooter(store: ObjectStore, file: ScanFile, signal?: AbortSignal): Promise<ParquetFooter> {
  const size = file.add.size;
  const first = Math.min(size, TAIL_BYTES);
  const tail = await store.getRange(file.key, size - first, first);
  signal?.throwIfAborted();
  const footer = parseParquetFooter(tail, size, file.key);
  if (!('needBytes' in footer)) return footer;
  const whole = await store.getRange(file.key, size - footer.needBytes, footer.needBytes);
  const again = parseParquetFooter(whole, size, file.key);
  if ('needBytes' in again) {
    throw new WeirError('CORRUPT_DATA_FILE', `${file.key}: the footer could not be read whole`, {
      details: { file: file.key },
    });
  }
  return again;
}

/** Codec names by Parquet codec id: the codecs Weir writes. */
const CODEC_NAMES = new Map<number, ParquetCompression>(
  Object.entries(PARQUET_CODECS).map(([name, id]) => [id, name as ParquetCompression]),
);

/**
 * Stitches `files` (one bin, one partition) into one file under `directory`; the add to commit,
 * or why the bin must be rewritten instead.
 */
export async function stitchBin(
  store: ObjectStore,
  files: readonly ScanFile[],
  layout: FileLayout,
  directory: string,
  partitionValues: Readonly<Record<string, string | null>>,
  options: StitchBinOptions,
): Promise<StitchOutcome> {
  if (files.length < 2) return { refused: 'fewer than two inputs' };
  if (files.some((f) => f.add.deletionVector)) return { refused: 'an input has a deletion vector' };
  const signal = options.signal;
  const queue = new PQueue({ concurrency: FOOTER_READS });
  const codec = options.compression === undefined ? undefined : PARQUET_CODECS[options.compression];
  let footers: ParquetFooter[];
  let refusal: string | undefined;
  try {
    footers = await Promise.all(
      files.map((f) => queue.add(() => readFooter(store, f, signal), { throwOnTimeout: true })),
    );
    refusal = stitchRefusal(footers, {
      minRowGroupBytes: options.minRowGroupBytes,
      ...(codec !== undefined ? { codec } : {}),
    });
  } catch (err) {
    // A footer not where the log's size says, or chunks outside the file: the rewrite reads
    // whole files, and reports a file that is really broken with its own error.
    if (err instanceof WeirError && err.code === 'CORRUPT_DATA_FILE') return { refused: err.message };
    throw err;
  }
  if (refusal) return { refused: refusal };

  const rowsPerFile = footers.map(footerRows);
  files.forEach((f, i) => {
    if (f.numRecords !== undefined && f.numRecords !== rowsPerFile[i]) {
      throw new WeirError(
        'CORRUPT_DATA_FILE',
        `${layout.table}: ${f.key} holds ${rowsPerFile[i]} rows, its add says ${f.numRecords}`,
        { details: { table: layout.table, file: f.key, rows: rowsPerFile[i], numRecords: f.numRecords } },
      );
    }
  });

  const codecName = CODEC_NAMES.get(footerCodec(footers[0]!) ?? -1);
  if (!options.compression && !codecName) return { refused: 'the inputs use a codec Weir does not write' };
  const key = directory + dataFileName((options.compression ?? codecName)!);
  const stitcher = new ParquetStitcher();
  async function* chunks(): AsyncGenerator<Uint8Array> {
    yield stitcher.head();
    for (let i = 0; i < files.length; i++) {
      signal?.throwIfAborted();
      const f = footers[i]!;
      const body = await store.getRange(files[i]!.key, 4, f.metaStart - 4);
      yield stitcher.append(f, body);
    }
    yield stitcher.tail();
  }
  await store.put(key, chunks(), { chunksOwned: true });
  const rows = stitcher.rows;
  // Keyed like the stats a rewrite would collect: the table's stats columns, physical names.
  const columns = physicalSchema(
    statsColumns(layout.schema, layout.partitionColumns, layout.configuration),
    layout.columnMapping,
  );
  const stats = mergeFileStats(
    files.map((f) => parseStats(f.add.stats)),
    columns,
    rows,
  );
  return {
    rows,
    add: {
      path: encodeAddPath(key),
      partitionValues: { ...partitionValues },
      size: stitcher.size,
      modificationTime: options.now(),
      dataChange: false,
      stats: serializeStats(stats),
    },
  };
}
