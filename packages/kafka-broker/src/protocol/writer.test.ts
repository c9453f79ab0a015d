import { describe, expect, it } from 'vitest';
import { Writer } from './writer.js';

describe('Writer', () => {
  it('appends raw buffers by reference between encoded parts', () => {
    const big = Buffer.from('stored-batch-bytes');
    const w = new Writer(2).int32(7).raw(big).int16(1).raw(Buffer.alloc(0));
    const chunks = w.chunks();
    expect(chunks[1]).toBe(big);
    expect(w.length).toBe(4 + big.length + 2);
    expect(w.toBuffer()).toEqual(Buffer.concat([Buffer.from([0, 0, 0, 7]), big, Buffer.from([0, 1])]));
  });

  it('grows past its initial size and encodes arrays with counts', () => {
    const w = new Writer(1).array(['a', 'bb', 'ccc'], (w, s) => w.string(s));
    expect(w.toBuffer().toString('hex')).toBe('00000003' + '000161' + '00026262' + '0003636363');
  });
});
