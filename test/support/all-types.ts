/**
 * A schema with every Delta type (nested, decimal, timestamp_ntz, binary) and a record generator
 * that puts nulls at every level, for write -> read round trips on any store. The same shape as
 * test/write/round-trip.test.ts's local cases.
 */
import { parseSchema, type StructType } from '@weir/delta';

/** A field in the Delta schema JSON shape. */
export const field = (name: string, type: unknown, nullable = true) => ({
  name,
  type,
  nullable,
  metadata: {},
});

export const ALL_TYPES: StructType = parseSchema(
  JSON.stringify({
    type: 'struct',
    fields: [
      field('l', 'long'),
      field('i', 'integer'),
      field('s', 'short'),
      field('b', 'byte'),
      field('fl', 'float'),
      field('d', 'double'),
      field('bool', 'boolean'),
      field('str', 'string'),
      field('bin', 'binary'),
      field('dt', 'date'),
      field('ts', 'timestamp'),
      field('ntz', 'timestamp_ntz'),
      field('dec', 'decimal(20,4)'),
      field('small_dec', 'decimal(5,2)'),
      field('arr', { type: 'array', elementType: 'long', containsNull: true }),
      field('map', { type: 'map', keyType: 'string', valueType: 'double', valueContainsNull: true }),
      field('st', {
        type: 'struct',
        fields: [
          field('x', 'integer'),
          field('y', {
            type: 'array',
            elementType: { type: 'struct', fields: [field('z', 'string')] },
            containsNull: true,
          }),
        ],
      }),
    ],
  }),
);

/** Record `i` for ALL_TYPES: every 7th is all nulls; the others mix values, nulls and edge cases. */
export function allTypesRecord(i: number): Record<string, unknown> {
  if (i % 7 === 6) return {}; // all nulls
  return {
    l: i % 2 ? BigInt('9007199254740993') + BigInt(i) : -i,
    i: i * 1000,
    s: i - 300,
    b: (i % 256) - 128,
    fl: i / 4,
    d: i === 3 ? Number.NaN : i * 1.5,
    bool: i % 3 === 0,
    str: i % 5 === 0 ? 'ünïcødé ✓ "quoted"' : `row ${i}`,
    bin: Buffer.from([i, 0, 255]).toString('base64'),
    dt: `2024-02-${String((i % 28) + 1).padStart(2, '0')}`,
    ts: `2024-03-01T12:00:00.${String(i).padStart(6, '0')}Z`,
    ntz: `2021-11-18 02:30:00.${String(i * 7).padStart(6, '0')}`,
    dec: i % 2 ? `-${i}2345678901.5678` : `${i}.0001`,
    small_dec: (i % 100) + 0.25,
    arr: i % 4 === 0 ? null : [i, null, -i],
    map: i % 4 === 1 ? {} : { a: i, b: null },
    st: i % 5 === 4 ? null : { x: i, y: i % 2 ? [{ z: `z${i}` }, null] : null },
  };
}
