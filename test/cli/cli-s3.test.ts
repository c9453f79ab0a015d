/**
 * The CLI on s3:// tables against a real S3 server (radosgw): create, write, scan, describe,
 * history, files and checkpoint all name the table by URI; the endpoint comes from the global
 * `--s3-endpoint` flag (before or after the command) and credentials from the standard AWS
 * environment. Errors never print credentials.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describeS3, useRgwBucket } from '@weir/storage-s3/testing';
import { afterAll, expect, it } from 'vitest';
import { parseNdjson, runCli } from '../support/cli.js';

describeS3('weir on s3:// tables', () => {
  const rgw = useRgwBucket();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'weir-cli-s3-'));
  afterAll(() => rmSync(tmp, { recursive: true, force: true }));

  function withEnv<T>(fn: () => Promise<T>): Promise<T> {
    const c = rgw.connection;
    const saved = { ...process.env };
    process.env.AWS_ACCESS_KEY_ID = c.accessKeyId;
    process.env.AWS_SECRET_ACCESS_KEY = c.secretAccessKey;
    process.env.AWS_REGION = 'us-east-1';
    delete process.env.AWS_ENDPOINT_URL;
    return fn().finally(() => {
      process.env = saved;
    });
  }

  it('create, write, scan, describe, history, files, checkpoint', async () => {
    await withEnv(async () => {
      const endpoint = rgw.connection.endpoint;
      const table = `s3://${rgw.bucket}/tables/events`;
      const input = path.join(tmp, 'events.ndjson');
      writeFileSync(
        input,
        Array.from({ length: 50 }, (_, i) =>
          JSON.stringify({ id: i, country: i % 2 ? 'DE' : 'FR', amount: `${i}.50` }),
        ).join('\n'),
      );
      const created = await runCli([
        '--s3-endpoint',
        endpoint,
        'create',
        table,
        '--schema',
        'id BIGINT, country STRING, amount DECIMAL(10,2)',
        '--partition-by',
        'country',
      ]);
      expect(created.stderr).toBe('');
      expect(created.code).toBe(0);
      const wrote = await runCli(['write', table, '--input', input, '--s3-endpoint', endpoint]);
      expect(wrote.stderr).toBe('');
      expect(wrote.code).toBe(0);
      const scan = await runCli(['scan', table, '--where', "country = 'DE'", '--s3-endpoint', endpoint]);
      expect(scan.code).toBe(0);
      const rows = parseNdjson(scan.stdout);
      expect(rows).toHaveLength(25);
      expect(rows.every((r) => r.country === 'DE')).toBe(true);
      const d = JSON.parse((await runCli(['describe', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(d).toMatchObject({ version: 1, numRecords: 50, partitionColumns: ['country'] });
      const h = JSON.parse((await runCli(['history', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(h.map((e: { version: number }) => e.version)).toEqual([1, 0]);
      const files = JSON.parse((await runCli(['files', table, '--json', '--s3-endpoint', endpoint])).stdout);
      expect(files).toHaveLength(2);
      const cp = await runCli(['checkpoint', table, '--s3-endpoint', endpoint]);
      expect(cp.code).toBe(0);
      const again = await runCli(['scan', table, '--s3-endpoint', endpoint]);
      expect(parseNdjson(again.stdout)).toHaveLength(50);
    });
  });

  it('a wrong secret is one clear line without the secret', async () => {
    await withEnv(async () => {
      process.env.AWS_SECRET_ACCESS_KEY = 'definitely-wrong-secret-value';
      const r = await runCli([
        '--s3-endpoint',
        rgw.connection.endpoint,
        'describe',
        `s3://${rgw.bucket}/tables/events`,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).not.toContain('definitely-wrong-secret-value');
      expect(r.stderr).not.toContain(rgw.connection.accessKeyId);
    });
  });
});
