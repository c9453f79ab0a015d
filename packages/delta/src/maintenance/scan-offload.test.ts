import { getPriority } from 'node:os';
import { describe, expect, it } from 'vitest';
import { BACKGROUND_NICENESS, backgroundOffload, ScanOffload } from './scan-offload.js';

describe('compaction offload workers', () => {
  it('the background worker runs at a lowered priority, one per process; the process keeps its own', async () => {
    const before = getPriority();
    const bg = await backgroundOffload();
    expect(bg).toBeDefined();
    expect(bg!.priority).toBe(Math.min(19, before + BACKGROUND_NICENESS));
    expect(getPriority()).toBe(before);
    expect(await backgroundOffload()).toBe(bg);
  });

  it('a plain offload worker keeps the normal priority; a closed one reports failed (so the next job starts another)', async () => {
    const plain = await ScanOffload.start();
    expect(plain!.priority).toBeUndefined();
    await plain!.close();
    expect(plain!.failed).toBe(true);
  });
});
