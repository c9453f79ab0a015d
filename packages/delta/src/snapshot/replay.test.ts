import { describe, expect, it } from 'vitest';
import type {
  Action,
  AddAction,
  DeletionVectorDescriptor,
  MetadataAction,
  ProtocolAction,
  RemoveAction,
} from '../actions/types.js';
import {
  applyActions,
  cloneState,
  decodeLogPath,
  dvUniqueId,
  emptyState,
  fileIdentity,
  type TableState,
} from './replay.js';

function add(path: string, extra: Partial<AddAction> = {}): Action {
  return {
    add: { path, partitionValues: {}, size: 10, modificationTime: 1, dataChange: true, ...extra },
  };
}

function remove(path: string, extra: Partial<RemoveAction> = {}): Action {
  return { remove: { path, dataChange: true, deletionTimestamp: 2, ...extra } };
}

function dv(id: string, offset?: number): DeletionVectorDescriptor {
  return {
    storageType: 'u',
    pathOrInlineDv: id,
    sizeInBytes: 40,
    cardinality: 3,
    ...(offset !== undefined ? { offset } : {}),
  };
}

const protocol = (r: number, w: number): Action => ({
  protocol: { minReaderVersion: r, minWriterVersion: w },
});
const metadata = (id: string): Action => ({
  metaData: {
    id,
    format: { provider: 'parquet', options: {} },
    schemaString: '{"type":"struct","fields":[]}',
    partitionColumns: [],
    configuration: {},
  },
});

function livePaths(state: TableState): string[] {
  return [...state.files.values()].map((a) => a.path).sort();
}

function replay(...commits: Action[][]): TableState {
  const state = emptyState();
  commits.forEach((actions, version) => {
    applyActions(state, actions, version);
  });
  return state;
}

describe('decodeLogPath', () => {
  it('decodes exactly once', () => {
    expect(decodeLogPath('a%20b.parquet')).toBe('a b.parquet');
    expect(decodeLogPath('x=%2521/part.parquet')).toBe('x=%21/part.parquet');
    expect(decodeLogPath('x=%252521/part.parquet')).toBe('x=%2521/part.parquet');
    expect(decodeLogPath('d=2024-01-01%2012%253A00%253A00/p.parquet')).toBe(
      'd=2024-01-01 12%3A00%3A00/p.parquet',
    );
  });

  it('keeps "+" (URI encoding, not form encoding) and plain paths', () => {
    expect(decodeLogPath('a+b/part-0.parquet')).toBe('a+b/part-0.parquet');
    expect(decodeLogPath('part-0.parquet')).toBe('part-0.parquet');
  });

  it('leaves a malformed escape as it is', () => {
    expect(decodeLogPath('100%/x%zz.parquet')).toBe('100%/x%zz.parquet');
  });
});

describe('file identity', () => {
  it('is the decoded path, plus the DV unique id when there is one', () => {
    expect(fileIdentity('a%20b', undefined)).toBe('a b');
    expect(fileIdentity('a b', undefined)).toBe(fileIdentity('a%20b', undefined));
    expect(fileIdentity('a', dv('x'))).not.toBe(fileIdentity('a', undefined));
    expect(fileIdentity('a', dv('x'))).not.toBe(fileIdentity('a', dv('y')));
    expect(fileIdentity('a', dv('x', 1))).not.toBe(fileIdentity('a', dv('x', 5)));
  });

  it('builds DV unique ids as storageType + path (+ @offset)', () => {
    expect(dvUniqueId(undefined)).toBe('');
    expect(dvUniqueId(dv('ab'))).toBe('uab');
    expect(dvUniqueId(dv('ab', 7))).toBe('uab@7');
  });
});

