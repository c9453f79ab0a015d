import { batchToJsonRows, createTable, loadSnapshot, scanSnapshot } from '@weir/delta';
import { MemoryStore, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_SCHEMA } from '../decode/dead-letter.js';
import type { SourceMessage } from '../source/message.js';
import { DeadLetterWriter } from './dead-letters.js';

const msg = (partition: number, offset: number): SourceMessage => ({
  topic: 'orders',
  partition,
  offset,
  key: Buffer.from(`k${offset}`),
  value: Buffer.from([0xff, offset % 256]),
  timestamp: 1_700_000_000_000 + offset,
  headers: {},
});
const error = (offset: number) =>
  new WeirError('INVALID_JSON', `message orders/0@${offset}: the value is not JSON`);

async function table(): Promise<MemoryStore> {
  const store = new MemoryStore();
  await createTable(store, { schema: DEAD_LETTER_SCHEMA });
  return store;
}

async function rows(store: MemoryStore) {
  const out = [];
  for await (const b of scanSnapshot(store, await loadSnapshot(store))) out.push(...batchToJsonRows(b));
  return out.sort(
    (a, b) => Number(a.partition) * 1e9 + Number(a.offset) - (Number(b.partition) * 1e9 + Number(b.offset)),
  );
}

describe('DeadLetterWriter', () => {
  it('commits raw bytes and errors with a position per partition', async () => {
    const store = await table();
    const dlq = await DeadLetterWriter.open(store, 'g');
    dlq.add(msg(0, 5), error(5));
    dlq.add(msg(1, 9), error(9));
    await dlq.flush();
    expect(dlq.count).toBe(2);
    const r = await rows(store);
    expect(r.map((x) => [x.partition, x.offset, x.error_code])).toEqual([
      [0, 5, 'INVALID_JSON'],
      [1, 9, 'INVALID_JSON'],
    ]);
    expect(Buffer.from(r[0]!.value_base64 as string, 'base64')).toEqual(Buffer.from([0xff, 5]));
    const snap = await loadSnapshot(store);
    expect(snap.appTransactionVersion('g-orders-0')).toBe(6);
    expect(snap.appTransactionVersion('g-orders-1')).toBe(10);
  });

  it('a replay after a crash writes nothing twice', async () => {
    const store = await table();
    const first = await DeadLetterWriter.open(store, 'g');
    first.add(msg(0, 5), error(5));
    first.add(msg(0, 9), error(9));
    await first.flush();
    // The main table's commit never happened: a new process re-reads and re-detects them.
    const second = await DeadLetterWriter.open(store, 'g');
    second.add(msg(0, 5), error(5));
    second.add(msg(0, 9), error(9));
    second.add(msg(0, 12), error(12));
    await second.flush();
    expect(second.count).toBe(1);
    expect((await rows(store)).map((x) => x.offset)).toEqual([5, 9, 12]);
  });

  it('two writers racing on the same partition (a rebalance) land each dead letter once', async () => {
    const store = await table();
    const a = await DeadLetterWriter.open(store, 'g');
    const b = await DeadLetterWriter.open(store, 'g');
    for (const w of [a, b]) {
      w.add(msg(2, 20), error(20));
      w.add(msg(2, 21), error(21));
    }
    b.add(msg(2, 30), error(30));
    await Promise.all([a.flush(), b.flush()]);
    expect((await rows(store)).map((x) => x.offset)).toEqual([20, 21, 30]);
  });

  it('discard drops pending dead letters (they are re-read after a recovery)', async () => {
    const store = await table();
    const dlq = await DeadLetterWriter.open(store, 'g');
    dlq.add(msg(0, 1), error(1));
    dlq.discard();
    await dlq.flush();
    expect(await rows(store)).toEqual([]);
  });
});
