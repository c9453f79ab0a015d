import type { ObjectMeta } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import { expiredLogCleanupEnabled, logEntryVersion, logRetentionMs, planLogCleanup } from './log-cleanup.js';

const DAY = 86_400_000;
const NOW = 1_000 * DAY;
const v = (n: number) => String(n).padStart(20, '0');
const entry = (name: string, lastModified: number, size = 10): ObjectMeta => ({
  key: `_delta_log/${name}`,
  size,
  lastModified,
});
const sortKeys = (entries: ObjectMeta[]) =>
  entries.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));

/** Commits 0..n-1, one a day ending today; classic checkpoints at the given versions. */
function log(n: number, checkpoints: number[], extra: ObjectMeta[] = []): ObjectMeta[] {
  const time = (version: number) => NOW - (n - 1 - version) * DAY;
  const out: ObjectMeta[] = [];
  for (let i = 0; i < n; i++) {
    out.push(entry(`${v(i)}.json`, time(i)));
    out.push(entry(`${v(i)}.crc`, time(i)));
    out.push(entry(`.${v(i)}.json.crc`, time(i)));
  }
  for (const c of checkpoints) out.push(entry(`${v(c)}.checkpoint.parquet`, time(c) + 1000));
  out.push(entry('_last_checkpoint', NOW));
  return sortKeys([...out, ...extra]);
}

const keysOf = (entries: readonly ObjectMeta[]) => entries.map((e) => e.key.slice('_delta_log/'.length));

describe('planLogCleanup', () => {
  it('deletes everything below the newest checkpoint at or before the version current at the cutoff', () => {
    // 60 daily commits (versions 0..59, version 59 today), checkpoints every 10; 30 days retention:
    // version 29 was current at the cutoff, so checkpoint 20 is kept and everything < 20 goes.
    const plan = planLogCleanup(log(60, [10, 20, 30, 40, 50]), {
      table: 't',
      now: NOW,
      retentionMs: 30 * DAY,
    });
    expect(plan.versionAtCutoff).toBe(29);
    expect(plan.checkpointVersion).toBe(20);
    const deleted = keysOf(plan.deletions);
    expect(deleted).toHaveLength(20 * 3 + 1);
    expect(deleted).toContain(`${v(10)}.checkpoint.parquet`);
    expect(deleted).toContain(`.${v(0)}.json.crc`);
    expect(deleted).not.toContain(`${v(20)}.json`);
    expect(deleted).not.toContain(`${v(20)}.checkpoint.parquet`);
    expect(deleted).not.toContain('_last_checkpoint');
    // Oldest first.
    expect(deleted.slice(0, 3).every((k) => k.includes(v(0)))).toBe(true);
    expect(plan.deletesV2Checkpoint).toBe(false);
  });

  it('deletes nothing without a checkpoint at or below the version current at the cutoff', () => {
    expect(
      planLogCleanup(log(60, [40, 50]), { table: 't', now: NOW, retentionMs: 30 * DAY }).deletions,
    ).toEqual([]);
    // Nothing older than the cutoff at all.
    const young = planLogCleanup(log(10, [5]), { table: 't', now: NOW, retentionMs: 30 * DAY });
    expect(young.versionAtCutoff).toBeUndefined();
    expect(young.deletions).toEqual([]);
  });

  it('keeps the latest checkpoint when the whole log has expired', () => {
    const plan = planLogCleanup(log(25, [10, 20]), {
      table: 't',
      now: NOW + 100 * DAY,
      retentionMs: 30 * DAY,
    });
    expect(plan.checkpointVersion).toBe(20);
    expect(keysOf(plan.deletions)).not.toContain(`${v(20)}.json`);
    expect(keysOf(plan.deletions)).toContain(`${v(19)}.json`);
  });

  it('uses monotonic commit times (a commit with an older mtime counts as after its predecessor)', () => {
    const entries = log(40, [10, 20]);
    // Version 12's file claims to be very old; it still cannot be older than version 11.
    const e12 = entries.find((e) => e.key.endsWith(`${v(12)}.json`))!;
    e12.lastModified = 0;
    const plan = planLogCleanup(entries, { table: 't', now: NOW, retentionMs: 25 * DAY });
    expect(plan.versionAtCutoff).toBe(14);
    expect(plan.checkpointVersion).toBe(10);
  });

  it('handles multi-part, V2 and incomplete checkpoints, compacted logs and unknown files', () => {
    const old = NOW - 100 * DAY;
    const extra = [
      entry(`${v(3)}.checkpoint.0000000001.0000000002.parquet`, old),
      entry(`${v(3)}.checkpoint.0000000002.0000000002.parquet`, old),
      entry(`${v(4)}.checkpoint.0000000001.0000000002.parquet`, old), // incomplete
      entry(`${v(2)}.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json`, old),
      entry(`${v(1)}.${v(4)}.compacted.json`, old),
      entry(`${v(1)}.${v(7)}.compacted.json`, old),
      entry('_sidecars/016ae953-37a9-438e-8683-9a9a4a79a395.parquet', old),
      entry('_staged_commits/x.json', old),
    ];
    const entries = log(8, [], extra).map((e) => ({ ...e, lastModified: Math.min(e.lastModified, old) }));
    const plan = planLogCleanup(entries, { table: 't', now: NOW, retentionMs: DAY });
    expect(plan.checkpointVersion).toBe(3);
    const deleted = keysOf(plan.deletions);
    expect(deleted).toContain(`${v(2)}.checkpoint.80a083e8-7026-4e79-81be-64bd76c43a11.json`);
    expect(deleted).not.toContain(`${v(3)}.checkpoint.0000000001.0000000002.parquet`);
    expect(deleted).not.toContain(`${v(4)}.checkpoint.0000000001.0000000002.parquet`);
    expect(deleted).not.toContain(`${v(1)}.${v(4)}.compacted.json`);
    expect(deleted).not.toContain(`${v(1)}.${v(7)}.compacted.json`);
    expect(deleted.some((k) => k.startsWith('_'))).toBe(false);
    expect(plan.deletesV2Checkpoint).toBe(true);
  });
});