describe('applyActions', () => {
  it('folds adds and removes across commits and records the version', () => {
    const s = replay([protocol(1, 2), metadata('m'), add('a'), add('b')], [remove('a'), add('c')]);
    expect(s.version).toBe(1);
    expect(livePaths(s)).toEqual(['b', 'c']);
    expect([...s.tombstones.keys()]).toEqual(['a']);
  });

  it('keeps the latest protocol and metadata', () => {
    const s = replay([protocol(1, 2), metadata('first')], [protocol(3, 7)], [metadata('second')]);
    expect(s.protocol).toEqual({ minReaderVersion: 3, minWriterVersion: 7 } satisfies ProtocolAction);
    expect((s.metadata as MetadataAction).id).toBe('second');
  });

  it('replaces a deletion vector by remove + add in one commit, whatever the line order', () => {
    for (const order of ['remove-first', 'add-first'] as const) {
      const replaceDv = [remove('f', { deletionVector: dv('old') }), add('f', { deletionVector: dv('new') })];
      const s = replay(
        [add('f')],
        [remove('f'), add('f', { deletionVector: dv('old') })],
        order === 'remove-first' ? replaceDv : [...replaceDv].reverse(),
      );
      expect(s.files.size).toBe(1);
      expect([...s.files.values()][0]!.deletionVector?.pathOrInlineDv).toBe('new');
      expect(s.tombstones.has(fileIdentity('f', undefined))).toBe(true);
      expect(s.tombstones.has(fileIdentity('f', dv('old')))).toBe(true);
      expect(s.tombstones.has(fileIdentity('f', dv('new')))).toBe(false);
    }
  });

  it('does not let a remove of another DV of the same path hide the live one', () => {
    const s = replay(
      [add('f', { deletionVector: dv('new') })],
      [remove('f', { deletionVector: dv('other') })],
    );
    expect(s.files.size).toBe(1);
  });

  it('matches a remove to an add whose path is encoded differently', () => {
    const s = replay([add('x=a%20b/part-0.parquet')], [remove('x=a b/part-0.parquet')]);
    expect(s.files.size).toBe(0);
    expect(s.tombstones.size).toBe(1);
  });

  it('decodes a path once: %2521 and %21 are different files', () => {
    const s = replay([add('p=%2521/f.parquet'), add('p=%21/f.parquet')]);
    expect(s.files.size).toBe(2);
    expect([...s.files.keys()].sort()).toEqual(['p=!/f.parquet', 'p=%21/f.parquet']);
    // The action keeps the path exactly as the log has it.
    expect(s.files.get('p=%21/f.parquet')!.path).toBe('p=%2521/f.parquet');
    const after = replay([add('p=%2521/f.parquet'), add('p=%21/f.parquet')], [remove('p=%2521/f.parquet')]);
    expect(livePaths(after)).toEqual(['p=%21/f.parquet']);
  });

  it('clears a tombstone when the file is added again', () => {
    const s = replay([add('a')], [remove('a')], [add('a', { size: 99 })]);
    expect(s.tombstones.size).toBe(0);
    expect(s.files.get('a')!.size).toBe(99);
  });

  it('keeps the newest add of a path re-added in a later commit', () => {
    const s = replay([add('a', { size: 1 })], [add('a', { size: 2 })]);
    expect(s.files.size).toBe(1);
    expect(s.files.get('a')!.size).toBe(2);
  });

  it('keeps a tombstone for a remove of a file it never saw (after a checkpoint)', () => {
    const s = replay([remove('gone')]);
    expect(s.files.size).toBe(0);
    expect(s.tombstones.get('gone')!.deletionTimestamp).toBe(2);
  });

  it('keeps the latest txn per appId', () => {
    const s = replay(
      [{ txn: { appId: 'a', version: 1 } }, { txn: { appId: 'b', version: 10 } }],
      [{ txn: { appId: 'a', version: 2, lastUpdated: 5 } }],
      [{ txn: { appId: 'a', version: 3 } }, { txn: { appId: 'a', version: 4 } }],
    );
    expect(s.txns.get('a')).toEqual({ appId: 'a', version: 4 });
    expect(s.txns.get('b')!.version).toBe(10);
  });

  it('adds, replaces and removes domain metadata', () => {
    const dm = (domain: string, configuration: string, removed = false): Action => ({
      domainMetadata: { domain, configuration, removed },
    });
    const s = replay([dm('d1', '{"v":1}'), dm('d2', '{}')], [dm('d1', '{"v":2}')], [dm('d2', '{}', true)]);
    expect([...s.domains.keys()]).toEqual(['d1']);
    expect(s.domains.get('d1')!.configuration).toBe('{"v":2}');
    // Removing a domain that does not exist is a no-op.
    applyActions(s, [dm('nope', '', true)], 3);
    expect(s.domains.size).toBe(1);
  });

  it('ignores commitInfo, cdc and checkpoint-only actions', () => {
    const s = replay([
      { commitInfo: { operation: 'WRITE' } },
      { cdc: { path: 'c', partitionValues: {}, size: 1, dataChange: false } },
      { checkpointMetadata: { version: 0 } },
      { sidecar: { path: 's.parquet', sizeInBytes: 1, modificationTime: 1 } },
    ]);
    expect(s.files.size).toBe(0);
    expect(s.tombstones.size).toBe(0);
    expect(s.version).toBe(0);
  });
});

describe('cloneState', () => {
  it('copies every map: changes to the clone leave the original alone', () => {
    const original = replay([protocol(1, 2), metadata('m'), add('a'), { txn: { appId: 'x', version: 1 } }]);
    const copy = cloneState(original);
    applyActions(copy, [remove('a'), add('b'), { txn: { appId: 'x', version: 2 } }], 1);
    expect(livePaths(original)).toEqual(['a']);
    expect(original.tombstones.size).toBe(0);
    expect(original.txns.get('x')!.version).toBe(1);
    expect(original.version).toBe(0);
    expect(livePaths(copy)).toEqual(['b']);
    expect(copy.protocol).toBe(original.protocol);
  });

  it('clones an empty state without protocol or metadata keys', () => {
    const copy = cloneState(emptyState());
    expect('protocol' in copy).toBe(false);
    expect('metadata' in copy).toBe(false);
    expect(copy.version).toBe(-1);
  });
});
