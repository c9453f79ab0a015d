import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { isWeirError, WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import {
  actionKind,
  EMPTY_SCHEMA_STRING,
  parseAction,
  parseCommitFile,
  parseJsonExact,
  parseStats,
  serializeAction,
  serializeCommit,
  serializeStats,
  stringifyJsonExact,
} from './codec.js';
import type { Action } from './types.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const REFERENCE_ROOT = path.resolve(here, '../../../../../shared/reference-tables');

interface LogFile {
  table: string;
  file: string;
  version: number;
  text: string;
}

function referenceLogs(): LogFile[] {
  const out: LogFile[] = [];
  for (const table of readdirSync(REFERENCE_ROOT).sort()) {
    const dir = path.join(REFERENCE_ROOT, table, 'delta', '_delta_log');
    if (!existsSync(dir)) continue;
    for (const file of readdirSync(dir)
      .filter((f) => /^\d{20}\.json$/.test(f))
      .sort()) {
      out.push({
        table,
        file,
        version: Number(file.slice(0, 20)),
        text: readFileSync(path.join(dir, file), 'utf8'),
      });
    }
  }
  return out;
}

/** Tables whose writer is Spark or Databricks (not delta-rs, not hand-made). */
function sparkWritten(table: string): boolean {
  return ![
    'drs-python-0.25.5-checkpoint',
    'krs-app-txn-checkpoint',
    'golden-versions-not-contiguous',
  ].includes(table);
}

function catchError(fn: () => unknown): WeirError {
  try {
    fn();
  } catch (err) {
    if (err instanceof WeirError) return err;
    throw err;
  }
  throw new Error('expected a WeirError');
}

const logs = referenceLogs();

describe('reference table logs', () => {
  it('finds the reference logs', () => {
    expect(logs.length).toBeGreaterThan(100);
  });

  it('parses every action of every log, and every action round-trips through serializeAction', () => {
    let count = 0;
    for (const log of logs) {
      const where = { file: `${log.table}/${log.file}`, version: log.version };
      const actions = parseCommitFile(log.text, where);
      const lines = log.text.split('\n').filter((l) => l.trim() !== '');
      expect(actions.length, where.file).toBe(lines.length);
      for (const a of actions) {
        const line = serializeAction(a);
        expect(line).not.toContain('\n');
        expect(parseAction(JSON.parse(line), where), where.file).toEqual(a);
        count++;
      }
      expect(parseCommitFile(serializeCommit(actions), where)).toEqual(actions);
    }
    expect(count).toBeGreaterThan(600);
  });

  it('re-serializes Spark-written lines byte for byte (same key order)', () => {
    let compared = 0;
    for (const log of logs.filter((l) => sparkWritten(l.table))) {
      const lines = log.text.split('\n').filter((l) => l.trim() !== '');
      const actions = parseCommitFile(log.text, { file: log.file, version: log.version });
      actions.forEach((a, i) => {
        expect(serializeAction(a), `${log.table}/${log.file}:${i + 1}`).toBe(lines[i]);
        compared++;
      });
    }
    expect(compared).toBeGreaterThan(500);
  });

  it('keeps every action kind the logs use', () => {
    const kinds = new Set<string>();
    for (const log of logs)
      for (const a of parseCommitFile(log.text, { file: log.file, version: 0 })) kinds.add(actionKind(a));
    expect([...kinds].sort()).toEqual(['add', 'cdc', 'commitInfo', 'metaData', 'protocol', 'remove', 'txn']);
  });

  it('reads delta-rs nulls as absent fields', () => {
    const log = logs.find((l) => l.table === 'krs-app-txn-checkpoint' && l.version === 0)!;
    const [protocol, metaData, add] = parseCommitFile(log.text, { file: log.file, version: 0 });
    expect(protocol).toEqual({ protocol: { minReaderVersion: 1, minWriterVersion: 2 } });
    expect(metaData && 'metaData' in metaData && metaData.metaData).toMatchObject({
      partitionColumns: ['modified'],
    });
    expect(metaData && 'metaData' in metaData && 'name' in metaData.metaData).toBe(false);
    expect(add && 'add' in add && Object.keys(add.add)).toEqual([
      'path',
      'partitionValues',
      'size',
      'modificationTime',
      'dataChange',
      'stats',
    ]);
  });

  it('reads deletion vectors, txn, cdc and a metaData without schemaString', () => {
    const all = logs.flatMap((l) =>
      parseCommitFile(l.text, { file: `${l.table}/${l.file}`, version: l.version }),
    );
    const dv = all.find(
      (a): a is { add: Extract<Action, { add: unknown }>['add'] } =>
        'add' in a && a.add.deletionVector !== undefined,
    );
    expect(dv?.add.deletionVector).toMatchObject({
      storageType: 'u',
      sizeInBytes: expect.any(Number),
      cardinality: expect.any(Number),
    });
    expect(all.filter((a) => 'txn' in a).map((a) => ('txn' in a ? a.txn : undefined))).toEqual([
      { appId: 'my-app', version: 1 },
      { appId: 'my-app', version: 3 },
      { appId: 'my-app2', version: 2 },
    ]);
    expect(all.find((a) => 'cdc' in a)).toMatchObject({
      cdc: { dataChange: false, partitionValues: { birthday: expect.any(String) } },
    });
    const noSchema = logs.find((l) => l.table === 'golden-versions-not-contiguous' && l.version === 0)!;
    const meta = parseCommitFile(noSchema.text, { file: noSchema.file, version: 0 }).find(
      (a) => 'metaData' in a,
    );
    expect(meta).toMatchObject({ metaData: { schemaString: EMPTY_SCHEMA_STRING } });
  });

  it('keeps null partition values as null', () => {
    const values = logs
      .filter((l) => l.table === 'dat-basic_partitioned')
      .flatMap((l) => parseCommitFile(l.text, { file: l.file, version: l.version }))
      .filter((a) => 'add' in a)
      .map((a) => ('add' in a ? a.add.partitionValues.letter : undefined));
    expect(values).toContain(null);
  });
});

describe('parseCommitFile', () => {
  const where = { file: '_delta_log/00000000000000000007.json', version: 7 };

  it('accepts blank lines, CRLF and a missing trailing newline', () => {
    const text = '\n{"txn":{"appId":"a","version":1}}\r\n\n  \n{"txn":{"appId":"b","version":2}}';
    expect(parseCommitFile(text, where)).toEqual([
      { txn: { appId: 'a', version: 1 } },
      { txn: { appId: 'b', version: 2 } },
    ]);
    expect(parseCommitFile('', where)).toEqual([]);
  });

  it('names the file, line and version of bad JSON', () => {
    const err = catchError(() => parseCommitFile('{"txn":{"appId":"a","version":1}}\n{"add": {', where));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.message).toContain('00000000000000000007.json line 2 (version 7)');
    expect(err.details).toMatchObject({ file: where.file, version: 7, line: 2 });
  });

  it('rejects a line that is not an object', () => {
    expect(catchError(() => parseCommitFile('[1,2]', where)).code).toBe('CORRUPT_LOG');
    expect(catchError(() => parseCommitFile('42', where)).code).toBe('CORRUPT_LOG');
  });

  it('skips unknown actions', () => {
    const text = '{"futureAction":{"x":1}}\n{"txn":{"appId":"a","version":1}}';
    expect(parseCommitFile(text, where)).toEqual([{ txn: { appId: 'a', version: 1 } }]);
  });
});

