/**
 * Avro values in the Confluent wire format (magic byte 0, a 4-byte big-endian schema id, then
 * the Avro binary body), with writer schemas fetched from a Confluent-compatible schema registry
 * (`GET /schemas/ids/{id}`) and decoded by avsc.
 *
 * Invariants: one registry request per schema id for the life of the decoder (concurrent
 * requests for the same id share it); a registry that cannot be reached is a retryable error
 * (the ingest stops rather than dead-lettering good messages), an unknown id or a body that
 * does not match its schema is a non-retryable per-message error (dead letter). Values come out
 * JSON-ish for the RecordBatchBuilder: longs as numbers (bigints beyond 2^53), bytes as Buffers,
 * timestamp-millis/micros and date logical types as their numbers.
 */
import { WeirError } from '@weir/storage';
import avro from 'avsc';
import type { SourceMessage } from '../source/message.js';
import { decodeError } from './value-decoder.js';

export interface SchemaRegistryOptions {
  url: string;
  username?: string;
  password?: string;
  /** Per-request timeout (default 10 s). */
  timeoutMs?: number;
}

const LONG_AS_BIGINT_WHEN_UNSAFE = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => {
    const n = buf.readBigInt64LE();
    return n >= BigInt(Number.MIN_SAFE_INTEGER) && n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
  },
  toBuffer: (n: number | bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(BigInt(n));
    return buf;
  },
  fromJSON: (v: unknown) => (typeof v === 'bigint' ? v : Number(v)),
  toJSON: (n: number | bigint) => (typeof n === 'bigint' ? n.toString() : n),
  isValid: (n: unknown) => typeof n === 'number' || typeof n === 'bigint',
  compare: (a: number | bigint, b: number | bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

export class AvroDecoder {
  private readonly types = new Map<number, Promise<avro.Type>>();
  private readonly ready = new Map<number, avro.Type>();

  constructor(private readonly registry: SchemaRegistryOptions) {}

  /** The decoded record, after fetching the writer schema if this id is new. */
  async decode(message: SourceMessage, value: Buffer): Promise<Record<string, unknown>> {
    const id = this.schemaId(message, value);
    const type = this.ready.get(id) ?? (await this.typeFor(id, message));
    return this.decodeWith(type, message, value);
  }

  /** Decodes without waiting when the schema is already known; undefined when it is not. */
  decodeIfReady(message: SourceMessage, value: Buffer): Record<string, unknown> | undefined {
    const type = this.ready.get(this.schemaId(message, value));
    return type ? this.decodeWith(type, message, value) : undefined;
  }

  private schemaId(message: SourceMessage, value: Buffer): number {
    if (value.length < 5 || value[0] !== 0) {
      throw decodeError(
        'INVALID_AVRO',
        message,
        'the value is not in the Confluent Avro wire format (magic byte 0 + 4-byte schema id)',
      );
    }
    return value.readUInt32BE(1);
  }

  private decodeWith(type: avro.Type, message: SourceMessage, value: Buffer): Record<string, unknown> {
    let decoded: unknown;
    try {
      const { value: v, offset } = type.decode(value, 5);
      if (offset !== value.length)
        throw new Error(offset < 0 ? 'truncated body' : 'trailing bytes after the record');
      decoded = v;
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      throw decodeError('INVALID_AVRO', message, `the Avro body does not match its schema (${reason})`, {
        cause: err,
      });
    }
    if (decoded === null || typeof decoded !== 'object') {
      throw decodeError('NOT_AN_OBJECT', message, 'the Avro value is not a record');
    }
    return { ...(decoded as Record<string, unknown>) };
  }

  private typeFor(id: number, message: SourceMessage): Promise<avro.Type> {
    let pending = this.types.get(id);
    if (!pending) {
      pending = this.fetchType(id, message);
      this.types.set(id, pending);
      pending.then(
        (t) => this.ready.set(id, t),
        () => this.types.delete(id), // a failed fetch is retried by the next message
      );
    }
    return pending;
  }

  private async fetchType(id: number, message: SourceMessage): Promise<avro.Type> {
    const url = `${this.registry.url.replace(/\/+$/, '')}/schemas/ids/${id}`;
    const headers: Record<string, string> = {
      Accept: 'application/vnd.schemaregistry.v1+json, application/json',
    };
    if (this.registry.username !== undefined) {
      const token = Buffer.from(`${this.registry.username}:${this.registry.password ?? ''}`).toString(
        'base64',
      );
      headers.Authorization = `Basic ${token}`;
    }
    let response: Response;
    try {
      response = await fetch(url, {
        headers,
        signal: AbortSignal.timeout(this.registry.timeoutMs ?? 10_000),
      });
    } catch (err) {
      throw new WeirError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `schema registry ${this.registry.url}: cannot fetch schema id ${id} (${err instanceof Error ? err.message : String(err)})`,
        { retryable: true, cause: err, details: { url: this.registry.url, schemaId: id } },
      );
    }
    if (response.status === 404) {
      throw decodeError('SCHEMA_REGISTRY_ERROR', message, `schema id ${id} is not in the schema registry`);
    }
    if (!response.ok) {
      throw new WeirError(
        'SCHEMA_REGISTRY_UNAVAILABLE',
        `schema registry ${this.registry.url}: HTTP ${response.status} for schema id ${id}`,
        {
          retryable: response.status >= 500 || response.status === 429,
          details: { url: this.registry.url, schemaId: id },
        },
      );
    }
    const body = (await response.json()) as { schema?: string; schemaType?: string };
    if ((body.schemaType ?? 'AVRO') !== 'AVRO' || typeof body.schema !== 'string') {
      throw decodeError('SCHEMA_REGISTRY_ERROR', message, `schema id ${id} is not an Avro schema`);
    }
    try {
      return avro.Type.forSchema(JSON.parse(body.schema), {
        registry: { long: LONG_AS_BIGINT_WHEN_UNSAFE },
        wrapUnions: false,
      });
    } catch (err) {
      throw decodeError('SCHEMA_REGISTRY_ERROR', message, `schema id ${id} is not a valid Avro schema`, {
        cause: err,
      });
    }
  }
}
