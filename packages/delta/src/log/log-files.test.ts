import { describe, expect, it } from 'vitest';
import {
  classicCheckpointKey,
  classifyLogKey,
  commitKey,
  LAST_CHECKPOINT_KEY,
  LOG_DIR,
  SIDECAR_DIR,
  versionPrefix,
} from './log-files.js';

const UUID = '3a0d65cd-4056-49b8-937b-95f9e3ee90e5';
const v = (n: number) => String(n).padStart(20, '0');

describe('classifyLogKey', () => {
  it('recognizes commits with their version', () => {
    expect(classifyLogKey(`_delta_log/${v(0)}.json`)).toEqual({ type: 'commit', version: 0 });
    expect(classifyLogKey(`_delta_log/${v(1234567)}.json`)).toEqual({ type: 'commit', version: 1234567 });
  });

  it('recognizes classic checkpoints', () => {
    expect(classifyLogKey(`_delta_log/${v(10)}.checkpoint.parquet`)).toEqual({
      type: 'checkpoint',
      version: 10,
      kind: 'classic',
      format: 'parquet',
    });
  });

  it('recognizes the parts of a multi-part checkpoint (1-based part, part count)', () => {
    expect(classifyLogKey(`_delta_log/${v(10)}.checkpoint.0000000002.0000000003.parquet`)).toEqual({
      type: 'checkpoint',
      version: 10,
      kind: 'multipart',
      part: 2,
      parts: 3,
      format: 'parquet',
    });
  });

  it('recognizes V2 checkpoints in both formats, any UUID case', () => {
    expect(classifyLogKey(`_delta_log/${v(7)}.checkpoint.${UUID}.json`)).toEqual({
      type: 'checkpoint',
      version: 7,
      kind: 'v2',
      format: 'json',
    });
    expect(classifyLogKey(`_delta_log/${v(7)}.checkpoint.${UUID.toUpperCase()}.parquet`)).toEqual({
      type: 'checkpoint',
      version: 7,
      kind: 'v2',
      format: 'parquet',
    });
  });

  it.each([
    // not part of the version sequence
    `_delta_log/${v(3)}.crc`,
    `_delta_log/.${v(3)}.json.crc`,
    `_delta_log/.${v(3)}.checkpoint.parquet.crc`,
    '_delta_log/_last_checkpoint',
    `_delta_log/${v(3)}.${v(5)}.compacted.json`,
    `_delta_log/_sidecars/${UUID}.parquet`,
    `_delta_log/_staged_commits/${v(3)}.${UUID}.json`,
    `_delta_log/_commits/${v(3)}.json`,
    // malformed names
    `_delta_log/${'1'.padStart(19, '0')}.json`,
    `_delta_log/${'1'.padStart(21, '0')}.json`,
    `_delta_log/${v(3)}.json.tmp`,
    `_delta_log/${v(3)}.checkpoint.1.2.parquet`,
    `_delta_log/${v(3)}.checkpoint.not-a-uuid.parquet`,
    `_delta_log/${v(3)}.checkpoint.${UUID}.avro`,
    `_delta_log/${v(3)}.checkpoint.json`,
    // outside the log
    `${v(3)}.json`,
    `other/_delta_log/${v(3)}.json`,
    `part-00000-${UUID}.snappy.parquet`,
  ])('classifies %s as other', (key) => {
    expect(classifyLogKey(key)).toEqual({ type: 'other' });
  });
});

describe('key builders', () => {
  it('pads versions to 20 digits', () => {
    expect(versionPrefix(0)).toBe('00000000000000000000');
    expect(versionPrefix(42)).toBe('00000000000000000042');
    expect(versionPrefix(Number.MAX_SAFE_INTEGER)).toBe('00009007199254740991');
  });

  it('builds keys that classify back to the same version', () => {
    for (const n of [0, 1, 9, 10, 99, 123456789]) {
      expect(commitKey(n)).toBe(`${LOG_DIR}${v(n)}.json`);
      expect(classifyLogKey(commitKey(n))).toEqual({ type: 'commit', version: n });
      expect(classifyLogKey(classicCheckpointKey(n))).toMatchObject({ version: n, kind: 'classic' });
    }
  });

  it('keeps the special keys inside the log folder', () => {
    expect(LAST_CHECKPOINT_KEY.startsWith(LOG_DIR)).toBe(true);
    expect(SIDECAR_DIR.startsWith(LOG_DIR)).toBe(true);
    expect(classifyLogKey(LAST_CHECKPOINT_KEY)).toEqual({ type: 'other' });
  });
});
