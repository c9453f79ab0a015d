import { appendFileSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { buildBatch } from '../__fixtures__/batches.js';
import { LogPersistence } from './persistence.js';
import { setBaseOffset } from './record-batch.js';

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'weir-kb-persist-'));
  dirs.push(d);
  return d;
}
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function batchAt(offset: number, n: number): Buffer {
  const b = buildBatch({ records: Array.from({ length: n }, (_, i) => ({ value: String(i) })) });
  setBaseOffset(b, offset);
  return b;
}

describe('LogPersistence', () => {
  it('round-trips topics, batches and the latest committed offsets', () => {
    const dir = tempDir();
    const p = new LogPersistence(dir);
    p.createTopic('t', 2, { 'retention.ms': '-1' });
    p.append('t', 0, [batchAt(0, 2), batchAt(2, 3)]);
    p.append('t', 1, [batchAt(0, 1)]);
    p.appendOffsets([{ group: 'g', topic: 't', partition: 0, offset: 1, metadata: null, timestamp: 1 }]);
    p.appendOffsets([{ group: 'g', topic: 't', partition: 0, offset: 4, metadata: 'm', timestamp: 2 }]);
    p.close();

    const q = new LogPersistence(dir);
    const [topic] = q.loadTopics();
    expect(topic!.name).toBe('t');
    expect(topic!.configs).toEqual({ 'retention.ms': '-1' });
    expect(topic!.partitions[0]!.batches.map((b) => [b.baseOffset, b.lastOffsetDelta])).toEqual([
      [0, 1],
      [2, 2],
    ]);
    expect(topic!.partitions[1]!.batches).toHaveLength(1);
    expect(q.loadOffsets()).toEqual([
      { group: 'g', topic: 't', partition: 0, offset: 4, metadata: 'm', timestamp: 2 },
    ]);
    // The offsets file was compacted to one line.
    expect(readFileSync(path.join(dir, 'offsets.jsonl'), 'utf8').trim().split('\n')).toHaveLength(1);
    q.close();
  });

  it('cuts a torn tail and drops batches below the log start offset', () => {
    const dir = tempDir();
    const p = new LogPersistence(dir);
    p.createTopic('t', 1, {});
    p.append('t', 0, [batchAt(0, 2), batchAt(2, 2), batchAt(4, 2)]);
    p.setLogStartOffset('t', 0, 2);
    p.close();
    appendFileSync(path.join(dir, 'topics', 't', '0.log'), Buffer.alloc(20, 7));
    const [topic] = new LogPersistence(dir).loadTopics();
    expect(topic!.partitions[0]!.logStartOffset).toBe(2);
    expect(topic!.partitions[0]!.batches.map((b) => b.baseOffset)).toEqual([2, 4]);
    const again = new LogPersistence(dir).loadTopics();
    expect(again[0]!.partitions[0]!.truncatedBytes).toBe(0);
  });

  it('deletes a topic, its files and its committed offsets (a later topic of that name has none)', () => {
    const dir = tempDir();
    const p = new LogPersistence(dir);
    p.createTopic('gone', 1, {});
    p.createTopic('kept', 1, {});
    p.append('gone', 0, [batchAt(0, 1)]);
    const commit = (topic: string, offset: number) => ({
      group: 'g',
      topic,
      partition: 0,
      offset,
      metadata: null,
      timestamp: offset,
    });
    p.appendOffsets([commit('gone', 1), commit('kept', 1)]);
    p.deleteTopic('gone');
    expect(p.loadTopics().map((t) => t.name)).toEqual(['kept']);
    p.createTopic('gone', 1, {});
    p.appendOffsets([commit('gone', 7)]);
    p.close();
    const q = new LogPersistence(dir);
    expect(q.loadOffsets()).toEqual([commit('kept', 1), commit('gone', 7)]);
    q.close();
    const r = new LogPersistence(dir);
    r.deleteTopic('gone');
    r.close();
    expect(new LogPersistence(dir).loadOffsets()).toEqual([commit('kept', 1)]);
  });
});