describe('parseAction', () => {
  const where = { file: 'f.json', version: 3, line: 9 };
  const add = {
    path: 'a.parquet',
    partitionValues: { p: '1', q: null },
    size: 10,
    modificationTime: 5,
    dataChange: true,
  };

  it('returns undefined for unknown or null-only actions', () => {
    expect(parseAction({ newThing: {} }, where)).toBeUndefined();
    expect(parseAction({}, where)).toBeUndefined();
    expect(parseAction({ add: null, remove: null }, where)).toBeUndefined();
  });

  it('drops unknown fields of known actions and treats null optional fields as absent', () => {
    const a = parseAction(
      { add: { ...add, futureField: 1, stats: null, tags: null, deletionVector: null } },
      where,
    );
    expect(a).toEqual({ add });
  });

  it('accepts numbers as numeric strings or bigints, booleans as strings', () => {
    const a = parseAction({ add: { ...add, size: '10', modificationTime: 5n, dataChange: 'true' } }, where);
    expect(a).toEqual({ add });
  });

  it('keeps numbers and booleans in string maps as their text, drops null tags', () => {
    const a = parseAction(
      { add: { ...add, partitionValues: { p: 1, q: null }, tags: { t: true, u: null } } },
      where,
    );
    expect(a).toEqual({ add: { ...add, tags: { t: 'true' } } });
  });

  it('accepts a Map for map fields (checkpoint rows)', () => {
    const a = parseAction(
      {
        add: {
          ...add,
          partitionValues: new Map<string, string | null>([
            ['p', '1'],
            ['q', null],
          ]),
        },
      },
      where,
    );
    expect(a).toEqual({ add });
  });

  it('rejects missing and mistyped required fields, naming file, line, version and field', () => {
    const { size: _size, ...noSize } = add;
    const missing = catchError(() => parseAction({ add: noSize }, where));
    expect(missing.code).toBe('CORRUPT_LOG');
    expect(missing.message).toBe('f.json line 9 (version 3): add.size is required');
    expect(missing.details).toMatchObject({ file: 'f.json', line: 9, version: 3, field: 'add.size' });
    expect(catchError(() => parseAction({ add: { ...add, size: 'big' } }, where)).message).toContain(
      'add.size must be an integer',
    );
    expect(catchError(() => parseAction({ add: { ...add, size: -1 } }, where)).message).toContain(
      'add.size must be >= 0',
    );
    expect(catchError(() => parseAction({ add: { ...add, path: 3 } }, where)).message).toContain(
      'add.path must be a string',
    );
    expect(catchError(() => parseAction({ add: { ...add, path: '' } }, where)).message).toContain(
      'add.path must not be empty',
    );
    expect(catchError(() => parseAction({ add: { ...add, dataChange: 1 } }, where)).message).toContain(
      'add.dataChange',
    );
    expect(
      catchError(() => parseAction({ add: { ...add, partitionValues: { p: {} } } }, where)).message,
    ).toContain('add.partitionValues.p must be a string');
    expect(catchError(() => parseAction({ add: { ...add, partitionValues: undefined } }, where)).code).toBe(
      'CORRUPT_LOG',
    );
    expect(catchError(() => parseAction({ add: 'x' }, where)).message).toContain('add must be an object');
    expect(catchError(() => parseAction({ txn: { appId: 'a' } }, where)).message).toContain(
      'txn.version is required',
    );
    expect(
      catchError(() => parseAction({ protocol: { minReaderVersion: 0, minWriterVersion: 2 } }, where)).code,
    ).toBe('CORRUPT_LOG');
    expect(catchError(() => parseAction({ metaData: { format: {} } }, where)).message).toContain(
      'metaData.id is required',
    );
    expect(
      catchError(() => parseAction({ metaData: { id: 'x', partitionColumns: 'p' } }, where)).message,
    ).toContain('metaData.partitionColumns must be an array');
    expect(
      catchError(() =>
        parseAction(
          {
            add: {
              ...add,
              deletionVector: { storageType: 'x', pathOrInlineDv: 'a', sizeInBytes: 1, cardinality: 1 },
            },
          },
          where,
        ),
      ).message,
    ).toContain("add.deletionVector.storageType must be 'u', 'i' or 'p'");
  });

  it('refuses integers beyond 2^53 instead of rounding them', () => {
    const err = catchError(() => parseAction({ txn: { appId: 'a', version: 2n ** 60n } }, where));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.message).toContain('beyond 2^53');
    expect(
      catchError(() => parseAction({ txn: { appId: 'a', version: '1152921504606846976' } }, where)).code,
    ).toBe('CORRUPT_LOG');
  });

  it('rejects two actions on one line', () => {
    const err = catchError(() => parseAction({ txn: { appId: 'a', version: 1 }, add }, where));
    expect(err.code).toBe('CORRUPT_LOG');
    expect(err.message).toContain('two actions');
  });

  it('defaults what Spark defaults', () => {
    expect(parseAction({ metaData: { id: 'x' } }, where)).toEqual({
      metaData: {
        id: 'x',
        format: { provider: 'parquet', options: {} },
        schemaString: EMPTY_SCHEMA_STRING,
        partitionColumns: [],
        configuration: {},
      },
    });
    expect(parseAction({ remove: { path: 'a' } }, where)).toEqual({
      remove: { path: 'a', dataChange: true },
    });
    expect(parseAction({ cdc: { path: 'c', partitionValues: {}, size: 1 } }, where)).toEqual({
      cdc: { path: 'c', partitionValues: {}, size: 1, dataChange: false },
    });
  });

  it('keeps commitInfo whole, dropping only mistyped known fields', () => {
    const a = parseAction(
      {
        commitInfo: {
          timestamp: '12',
          operation: 7,
          isBlindAppend: true,
          custom: { x: null },
          userName: null,
        },
      },
      where,
    );
    expect(a).toEqual({
      commitInfo: { timestamp: 12, isBlindAppend: true, custom: { x: null }, userName: null },
    });
    expect(catchError(() => parseAction({ commitInfo: { inCommitTimestamp: 'soon' } }, where)).code).toBe(
      'CORRUPT_LOG',
    );
  });

  it('parses every action kind', () => {
    const actions: Action[] = [
      {
        protocol: {
          minReaderVersion: 3,
          minWriterVersion: 7,
          readerFeatures: ['deletionVectors'],
          writerFeatures: ['deletionVectors'],
        },
      },
      {
        metaData: {
          id: 'i',
          name: 'n',
          description: 'd',
          format: { provider: 'parquet', options: { a: 'b' } },
          schemaString: EMPTY_SCHEMA_STRING,
          partitionColumns: ['p'],
          configuration: { 'delta.appendOnly': 'true' },
          createdTime: 1,
        },
      },
      {
        add: {
          ...add,
          stats: '{"numRecords":1}',
          tags: { a: 'b' },
          deletionVector: {
            storageType: 'i',
            pathOrInlineDv: 'wi5b=000010000siXQKl0rr91000f55c8Xg0@@D72lkbi5=-{L',
            sizeInBytes: 40,
            cardinality: 6,
          },
          baseRowId: 4071,
          defaultRowCommitVersion: 41,
          clusteringProvider: 'liquid',
        },
      },
      {
        remove: {
          path: 'r',
          deletionTimestamp: 2,
          dataChange: false,
          extendedFileMetadata: true,
          partitionValues: {},
          size: 3,
          stats: '{}',
          tags: {},
          deletionVector: {
            storageType: 'u',
            pathOrInlineDv: 'ab^-aqEH.-t@S}K{vb[*k^',
            offset: 4,
            sizeInBytes: 40,
            cardinality: 6,
          },
          baseRowId: 1,
          defaultRowCommitVersion: 2,
        },
      },
      {
        cdc: {
          path: '_change_data/c.parquet',
          partitionValues: {},
          size: 1213,
          dataChange: false,
          tags: { x: 'y' },
        },
      },
      { txn: { appId: 'app', version: 364475, lastUpdated: 9 } },
      {
        commitInfo: {
          timestamp: 1,
          inCommitTimestamp: 1,
          operation: 'WRITE',
          operationParameters: { mode: 'Append' },
        },
      },
      { domainMetadata: { domain: 'delta.x', configuration: '{"a":1}', removed: false } },
      { checkpointMetadata: { version: 1, tags: {} } },
      {
        sidecar: {
          path: '016ae953.parquet',
          sizeInBytes: 2304522,
          modificationTime: 1512909768000,
          tags: {},
        },
      },
    ];
    for (const a of actions) {
      expect(parseAction(JSON.parse(serializeAction(a)), where)).toEqual(a);
    }
    expect(actions.map(actionKind)).toEqual([
      'protocol',
      'metaData',
      'add',
      'remove',
      'cdc',
      'txn',
      'commitInfo',
      'domainMetadata',
      'checkpointMetadata',
      'sidecar',
    ]);
  });
});

