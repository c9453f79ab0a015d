/**
 * One data file encoded on several encode workers at once: its rows are cut into parts of one
 * row group each (`partRows`), every part is its own encode session (the pool puts a new session
 * on its least busy worker), and the parts' row groups are stitched, byte for byte, into one file
 * (parquet/stitch.ts). With a single worker a file is one session, as before: a file's encoding
 * then runs on one core however many the pool has, which made a write of prepared Arrow batches
 * wait on one encoder while the other core sat idle.
 *
 * Invariants:
 * - Parts split at exactly `partRows` rows (the writer's row-group size), so the stitched file
 *   has the row groups one session would have written; its bytes are those of the one-session
 *   file (same writer properties, same batches per row group).
 * - `output()` yields the file's bytes in order: the first part's as its encoder finishes them
 *   when there is only one, else the stitched head, each part's data region as that part
 *   completes, then the page indexes and footer. Parts are checked against the first one
 *   (`stitchRefusal`); a refusal or a broken part is PARQUET_WRITE_FAILED naming the file.
 * - `abort()` (or an output stopped early) aborts every part still open.
 */
import { WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import { type ParquetFooter, ParquetStitcher, parseParquetFooter, stitchRefusal } from '../parquet/stitch.js';
import { type EncodePool, type EncodeSession, encodeFailed } from './encode-pool.js';
import type { EncodeSettings, ParquetFileContext } from './parquet-file.js';

interface Part {
  session: EncodeSession;
  bytes: Promise<Uint8Array>;
}

export class PartedEncoding {
  private readonly done: Part[] = [];
  private currentRows = 0;
  private closed = false;

  private constructor(
    private readonly pool: EncodePool,
    private readonly context: ParquetFileContext,
    private readonly settings: EncodeSettings,
    private readonly partRows: number,
    private current: EncodeSession,
  ) {}

  /**
   * Opens a file's first part; undefined when the pool has no worker to run it. Parts are cut
   * only when the pool has more than one worker (one worker would encode them one after another
   * anyway, and stitching would only add work).
   */
  static async open(
    pool: EncodePool,
    context: ParquetFileContext,
    settings: EncodeSettings,
  ): Promise<PartedEncoding | undefined> {
    const first = await pool.open(context, settings);
    if (!first) return undefined;
    const partRows = pool.size > 1 ? settings.maxRowGroupRows : Number.POSITIVE_INFINITY;
    return new PartedEncoding(pool, context, settings, partRows, first);
  }

  /** Hands rows (under the data file's schema) to the encoders, cutting a part at each boundary. */
  async send(batch: RecordBatch): Promise<void> {
    let rest = batch;
    while (rest.numRows > 0) {
      const room = this.partRows - this.currentRows;
      if (room <= 0) {
        await this.nextPart();
        continue;
      }
      const whole = rest.numRows <= room;
      const part = whole ? rest : rest.slice(0, room);
      rest = whole ? rest.slice(0, 0) : rest.slice(room);
      await this.current.send(part);
      this.currentRows += part.numRows;
    }
  }

  private async nextPart(): Promise<void> {
    const finished = this.current;
    const bytes = finished.finish();
    // Awaited in output(); until then a failure must not count as unhandled.
    bytes.catch(() => {});
    this.done.push({ session: finished, bytes });
    const next = await this.pool.open(this.context, this.settings);
    if (!next) throw encodeFailed(this.context, 'no encode worker is left for the next part');
    this.current = next;
    this.currentRows = 0;
  }

  /** Ends the input. */
  close(): void {
    this.closed = true;
    this.current.close();
  }

  /** The file's bytes in order (see the module header); read once, after `close`. */
  output(): AsyncIterable<Uint8Array> {
    if (!this.closed) throw new Error('PartedEncoding.output: close the input first');
    if (this.done.length === 0) return this.current.output();
    const last = this.current.finish();
    last.catch(() => {});
    return this.stitched([...this.done, { session: this.current, bytes: last }]);
  }

  private async *stitched(parts: readonly Part[]): AsyncGenerator<Uint8Array> {
    let complete = false;
    try {
      const stitcher = new ParquetStitcher();
      let first: ParquetFooter | undefined;
      yield stitcher.head();
      for (const part of parts) {
        const bytes = await part.bytes;
        const footer = this.footerOf(bytes);
        first ??= footer;
        const refusal = stitchRefusal([first, footer], { minRowGroupBytes: 0 });
        if (refusal !== undefined) throw encodeFailed(this.context, `its parts do not stitch: ${refusal}`);
        yield stitcher.append(footer, bytes.subarray(4, footer.metaStart));
      }
      yield stitcher.tail();
      complete = true;
    } catch (err) {
      if (err instanceof WeirError && err.code === 'PARQUET_WRITE_FAILED') throw err;
      throw encodeFailed(this.context, err instanceof Error ? err.message : String(err), err);
    } finally {
      if (!complete) for (const p of parts) p.session.abort();
    }
  }

  private footerOf(bytes: Uint8Array): ParquetFooter {
    const footer = parseParquetFooter(bytes, bytes.byteLength, this.context.file);
    if ('needBytes' in footer) throw encodeFailed(this.context, 'a part has no complete footer');
    return footer;
  }

  /** Drops the file: every part still encoding stops. */
  abort(): void {
    for (const p of this.done) p.session.abort();
    this.current.abort();
  }
}
