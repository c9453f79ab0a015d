/**
 * A micro-benchmark of RecordBatchBuilder: 8 columns (long, double, string x3, boolean,
 * timestamp, decimal) of simple JSON-ish rows. It only logs its rate; no timing assertions
 * (machines and their load vary).
 */
import { describe, expect, it } from 'vitest';
import type { StructField, StructType } from '../schema/types.js';
import { RecordBatchBuilder } from './record-batch-builder.js';

const field = (name: string, type: StructField['type']): StructField => ({
  name,
  type,
  nullable: true,
  metadata: {},
});
const schema: StructType = {
  type: 'struct',
  fields: [
    field('id', { type: 'long' }),
    field('price', { type: 'double' }),
    field('user', { type: 'string' }),
    field('category', { type: 'string' }),
    field('payload', { type: 'string' }),
    field('ok', { type: 'boolean' }),
    field('at', { type: 'timestamp' }),
    field('amount', { type: 'decimal', precision: 12, scale: 2 }),
  ],
};

interface Rates {
  /** Rows per wall-clock second: best and median round. */
  best: number;
  median: number;
  /** Rows per second of this process's CPU time (steadier on a shared, loaded machine). */
  cpu: number;
}

function rate(records: unknown[], rounds: number): Rates {
  const b = new RecordBatchBuilder(schema);
  const rates: number[] = [];
  const cpuRates: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const cpuStart = process.cpuUsage();
    const start = performance.now();
    for (const r of records) b.append(r);
    const batch = b.flush();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuStart);
    expect(batch.numRows).toBe(records.length);
    rates.push((records.length / ms) * 1000);
    cpuRates.push((records.length / (cpu.user + cpu.system)) * 1e6);
  }
  rates.sort((x, y) => x - y);
  cpuRates.sort((x, y) => x - y);
  return {
    best: rates[rates.length - 1]!,
    median: rates[Math.floor(rates.length / 2)]!,
    cpu: cpuRates[Math.floor(cpuRates.length / 2)]!,
  };
}

describe('RecordBatchBuilder micro-benchmark', () => {
  const n = 100_000;
  const m = (x: number) => `${(x / 1e6).toFixed(2)}M`;
  const fmt = (r: Rates) =>
    `wall best ${m(r.best)} rows/s, median ${m(r.median)} rows/s; per CPU-second (median) ${m(r.cpu)} rows/s`;

  it('numeric timestamps and decimals (epoch ms, JSON numbers)', () => {
    const records = Array.from({ length: n }, (_, i) => ({
      id: i,
      price: i * 0.25 + 0.1,
      user: `user-${i % 1000}`,
      category: 'some category',
      payload: `event-${i}-payload`,
      ok: i % 3 === 0,
      at: 1_700_000_000_000 + i,
      amount: Math.round(i * 1.37) / 100,
    }));
    console.log(`[records bench] 8 columns, numbers: ${fmt(rate(records, 7))}`);
  });

  it('text timestamps and decimals (ISO-8601, decimal strings)', () => {
    const records = Array.from({ length: n }, (_, i) => ({
      id: i,
      price: i * 0.25 + 0.1,
      user: `user-${i % 1000}`,
      category: 'some category',
      payload: `event-${i}-payload`,
      ok: i % 3 === 0,
      at: new Date(1_700_000_000_000 + i).toISOString(),
      amount: (Math.round(i * 1.37) / 100).toFixed(2),
    }));
    console.log(`[records bench] 8 columns, text: ${fmt(rate(records, 7))}`);
  });
});