describe('serializeAction / serializeCommit', () => {
  it('writes add fields in Spark order and leaves out absent ones and statsParsed', () => {
    const line = serializeAction({
      add: {
        deletionVector: { cardinality: 1, sizeInBytes: 2, pathOrInlineDv: 'x', storageType: 'u', offset: 1 },
        statsParsed: { numRecords: 1 },
        dataChange: true,
        stats: '{"numRecords":1}',
        modificationTime: 2,
        size: 1,
        partitionValues: { a: null },
        path: 'p',
      },
    });
    expect(line).toBe(
      '{"add":{"path":"p","partitionValues":{"a":null},"size":1,"modificationTime":2,"dataChange":true,' +
        '"stats":"{\\"numRecords\\":1}","deletionVector":{"storageType":"u","pathOrInlineDv":"x","offset":1,"sizeInBytes":2,"cardinality":1}}}',
    );
  });

  it('orders commitInfo like Spark, then other keys, and writes bigints exactly', () => {
    const line = serializeAction({
      commitInfo: { custom: 2n ** 64n, engineInfo: 'weir', operation: 'WRITE', timestamp: 5 },
    });
    expect(line).toBe(
      '{"commitInfo":{"timestamp":5,"operation":"WRITE","engineInfo":"weir","custom":18446744073709551616}}',
    );
  });

  it('ends every line with a newline, as Spark does', () => {
    const text = serializeCommit([{ txn: { appId: 'a', version: 1 } }, { txn: { appId: 'b', version: 2 } }]);
    expect(text).toBe('{"txn":{"appId":"a","version":1}}\n{"txn":{"appId":"b","version":2}}\n');
    expect(serializeCommit([])).toBe('');
  });

  it('rejects a value that is not an action', () => {
    expect(
      isWeirError(
        catchError(() => serializeAction({} as Action)),
        'INVALID_ACTION',
      ),
    ).toBe(true);
  });
});

