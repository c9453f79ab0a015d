import { describe, expect, it } from 'vitest';
import { assertTableName, parseTableSpec, rewriteTimeTravel, splitViewName } from './table-names.js';

describe('table names', () => {
  it('accepts plain identifiers only', () => {
    for (const ok of ['t', 'events', 'Events_2', '_x']) expect(() => assertTableName(ok)).not.toThrow();
    for (const bad of ['', '1t', 'a-b', 'a b', 'a@1', '"t"', '__weir_x'])
      expect(() => assertTableName(bad), bad).toThrow(
        expect.objectContaining({ code: 'INVALID_TABLE_NAME' }),
      );
  });

  it('parses --table name=<location>[@version]', () => {
    expect(parseTableSpec('t=/data/events')).toEqual({ name: 't', location: '/data/events' });
    expect(parseTableSpec('t=s3://bucket/events@12')).toEqual({
      name: 't',
      location: 's3://bucket/events',
      version: 12,
    });
    expect(parseTableSpec('t=file:///a=b/c')).toEqual({ name: 't', location: 'file:///a=b/c' });
    expect(parseTableSpec('t=/data/user@host')).toEqual({ name: 't', location: '/data/user@host' });
    for (const bad of ['t', '=x', 't=', '1=x'])
      expect(() => parseTableSpec(bad), bad).toThrow(
        expect.objectContaining({ code: expect.stringMatching(/INVALID/) }),
      );
  });

  it('splits view names', () => {
    expect(splitViewName('t@3')).toEqual({ base: 't', version: 3 });
    expect(splitViewName('t')).toEqual({ base: 't' });
  });

  it('rewrites name@N for registered names only, outside strings, identifiers and comments', () => {
    const names = new Set(['t', 'events']);
    expect(rewriteTimeTravel('select * from t@3', names)).toBe('select * from "t@3"');
    expect(rewriteTimeTravel('SELECT * FROM Events@10 e JOIN t@0 USING (id)', names)).toBe(
      'SELECT * FROM "Events@10" e JOIN "t@0" USING (id)',
    );
    const untouched = [
      "select 't@3' from t",
      'select "t@3" from x',
      'select * from u@3',
      '-- t@3\nselect 1',
      '/* t@3 */ select 1',
      'select * from tt@3',
      'select * from t@3x',
      'select x.t@3 from x',
      "select 'it''s t@3' from t",
    ];
    for (const sql of untouched) expect(rewriteTimeTravel(sql, names), sql).toBe(sql);
  });
});