describe('log cleanup settings', () => {
  it('reads delta.logRetentionDuration (default 30 days) and delta.enableExpiredLogCleanup (default true)', () => {
    expect(logRetentionMs({}, 't')).toBe(30 * DAY);
    expect(logRetentionMs({ 'delta.logRetentionDuration': 'interval 2 days' }, 't')).toBe(2 * DAY);
    expect(() => logRetentionMs({ 'delta.logRetentionDuration': 'soon' }, 't')).toThrow(
      expect.objectContaining({ code: 'INVALID_TABLE_PROPERTY' }),
    );
    expect(expiredLogCleanupEnabled({})).toBe(true);
    expect(expiredLogCleanupEnabled({ 'delta.enableExpiredLogCleanup': 'false' })).toBe(false);
    expect(expiredLogCleanupEnabled({ 'delta.enableExpiredLogCleanup': 'TRUE' })).toBe(true);
  });

  it('logEntryVersion names the version of log entries, and nothing else', () => {
    expect(logEntryVersion(`_delta_log/${v(7)}.json`)).toBe(7);
    expect(logEntryVersion(`_delta_log/.${v(7)}.json.crc`)).toBe(7);
    expect(logEntryVersion(`_delta_log/${v(1)}.${v(9)}.compacted.json`)).toBe(9);
    expect(logEntryVersion('_delta_log/_last_checkpoint')).toBeUndefined();
    expect(logEntryVersion(`_delta_log/_sidecars/${v(1)}.parquet`)).toBeUndefined();
    expect(logEntryVersion(`data/${v(1)}.json`)).toBeUndefined();
  });
});