describe('parseStats', () => {
  it('reads the reference stats', () => {
    const log = logs.find((l) => l.table === 'dat-all_primitive_types')!;
    const add = parseCommitFile(log.text, { file: log.file, version: 0 }).find((a) => 'add' in a);
    const stats = parseStats(add && 'add' in add ? add.add.stats : undefined);
    expect(stats).toMatchObject({
      numRecords: 5,
      minValues: { int64: 0, decimal: 10, utf8: '0' },
      nullCount: { int64: 0 },
    });
  });

  it('is tolerant: bad JSON or shape gives undefined or drops the bad part', () => {
    expect(parseStats(undefined)).toBeUndefined();
    expect(parseStats('')).toBeUndefined();
    expect(parseStats('{"numRecords":')).toBeUndefined();
    expect(parseStats('[1]')).toBeUndefined();
    expect(parseStats('{"numRecords":"7","minValues":3,"tightBounds":false}')).toEqual({
      numRecords: 7,
      tightBounds: false,
    });
    expect(parseStats('{"numRecords":-1}')).toEqual({});
  });

  it('keeps long and decimal digits exactly', () => {
    const s = parseStats(
      '{"numRecords":1,"minValues":{"l":-9223372036854775808,"d":-32805.309000000000000000000000000000,"e":-2.9546424000000000000E-17,"x":12345678.9012345678}}',
    );
    expect(s?.minValues).toEqual({
      l: -9223372036854775808n,
      d: -32805.309,
      e: -2.9546424e-17,
      x: '12345678.9012345678',
    });
  });

  it('serializes stats in Spark order with exact bigints', () => {
    expect(serializeStats({ tightBounds: true, maxValues: { a: 2n ** 63n - 1n }, numRecords: 3 })).toBe(
      '{"numRecords":3,"maxValues":{"a":9223372036854775807},"tightBounds":true}',
    );
  });
});

