import { describe, expect, it } from 'vitest';
import { BrokerError, isBrokerError } from './errors.js';
import { jsonLinesLogger, silentLogger } from './logger.js';

describe('logging and errors', () => {
  it('writes one JSON object per line at or above the minimum level', () => {
    const lines: string[] = [];
    const log = jsonLinesLogger((l) => lines.push(l), 'info');
    log.log('debug', 'hidden');
    log.log('warn', 'retention.deleted', { topic: 't', big: 10n });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.endsWith('\n')).toBe(true);
    const e = JSON.parse(lines[0]!);
    expect(Object.keys(e).slice(0, 3)).toEqual(['ts', 'level', 'event']);
    expect(e).toMatchObject({ level: 'warn', event: 'retention.deleted', topic: 't', big: '10' });
  });

  it('never throws from a failing sink, and the silent logger prints nothing', () => {
    const log = jsonLinesLogger(() => {
      throw new Error('disk full');
    });
    expect(() => log.log('error', 'x')).not.toThrow();
    expect(() => silentLogger.log('error', 'x')).not.toThrow();
  });

  it('has typed errors with a code and a retryable flag', () => {
    const err = new BrokerError('LISTEN_FAILED', 'port taken', { retryable: true, details: { port: 9092 } });
    expect(isBrokerError(err, 'LISTEN_FAILED')).toBe(true);
    expect(isBrokerError(err, 'OTHER')).toBe(false);
    expect(err).toMatchObject({ retryable: true, details: { port: 9092 } });
  });
});
