import { WeirError } from '@weir/storage';
import { describe, expect, it } from 'vitest';
import type { S3StoreOptions } from './config.js';
import {
  createS3Client,
  DEFAULT_CONCURRENCY,
  DEFAULT_PART_SIZE,
  describeS3Options,
  MiB,
  mergeS3Options,
  normalizePrefix,
  redactSecrets,
  resolveS3Options,
  s3OptionsFromEnv,
  secretsOf,
} from './config.js';

const SECRET = 'sEcReT/with+chars=0123456789abcdef';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof WeirError ? err.code : 'not-a-weir-error';
  }
  return undefined;
}

describe('resolveS3Options', () => {
  it('applies defaults', () => {
    const resolved = resolveS3Options({ bucket: 'b' });
    expect(resolved).toMatchObject({
      bucket: 'b',
      prefix: '',
      partSize: DEFAULT_PART_SIZE,
      concurrency: DEFAULT_CONCURRENCY,
      conditionalWrites: 'required',
      verifyConditionalWrites: true,
      retry: { maxAttempts: 8, baseDelayMs: 50, maxDelayMs: 5000 },
    });
    expect(resolveS3Options({ bucket: 'b', verifyConditionalWrites: false }).verifyConditionalWrites).toBe(
      false,
    );
  });

  it('normalizes the prefix', () => {
    expect(resolveS3Options({ bucket: 'b', prefix: '/tables/t1/' }).prefix).toBe('tables/t1');
    expect(normalizePrefix(undefined)).toBe('');
    expect(normalizePrefix('///')).toBe('');
    expect(codeOf(() => normalizePrefix('a//b'))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => normalizePrefix('a/../b'))).toBe('INVALID_ARGUMENT');
  });

  it('rejects bad values with INVALID_ARGUMENT naming the option', () => {
    expect(codeOf(() => resolveS3Options({ bucket: '' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveS3Options({ bucket: 'a/b' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveS3Options({ bucket: 'b', partSize: 4 * MiB }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveS3Options({ bucket: 'b', concurrency: 0 }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => resolveS3Options({ bucket: 'b', maxAttempts: 1.5 }))).toBe('INVALID_ARGUMENT');
    expect(
      codeOf(() => resolveS3Options({ bucket: 'b', conditionalWrites: 'maybe' as unknown as 'required' })),
    ).toBe('INVALID_ARGUMENT');
    try {
      resolveS3Options({ bucket: 'b', partSize: 1 });
    } catch (err) {
      expect((err as WeirError).details.option).toBe('partSize');
    }
  });
});

describe('s3OptionsFromEnv', () => {
  it('reads the AWS variables, service-specific endpoint first', () => {
    expect(
      s3OptionsFromEnv({
        AWS_ENDPOINT_URL: 'http://generic:1',
        AWS_ENDPOINT_URL_S3: 'http://s3-specific:2',
        AWS_DEFAULT_REGION: 'eu-west-1',
        AWS_REGION: 'eu-central-1',
        AWS_PROFILE: 'dev',
        AWS_S3_FORCE_PATH_STYLE: 'true',
        AWS_MAX_ATTEMPTS: '3',
        AWS_ACCESS_KEY_ID: 'AKID',
        AWS_SECRET_ACCESS_KEY: SECRET,
        AWS_SESSION_TOKEN: 'token-value',
      }),
    ).toEqual({
      endpoint: 'http://s3-specific:2',
      region: 'eu-central-1',
      profile: 'dev',
      forcePathStyle: true,
      maxAttempts: 3,
      credentials: { accessKeyId: 'AKID', secretAccessKey: SECRET, sessionToken: 'token-value' },
    });
  });

  it('falls back to AWS_ENDPOINT_URL and AWS_DEFAULT_REGION, and leaves the rest to the SDK chain', () => {
    expect(s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://x:1', AWS_DEFAULT_REGION: 'ap-south-1' })).toEqual({
      endpoint: 'http://x:1',
      region: 'ap-south-1',
    });
    expect(s3OptionsFromEnv({})).toEqual({});
    // A key id alone is not credentials: the default chain decides.
    expect(s3OptionsFromEnv({ AWS_ACCESS_KEY_ID: 'AKID' })).toEqual({});
    expect(s3OptionsFromEnv({ AWS_S3_FORCE_PATH_STYLE: 'false' })).toEqual({ forcePathStyle: false });
  });

  it('rejects malformed values without echoing secrets', () => {
    expect(codeOf(() => s3OptionsFromEnv({ AWS_S3_FORCE_PATH_STYLE: 'perhaps' }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => s3OptionsFromEnv({ AWS_MAX_ATTEMPTS: '0' }))).toBe('INVALID_ARGUMENT');
  });
});

describe('mergeS3Options', () => {
  it('layers env < flags < code, ignoring undefined', () => {
    const env = s3OptionsFromEnv({ AWS_ENDPOINT_URL: 'http://env:1', AWS_REGION: 'env-region' });
    // An undefined layer value must not override a lower layer (the CLI passes unset flags so).
    const flags = {
      endpoint: 'http://flag:2',
      region: undefined,
      retry: { baseDelayMs: 1 },
    } as unknown as Partial<S3StoreOptions>;
    const code = { bucket: 'b', retry: { maxDelayMs: 9 } };
    expect(mergeS3Options(env, flags, undefined, code)).toEqual({
      endpoint: 'http://flag:2',
      region: 'env-region',
      bucket: 'b',
      retry: { baseDelayMs: 1, maxDelayMs: 9 },
    });
  });
});

describe('secrets', () => {
  it('redacts static secrets, session tokens and URL passwords', () => {
    const options = {
      credentials: { accessKeyId: 'AKID', secretAccessKey: SECRET, sessionToken: 'session-token-123' },
      endpoint: 'http://user:p%40ss-word@host:9000',
    };
    const secrets = secretsOf(options);
    expect(secrets).toContain(SECRET);
    const text = `a ${SECRET} b session-token-123 c http://user:p%40ss-word@host:9000/x`;
    const redacted = redactSecrets(text, secrets);
    expect(redacted).not.toContain(SECRET);
    expect(redacted).not.toContain('session-token-123');
    expect(redacted).not.toContain('p%40ss-word');
    expect(redacted).toContain('http://user:***@host:9000/x');
  });

  it('describes options without secrets', () => {
    const line = describeS3Options({
      bucket: 'b',
      prefix: 'p/',
      endpoint: 'http://u:pw-secret@h:1',
      region: 'r',
      credentials: { accessKeyId: 'AKID', secretAccessKey: SECRET },
    });
    expect(line).toBe('s3://b/p endpoint=http://u:***@h:1 region=r credentials=static');
    expect(line).not.toContain(SECRET);
    expect(describeS3Options({ bucket: 'b' })).toBe('s3://b credentials=default-chain');
  });

  it('rejects a bad endpoint without echoing its password', () => {
    try {
      createS3Client({ endpoint: 'ftp://u:hunter2-secret@h' });
      expect.unreachable();
    } catch (err) {
      expect((err as WeirError).code).toBe('INVALID_ARGUMENT');
      expect((err as WeirError).message).not.toContain('hunter2-secret');
      expect(JSON.stringify((err as WeirError).details)).not.toContain('hunter2-secret');
    }
  });
});
