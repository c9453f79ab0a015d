import { batchToJsonRows, parseSchema } from '@weir/delta';
import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import type { SourceMessage } from '../source/message.js';
import { parsePartitionSpec } from './derived-columns.js';
import { MessageDecoder, type MessageDecoderOptions } from './message-decoder.js';
import { metadataFields, parseMetadataColumns } from './metadata-columns.js';
import { decodeJson, decodeRaw } from './value-decoder.js';

const m = (
  offset: number,
  value: Buffer | string | null,
  extra: Partial<SourceMessage> = {},
): SourceMessage => ({
  topic: 'orders',
  partition: 2,
  offset,
  key: Buffer.from('key'),
  value: typeof value === 'string' ? Buffer.from(value) : value,
  timestamp: 1_700_000_000_123,
  headers: { trace: 'abc' },
  ...extra,
});

const payload = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      { name: 'id', type: 'long', nullable: false, metadata: {} },
      { name: 'amount', type: 'decimal(10,2)', nullable: true, metadata: {} },
      { name: 'at', type: 'timestamp', nullable: true, metadata: {} },
    ],
  }),
);

function decoder(extra: Partial<MessageDecoderOptions> = {}, extraFields = metadataFields([], 'kafka_')) {
  const schema = { type: 'struct' as const, fields: [...payload.fields, ...extraFields] };
  return new MessageDecoder(schema, {
    table: 't',
    format: 'json',
    maxMessageBytes: 200,
    metadataColumns: [],
    metadataPrefix: 'kafka_',
    derived: [],
    unknownFields: 'ignore',
    ...extra,
  });
}

describe('value decoding', () => {
  it('JSON objects only, strict UTF-8, typed errors naming the message', () => {
    expect(decodeJson(m(1, '{"a":1}'), Buffer.from('{"a":1}'))).toEqual({ a: 1 });
    const cases: [Buffer, string][] = [
      [Buffer.from('{"a":'), 'INVALID_JSON'],
      [Buffer.from('[1]'), 'NOT_AN_OBJECT'],
      [Buffer.from('null'), 'NOT_AN_OBJECT'],
      [Buffer.from([0x7b, 0xff, 0x7d]), 'INVALID_UTF8'],
    ];
    for (const [value, code] of cases) {
      try {
        decodeJson(m(7, value), value);
        expect.fail(`expected ${code}`);
      } catch (err) {
        expect(err).toBeInstanceOf(WeirError);
        expect((err as WeirError).code).toBe(code);
        expect((err as WeirError).message).toContain('orders/2@7');
      }
    }
    expect(decodeRaw('string', m(1, 'hé'), Buffer.from('hé'))).toEqual({ value: 'hé' });
    expect(decodeRaw('bytes', m(1, 'x'), Buffer.from([1, 2]))).toEqual({ value: Buffer.from([1, 2]) });
  });
});

