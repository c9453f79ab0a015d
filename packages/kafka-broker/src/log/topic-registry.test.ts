import { describe, expect, it } from 'vitest';
import { retentionFromConfigs, TopicRegistry, topicNameProblem } from './topic-registry.js';

describe('topics', () => {
  it('validates names like Kafka', () => {
    expect(topicNameProblem('orders.v1_x-y')).toBeNull();
    expect(topicNameProblem('')).toMatch(/empty/);
    expect(topicNameProblem('..')).toMatch(/not allowed/);
    expect(topicNameProblem('a b')).toMatch(/characters/);
    expect(topicNameProblem('x'.repeat(250))).toMatch(/249/);
  });

  it('reads retention configs over the broker defaults', () => {
    expect(retentionFromConfigs({}, { maxBytes: 10 })).toEqual({ maxBytes: 10 });
    expect(retentionFromConfigs({ 'retention.ms': '5000' }, {})).toEqual({ maxAgeMs: 5000 });
    expect(retentionFromConfigs({ 'retention.bytes': '-1' }, { maxBytes: 10 })).toEqual({});
    expect(retentionFromConfigs({ 'retention.ms': 'soon' }, {})).toMatch(/retention.ms/);
  });

  it('creates partitions 0..n-1 and deletes topics', () => {
    const r = new TopicRegistry();
    r.create('b', 3, {}, {});
    r.create('a', 1, {}, {}, [5]);
    expect(r.names()).toEqual(['a', 'b']);
    expect(r.get('b')!.partitions.map((p) => p.index)).toEqual([0, 1, 2]);
    expect(r.partition('a', 0)!.logStartOffset).toBe(5);
    expect(r.partition('a', 1)).toBeUndefined();
    expect(r.delete('a')?.name).toBe('a');
    expect(r.has('a')).toBe(false);
  });
});
