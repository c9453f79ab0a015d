/**
 * The CPU that parquet-wasm itself needs to compact a table's files, in a fresh process, for the
 * `optimize` bench: the floor under any compaction built on it, whatever runs around the codec.
 * Usage:
 *   codec-floor-child.ts <tableDir> <file> [<file> ...]   (file paths relative to tableDir)
 * Prints one JSON line (see `Floor`).
 *
 * - decode: every file's bytes (read into memory beforehand, untimed) through `pw.readParquet`,
 *   the result freed at once: WebAssembly decoding alone, nothing copied out to JS.
 * - encode: the decoded rows, in parts of about PART_ROWS rows, each built beforehand (untimed)
 *   as 65,536-row batches already inside WebAssembly memory, then timed through
 *   `transformParquetStream` (ZSTD) with each writer configuration of `CONFIGS`; the floor takes
 *   the cheapest configuration, so it is a bound for any choice of encoder settings, not only
 *   Weir's.
 * CPU is this process's (`process.cpuUsage`): the codec runs on this one thread, so the figures
 * are one core's work; nothing else runs in the process while a pass is timed.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { type RecordBatch, Table, tableToIPC } from 'apache-arrow';
// Not exported from the package entry point: the codec steps compaction runs.
import { parquetModule, readParquetTable } from '../../packages/delta/src/parquet/wasm.js';
import { concatBatches } from '../../packages/delta/src/write/arrow-concat.js';
import { encodeSettings } from '../../packages/delta/src/write/parquet-file.js';

const PART_ROWS = 1_000_000;
const BATCH_ROWS = 65_536;

type Pw = ReturnType<typeof parquetModule>;
type Props = ReturnType<InstanceType<Pw['WriterPropertiesBuilder']>['build']>;

/** Writer configurations tried (all ZSTD; row groups of up to 1M rows, as Weir writes). */
const CONFIGS: Record<string, (pw: Pw, plain: string[]) => Props> = {
  // Weir's own settings (parquet-file.ts writerProperties): page statistics, dictionary except
  // for the columns whose values rarely repeat.
  weir: (pw, plain) => {
    let b = base(pw).setDictionaryEnabled(true).setStatisticsEnabled(pw.EnabledStatistics.Page);
    for (const name of plain) b = b.setColumnDictionaryEnabled(name, false);
    return b.build();
  },
  chunkStatistics: (pw, plain) => {
    let b = base(pw).setDictionaryEnabled(true).setStatisticsEnabled(pw.EnabledStatistics.Chunk);
    for (const name of plain) b = b.setColumnDictionaryEnabled(name, false);
    return b.build();
  },
  noStatistics: (pw, plain) => {
    let b = base(pw).setDictionaryEnabled(true).setStatisticsEnabled(pw.EnabledStatistics.None);
    for (const name of plain) b = b.setColumnDictionaryEnabled(name, false);
    return b.build();
  },
  noDictionaryNoStatistics: (pw) =>
    base(pw).setDictionaryEnabled(false).setStatisticsEnabled(pw.EnabledStatistics.None).build(),
};

function base(pw: Pw) {
  return new pw.WriterPropertiesBuilder()
    .setWriterVersion(pw.WriterVersion.V1)
    .setCompression(pw.Compression.ZSTD)
    .setMaxRowGroupSize(1 << 20);
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

export interface Floor {
  files: number;
  rows: number;
  decodeMs: number;
  decodeCpuMs: number;
  /** Per configuration: wall and CPU ms of encoding every part, and the bytes written. */
  encode: Record<string, { ms: number; cpuMs: number; bytes: number }>;
  cheapestEncode: string;
  /** decodeCpuMs + the cheapest configuration's encode CPU. */
  floorCpuMs: number;
}

async function encodePart(pw: Pw, wasmBatches: unknown[], props: Props) {
  let i = 0;
  const input = new ReadableStream({
    pull(controller) {
      if (i >= wasmBatches.length) controller.close();
      else controller.enqueue(wasmBatches[i++]);
    },
  });
  const output = (await pw.transformParquetStream(
    input as ReadableStream,
    props,
  )) as ReadableStream<Uint8Array>;
  const reader = output.getReader();
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return bytes;
    bytes += value.byteLength;
  }
}

const [dir, ...files] = process.argv.slice(2);
if (!dir || files.length === 0) throw new Error('usage: codec-floor-child.ts <tableDir> <file>...');
const pw = parquetModule();
const contents = files.map((f) => readFileSync(path.join(dir, f)));

let started = performance.now();
let cpu = cpuMs();
for (const bytes of contents) pw.readParquet(bytes).free();
const decodeMs = performance.now() - started;
const decodeCpuMs = cpuMs() - cpu;

const encode: Floor['encode'] = {};
for (const name of Object.keys(CONFIGS)) encode[name] = { ms: 0, cpuMs: 0, bytes: 0 };
let rows = 0;
let next = 0;
while (next < contents.length) {
  // One part: decoded to JS (untimed), 65,536-row batches, copied into WebAssembly memory.
  const batches: RecordBatch[] = [];
  let partRows = 0;
  while (next < contents.length && partRows < PART_ROWS) {
    for (const b of readParquetTable(contents[next++]!).batches) {
      batches.push(b);
      partRows += b.numRows;
    }
  }
  rows += partRows;
  const grouped: RecordBatch[] = [];
  for (let i = 0, from = 0, acc = 0; i < batches.length; i++) {
    acc += batches[i]!.numRows;
    if (acc >= BATCH_ROWS || i === batches.length - 1) {
      grouped.push(concatBatches(batches.slice(from, i + 1)));
      from = i + 1;
      acc = 0;
    }
  }
  const plain = encodeSettings(grouped[0]!.schema, grouped).plainColumns;
  for (const [name, config] of Object.entries(CONFIGS)) {
    const tables = grouped.map((b) => pw.Table.fromIPCStream(tableToIPC(new Table([b]), 'stream')));
    const wasmBatches = tables.flatMap((t) => t.recordBatches());
    const props = config(pw, plain);
    started = performance.now();
    cpu = cpuMs();
    const bytes = await encodePart(pw, wasmBatches, props);
    encode[name]!.ms += performance.now() - started;
    encode[name]!.cpuMs += cpuMs() - cpu;
    encode[name]!.bytes += bytes;
    for (const t of tables) t.free();
  }
}
const cheapestEncode = Object.entries(encode).sort((a, b) => a[1].cpuMs - b[1].cpuMs)[0]![0];
const floor: Floor = {
  files: files.length,
  rows,
  decodeMs,
  decodeCpuMs,
  encode,
  cheapestEncode,
  floorCpuMs: decodeCpuMs + encode[cheapestEncode]!.cpuMs,
};
process.stdout.write(`${JSON.stringify(floor)}\n`);