describe('MessageDecoder', () => {
  it('puts each message in the batch or in the rejected list, never both', async () => {
    const d = decoder();
    const out = await d.decode([
      m(0, '{"id": 1, "amount": "1.50", "at": "2024-01-02T03:04:05Z", "extra": true}'),
      m(1, '{"id": "x"}'),
      m(2, null),
      m(3, `{"id": 3, "pad": "${'x'.repeat(300)}"}`),
      m(4, '{"amount": 2}'),
      m(5, '{"id": 5}'),
    ]);
    expect(batchToJsonRows(out.batch!)).toEqual([
      { id: 1, amount: '1.50', at: '2024-01-02T03:04:05.000000Z' },
      { id: 5, amount: null, at: null },
    ]);
    expect(out.rejected.map((r) => [r.message.offset, r.error.code])).toEqual([
      [1, 'INVALID_RECORD'],
      [2, 'MESSAGE_NULL_VALUE'],
      [3, 'MESSAGE_TOO_LARGE'],
      [4, 'INVALID_RECORD'],
    ]);
    expect(out.rejected[0]!.error.message).toContain('orders/2@1');
  });

  it('rejects unknown fields when asked to', async () => {
    const out = await decoder({ unknownFields: 'reject' }).decode([m(0, '{"id": 1, "extra": true}')]);
    expect(out.batch).toBeUndefined();
    expect(out.rejected[0]!.error.code).toBe('INVALID_RECORD');
  });

  it('fills metadata columns and derived date/hour partitions', async () => {
    const meta = parseMetadataColumns(['topic', 'partition', 'offset', 'key', 'timestamp', 'headers']);
    const spec = parsePartitionSpec(['date(at)', 'hour(at) as h']);
    const d = decoder({ metadataColumns: meta, derived: spec.derived }, [
      ...metadataFields(meta, 'kafka_'),
      { name: 'at_date', type: { type: 'date' }, nullable: true, metadata: {} },
      { name: 'h', type: { type: 'string' }, nullable: true, metadata: {} },
    ]);
    const out = await d.decode([
      m(9, '{"id": 1, "at": "2024-03-10T23:59:59.999Z"}'),
      m(10, '{"id": 2, "at": null}'),
      m(11, '{"id": 3, "at": "1969-12-31T23:30:00Z"}'),
    ]);
    const rows = batchToJsonRows(out.batch!);
    expect(rows[0]).toMatchObject({
      kafka_topic: 'orders',
      kafka_partition: 2,
      kafka_offset: 9,
      kafka_key: Buffer.from('key').toString('base64'),
      kafka_timestamp: '2023-11-14T22:13:20.123000Z',
      kafka_headers: [{ key: 'trace', value: Buffer.from('abc').toString('base64') }],
      at_date: '2024-03-10',
      h: '2024-03-10-23',
    });
    expect(rows[1]).toMatchObject({ at_date: null, h: null });
    expect(rows[2]).toMatchObject({ at_date: '1969-12-31', h: '1969-12-31-23' });
  });

  it('gives each kind of bad JSON value its own code, and metadata wins over a payload field of its name', async () => {
    const meta = parseMetadataColumns(['offset']);
    const d = decoder({ metadataColumns: meta }, metadataFields(meta, 'kafka_'));
    const out = await d.decode([
      m(0, '{"id": 1, "kafka_offset": 999}'),
      m(1, '{"id": 2,'),
      m(
        2,
        Buffer.from([
          0x7b, 0x22, 0x69, 0x64, 0x22, 0x3a, 0x31, 0x2c, 0x22, 0x78, 0x22, 0x3a, 0x22, 0xc3, 0x22, 0x7d,
        ]),
      ),
      m(3, '[{"id": 3}]'),
      m(4, '\ufeff{"id": 4}'),
      m(5, '{"id": 5, "id": 6}'),
      m(6, '{"id": 7, "amount": 1.234}'),
    ]);
    expect(batchToJsonRows(out.batch!)).toEqual([
      { id: 1, amount: null, at: null, kafka_offset: 0 },
      { id: 4, amount: null, at: null, kafka_offset: 4 },
      { id: 6, amount: null, at: null, kafka_offset: 5 },
    ]);
    expect(out.rejected.map((r) => [r.message.offset, r.error.code])).toEqual([
      [1, 'INVALID_JSON'],
      [2, 'INVALID_UTF8'],
      [3, 'NOT_AN_OBJECT'],
      [6, 'INVALID_RECORD'],
    ]);
  });

  it('parses partition specs and refuses malformed ones', () => {
    expect(parsePartitionSpec(['country', ' date(ts) ', 'HOUR(ts) AS hr'])).toEqual({
      columns: ['country', 'ts_date', 'hr'],
      derived: [
        { kind: 'date', source: 'ts', name: 'ts_date' },
        { kind: 'hour', source: 'ts', name: 'hr' },
      ],
    });
    expect(() => parsePartitionSpec(['month(ts)'])).toThrow(/not a column name, date\(col\) or hour\(col\)/);
    expect(() => parseMetadataColumns(['offset', 'size'])).toThrow(/unknown metadata column 'size'/);
  });
});
