/**
 * Schema inference for a table that does not exist yet: the first messages of the stream are
 * held (not written) until enough of them arrive — or a short wait passes — and the payload
 * schema is inferred from the ones that decode. The ingest then creates the table and writes
 * the held batches through the normal path, so they are decoded, dead-lettered and positioned
 * exactly like every later batch.
 *
 * Invariants: held batches are never dropped or reordered; a message that fails to decode only
 * leaves the sample (it is dead-lettered later like any other); an outage of the decoder itself
 * (a retryable error, e.g. the schema registry) is thrown, never taken as "no sample"; the
 * inference gives up with SCHEMA_INFERENCE_FAILED only once INFER_MAX_HELD messages are held and
 * none decodes.
 */
import type { StructType } from '@weir/delta';
import { WeirError } from '@weir/storage';
import type { AvroDecoder } from '../decode/avro.js';
import { checkSize, decodeJson, decodeRaw, type ValueFormat } from '../decode/value-decoder.js';
import type { SourceBatch } from '../source/consumer.js';
import { inferPayloadSchema } from './tables.js';

/** Messages sampled before a schema is inferred (or fewer, after INFER_WAIT_MS). */
export const INFER_SAMPLE = 1000;
export const INFER_WAIT_MS = 3000;
export const INFER_MAX_HELD = 100_000;

export interface InferenceOptions {
  table: string;
  format: ValueFormat;
  maxMessageBytes: number;
  avro?: AvroDecoder | undefined;
}

export type InferenceOutcome =
  | { kind: 'schema'; schema: StructType; batches: readonly SourceBatch[] }
  | { kind: 'wait' }
  | { kind: 'failed'; error: WeirError };

export class SchemaInference {
  private readonly batches: SourceBatch[] = [];
  private messages = 0;
  private timer: NodeJS.Timeout | undefined;

  /** `onWaited` runs INFER_WAIT_MS after the first batch is held, and after every 'wait'. */
  constructor(
    private readonly options: InferenceOptions,
    private readonly onWaited: () => void,
  ) {}

  /** Holds a batch. Returns true when enough messages are held to infer now. */
  hold(batch: SourceBatch): boolean {
    this.batches.push(batch);
    this.messages += batch.messages.length;
    this.timer ??= setTimeout(this.onWaited, INFER_WAIT_MS);
    return this.messages >= INFER_SAMPLE;
  }

  /** Tries to infer from what is held; on 'wait', `onWaited` runs again later. */
  async infer(): Promise<InferenceOutcome> {
    this.cancel();
    const samples = await this.samples();
    if (samples.length === 0) {
      if (this.messages > INFER_MAX_HELD) {
        return {
          kind: 'failed',
          error: new WeirError(
            'SCHEMA_INFERENCE_FAILED',
            `${this.options.table}: none of the first ${this.messages} messages could be decoded to infer a schema`,
            { details: { table: this.options.table, messages: this.messages } },
          ),
        };
      }
      this.timer = setTimeout(this.onWaited, INFER_WAIT_MS);
      return { kind: 'wait' };
    }
    return { kind: 'schema', schema: this.payloadSchema(samples), batches: this.batches };
  }

  /** Stops waiting (the ingest stops or fails). */
  cancel(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private async samples(): Promise<Record<string, unknown>[]> {
    const { format, maxMessageBytes, avro } = this.options;
    const samples: Record<string, unknown>[] = [];
    for (const b of this.batches) {
      for (const m of b.messages) {
        if (samples.length >= INFER_SAMPLE) return samples;
        try {
          const value = checkSize(m, maxMessageBytes);
          if (format === 'json') samples.push(decodeJson(m, value));
          // The ingest refuses the avro format without a registry, so `avro` is there.
          else if (format === 'avro') samples.push(await avro!.decode(m, value));
          else samples.push(decodeRaw(format, m, value));
        } catch (err) {
          if (err instanceof WeirError && err.retryable) throw err;
        }
      }
    }
    return samples;
  }

  private payloadSchema(samples: readonly Record<string, unknown>[]): StructType {
    const { format, table } = this.options;
    if (format === 'string' || format === 'bytes') {
      return {
        type: 'struct',
        fields: [
          {
            name: 'value',
            type: { type: format === 'string' ? 'string' : 'binary' },
            nullable: true,
            metadata: {},
          },
        ],
      };
    }
    return inferPayloadSchema(samples, table);
  }
}
