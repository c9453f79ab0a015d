import { MemoryStore } from '@weir/storage';
import { S3Store } from '@weir/storage-s3';
import { describe, expect, it } from 'vitest';
import { createContext, s3OptionsFromFlags } from './context.js';

const io = { stdout: process.stdout, stderr: process.stderr, isTTY: false };

describe('s3OptionsFromFlags', () => {
  it('maps every global --s3-* flag and leaves unset ones out', () => {
    expect(s3OptionsFromFlags({})).toEqual({});
    expect(
      s3OptionsFromFlags({
        s3Endpoint: 'http://127.0.0.1:9000',
        s3Region: 'eu-west-1',
        s3Profile: 'dev',
        s3PathStyle: true,
        s3UnsafeSingleWriter: true,
      }),
    ).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      region: 'eu-west-1',
      profile: 'dev',
      forcePathStyle: true,
      conditionalWrites: 'single-writer-unsafe',
    });
  });
});

describe('createContext', () => {
  it('resolves s3:// and s3a:// to S3Stores carrying the flags; paths and memory:// as before', () => {
    const saved = { ...process.env };
    try {
      process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:1';
      process.env.AWS_REGION = 'us-west-2';
      const ctx = createContext(io, () => ({ s3UnsafeSingleWriter: true }));
      const s3 = ctx.openStore('s3://lake/tables/events');
      expect(s3).toBeInstanceOf(S3Store);
      expect((s3 as S3Store).root).toBe('s3://lake/tables/events');
      expect((s3 as S3Store).settings.conditionalWrites).toBe('single-writer-unsafe');
      const s3a = ctx.openStore('s3a://lake/other');
      expect((s3a as S3Store).bucket).toBe('lake');
      expect(ctx.openStore('memory://x')).toBeInstanceOf(MemoryStore);
      expect(ctx.openStore('/tmp/some/table').root).toContain('/tmp/some/table');
      (s3 as S3Store).destroy();
    } finally {
      process.env = saved;
    }
  });

  it('creates no S3 client until an s3:// table is opened', () => {
    let asked = 0;
    const ctx = createContext(io, () => {
      asked++;
      return {};
    });
    ctx.openStore('memory://y');
    expect(asked).toBe(0);
  });
});
