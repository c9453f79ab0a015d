/**
 * Messages of one fetch -> one Arrow batch in the table's schema, plus the messages refused
 * (with the typed error that refused each). Decoding (json/avro/string/bytes), metadata
 * columns, coercion to the table schema (RecordBatchBuilder) and derived partition columns
 * meet here.
 *
 * JSON values go through the builder's fast path (`tryAppendJson`, straight from the bytes);
 * what it refuses is decoded the slow way (text, JSON.parse, append), which gives the exact
 * row or the typed error.
 *
 * Invariants: every message ends up in exactly one of `batch` (one row) or `rejected`; a
 * refused record leaves no trace in the batch (the builder rolls back); errors that say the
 * decoder itself cannot work (a schema registry that is down: `retryable`) are thrown, not
 * returned as rejections, so good messages are never dead-lettered for an outage.
 */
import { RecordBatchBuilder, type StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { RecordBatch } from 'apache-arrow';
import type { SourceMessage } from '../source/message.js';
import type { AvroDecoder } from './avro.js';
import { type DerivedColumn, fillDerivedColumns } from './derived-columns.js';
import {
  addMetadata,
  type MetadataColumn,
  type NamedMetadataColumn,
  nameMetadataColumns,
} from './metadata-columns.js';
import { checkSize, decodeJson, decodeRaw, messageOrigin, type ValueFormat } from './value-decoder.js';

export interface MessageDecoderOptions {
  table: string;
  format: ValueFormat;
  maxMessageBytes: number;
  metadataColumns: readonly MetadataColumn[];
  metadataPrefix: string;
  derived: readonly DerivedColumn[];
  /** Payload fields that are not table columns: dropped (default) or a dead letter. */
  unknownFields: 'ignore' | 'reject';
  avro?: AvroDecoder;
}

export interface Rejected {
  message: SourceMessage;
  error: WeirError;
}

export interface DecodedBatch {
  batch: RecordBatch | undefined;
  rejected: Rejected[];
}

export class MessageDecoder {
  private readonly builder: RecordBatchBuilder;
  private readonly set: Record<string, unknown> = {};
  private readonly metadata: readonly NamedMetadataColumn[];

  constructor(
    readonly schema: StructType,
    private readonly options: MessageDecoderOptions,
  ) {
    this.metadata = nameMetadataColumns(options.metadataColumns, options.metadataPrefix);
    this.builder = new RecordBatchBuilder(schema, {
      table: options.table,
      ignoreUnknownFields: options.unknownFields === 'ignore',
    });
  }

  /**
   * What is assigned over the decoded JSON object: metadata columns, derived ones (null). One
   * object refilled per message (same keys every time, nothing keeps it): no allocation per
   * message on the fast path.
   */
  private overrides(m: SourceMessage): Record<string, unknown> | undefined {
    const o = this.options;
    if (o.metadataColumns.length === 0 && o.derived.length === 0) return undefined;
    const set = this.set;
    if (this.metadata.length > 0) addMetadata(set, m, this.metadata);
    for (const d of o.derived) set[d.name] = null; // filled from the coerced source below
    return set;
  }

  async decode(messages: readonly SourceMessage[]): Promise<DecodedBatch> {
    const rejected: Rejected[] = [];
    const o = this.options;
    for (const m of messages) {
      try {
        const value = checkSize(m, o.maxMessageBytes);
        const set = this.overrides(m);
        // JSON straight from the value's bytes; the slow path below for what the fast one refuses.
        if (o.format === 'json' && this.builder.tryAppendJson(value, 0, value.length, set)) continue;
        let record: Record<string, unknown>;
        if (o.format === 'json') record = decodeJson(m, value);
        else if (o.format === 'avro') {
          if (!o.avro) throw new WeirError('INVALID_ARGUMENT', 'avro format needs a schema registry');
          record = o.avro.decodeIfReady(m, value) ?? (await o.avro.decode(m, value));
        } else record = decodeRaw(o.format, m, value);
        if (set !== undefined) Object.assign(record, set);
        this.builder.append(record, { source: messageOrigin(m) });
      } catch (err) {
        if (!(err instanceof WeirError) || err.retryable) {
          this.builder.flush(); // nothing of this call survives an outage
          throw err;
        }
        rejected.push({ message: m, error: err });
      }
    }
    if (this.builder.numRows === 0) return { batch: undefined, rejected };
    return { batch: fillDerivedColumns(this.builder.flush(), o.derived), rejected };
  }
}
