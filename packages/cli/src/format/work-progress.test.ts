import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../context.js';
import { createWorkProgressBar, formatByteRate } from './work-progress.js';

function terminal(isTTY: boolean): { io: CliIo; output: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 160 });
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  return {
    io: { stdout: new PassThrough(), stderr, isTTY },
    output: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('createWorkProgressBar', () => {
  it('draws nothing when not on a terminal', () => {
    const t = terminal(false);
    expect(createWorkProgressBar(t.io, { label: 'optimize', totalFiles: 3, totalBytes: 10 })).toBeUndefined();
    expect(t.output()).toBe('');
  });

  it('on a terminal shows files and bytes done, the byte rate and ETA, then clears its line', () => {
    let now = 0;
    const t = terminal(true);
    const bar = createWorkProgressBar(t.io, {
      label: 'optimize',
      totalFiles: 5000,
      totalBytes: 4 * 1024 * 1024,
      now: () => now,
    });
    expect(bar).toBeDefined();
    now = 2000;
    bar!.update({ files: 2500, bytes: 2 * 1024 * 1024 });
    bar!.stop();
    bar!.stop();
    const out = t.output();
    expect(out).toContain('optimize [');
    expect(out).toContain('50%');
    expect(out).toContain('2,500 / 5,000 files');
    expect(out).toContain('2.00 MiB / 4.00 MiB');
    expect(out).toContain('1.00 MiB/s');
    expect(out).toContain('ETA');
    expect(out.endsWith('\u001b[2K')).toBe(true);
  });

  it('formats byte rates', () => {
    expect(formatByteRate(0, 0)).toBe('0 B/s');
    expect(formatByteRate(3 * 1024 * 1024, 1000)).toBe('3.00 MiB/s');
  });
});
