import { describe, expect, it } from 'vitest';
import { NdjsonLines } from './ndjson-lines.js';

function split(chunks: readonly Buffer[]): [number, string][] {
  const out: [number, string][] = [];
  const lines = new NdjsonLines();
  const visit = (b: Buffer, s: number, e: number, line: number) => {
    out.push([line, b.toString('utf8', s, e)]);
  };
  for (const c of chunks) lines.push(c, visit);
  lines.end(visit);
  return out;
}

const TEXT = '\ufeff{"a":1}\r\n\n   \n{"b":"\u00e9\u20ac"}\n\u00a0\u2028\n\t{"c":[1,\n{"d":2}';
const EXPECTED: [number, string][] = [
  [1, '{"a":1}\r'],
  [4, '{"b":"\u00e9\u20ac"}'],
  [6, '\t{"c":[1,'],
  [7, '{"d":2}'],
];

describe('NdjsonLines', () => {
  it('gives each record line with its number: BOM, CRLF, blank and Unicode-blank lines', () => {
    expect(split([Buffer.from(TEXT)])).toEqual(EXPECTED);
  });

  it('gives the same lines whatever the chunking (every split point, one-byte chunks)', () => {
    const bytes = Buffer.from(TEXT);
    for (let at = 0; at <= bytes.length; at++)
      expect(split([bytes.subarray(0, at), bytes.subarray(at)]), `split at ${at}`).toEqual(EXPECTED);
    expect(split([...bytes].map((b) => Buffer.from([b])))).toEqual(EXPECTED);
  });

  it('keeps no reference to a chunk it was given for the unfinished line', () => {
    const chunk = Buffer.from('{"a":1}\n{"b":');
    const lines = new NdjsonLines();
    const out: string[] = [];
    const visit = (b: Buffer, s: number, e: number) => out.push(b.toString('utf8', s, e));
    lines.push(chunk, visit);
    chunk.fill(0x20); // the reader reuses its buffer
    lines.push(Buffer.from('2}\n'), visit);
    expect(out).toEqual(['{"a":1}', '{"b":2}']);
    expect(lines.lines).toBe(2);
  });
});
