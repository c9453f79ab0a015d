import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import type { CliIo } from '../context.js';
import { createProgressBar, formatRate } from './progress.js';

function terminal(isTTY: boolean): { io: CliIo; output: () => string } {
  const stderr = Object.assign(new PassThrough(), { isTTY, columns: 160 });
  const chunks: Buffer[] = [];
  stderr.on('data', (c: Buffer) => chunks.push(c));
  return {
    io: { stdout: new PassThrough(), stderr, isTTY },
    output: () => Buffer.concat(chunks).toString('utf8'),
  };
}

describe('createProgressBar', () => {
  it('draws nothing when not on a terminal', () => {
    const t = terminal(false);
    expect(createProgressBar(t.io, { label: 'in.ndjson', totalBytes: 1000 })).toBeUndefined();
    expect(t.output()).toBe('');
  });

  it('on a terminal shows bytes read, rows and rows/s, then clears its line', () => {
    let now = 0;
    const t = terminal(true);
    const bar = createProgressBar(t.io, { label: 'in.ndjson', totalBytes: 2048, now: () => now });
    expect(bar).toBeDefined();
    expect(t.output()).toContain('in.ndjson');
    expect(t.output()).toContain('0%');
    now = 2000;
    bar!.update({ bytes: 1024, rows: 50_000 });
    bar!.stop();
    bar!.stop(); // idempotent
    const out = t.output();
    expect(out).toContain('50%');
    expect(out).toContain('1.00 KiB / 2.00 KiB');
    expect(out).toContain('50,000 rows');
    expect(out).toContain('25k rows/s');
    // clearOnComplete: the last thing written erases the bar's line.
    expect(out.endsWith('\u001b[2K')).toBe(true);
  });

  it('formats rates', () => {
    expect(formatRate(0, 0)).toBe('0');
    expect(formatRate(500, 1000)).toBe('500');
    expect(formatRate(2_500_000, 1000)).toBe('2.5M');
  });
});