describe('parseJsonExact / stringifyJsonExact', () => {
  it('agrees with JSON.parse on ordinary JSON, including the slow path', () => {
    const samples = [
      '{"a":[1,2.5,-3e2,true,false,null,"x\\"y\\\\z\\u00e9"],"b":{},"c":[]}',
      ' { "n" : 1234567890123456 , "s" : "1234567890123456789" } ',
      '[0.1, 1E+2, 0, -0, "\\n"]',
      '"plain"',
    ];
    for (const s of samples) expect(parseJsonExact(s)).toEqual(JSON.parse(s));
  });

  it('reads big integers as bigint and long fractions as text or number', () => {
    expect(parseJsonExact('[9007199254740993, 9007199254740991]')).toEqual([
      9007199254740993n,
      9007199254740991,
    ]);
    expect(parseJsonExact('[0.12345678901234567]', { inexactFractions: 'text' })).toEqual([
      '0.12345678901234567',
    ]);
    expect(parseJsonExact('[0.12345678901234567]')).toEqual([Number('0.12345678901234567')]);
    expect(parseJsonExact('[1.000000000000000000]', { inexactFractions: 'text' })).toEqual([1]);
  });

  it('throws SyntaxError on bad JSON in the slow path too', () => {
    for (const s of [
      '{"a":12345678901234567890',
      '[12345678901234567890,]',
      '{"a" 12345678901234567890}',
      '12345678901234567890 x',
    ]) {
      expect(() => parseJsonExact(s)).toThrow(SyntaxError);
    }
  });

  it('stringifies bigints exactly and otherwise like JSON.stringify', () => {
    const v = { a: 1n, b: [1, 'x', null, undefined], c: undefined, d: { e: true } };
    expect(stringifyJsonExact(v)).toBe('{"a":1,"b":[1,"x",null,null],"d":{"e":true}}');
    expect(stringifyJsonExact(undefined)).toBe('null');
    expect(JSON.parse(stringifyJsonExact({ x: 'q"\\' }))).toEqual({ x: 'q"\\' });
  });
});
